// Fresh, isolated databases for store tests: a temporary SQLite file or a new PostgreSQL database.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import { openStore, type Store } from '../../src/store/store.js';

export const STORE_KINDS = ['sqlite', 'postgres'] as const;
export type StoreKind = (typeof STORE_KINDS)[number];

export interface FreshDatabase {
  url: string;
  drop: () => Promise<void>;
}

const DEFAULT_PG_URL = 'postgres://postgres@127.0.0.1:5432/test';

/** The URL without its password, for error messages. */
function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '<unparseable URL>';
  }
}

async function adminClient(adminUrl: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
  } catch (err) {
    await client.end().catch(() => {});
    throw new Error(
      `PostgreSQL is unreachable at ${redact(adminUrl)} (${(err as Error).message}). ` +
        'The store tests need it: start it (pg_ctlcluster --skip-systemctl-redirect <version> main start) ' +
        'or point HUB_TEST_PG_URL at a server where this user may CREATE DATABASE.',
      { cause: err },
    );
  }
  return client;
}

export async function freshDatabaseUrl(kind: StoreKind): Promise<FreshDatabase> {
  if (kind === 'sqlite') {
    const dir = await mkdtemp(join(tmpdir(), 'hub-store-'));
    return {
      url: `sqlite:${join(dir, 'hub.db')}`,
      drop: () => rm(dir, { recursive: true, force: true }),
    };
  }

  const adminUrl = process.env.HUB_TEST_PG_URL ?? DEFAULT_PG_URL;
  const name = `hub_t_${randomBytes(8).toString('hex')}`;
  const admin = await adminClient(adminUrl);
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const client = await adminClient(adminUrl);
      try {
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}

/**
 * Gives the enclosing suite a fresh store of the kind: opened before its tests (handed to
 * `use`), closed and dropped after them.
 */
export function useFreshStore(kind: StoreKind, use: (store: Store) => void): void {
  let store: Store | undefined;
  let drop: () => Promise<void> = async () => {};
  beforeAll(async () => {
    const fresh = await freshDatabaseUrl(kind);
    drop = fresh.drop;
    store = await openStore(fresh.url);
    use(store);
  });
  afterAll(async () => {
    await store?.close();
    await drop();
  });
}
