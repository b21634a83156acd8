// A fresh PostgreSQL database for one benchmark run, dropped afterwards.
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const DEFAULT_PG_ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

export interface FreshPg {
  url: string;
  name: string;
  drop(): Promise<void>;
}

async function admin(adminUrl: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
  } catch (err) {
    await client.end().catch(() => {});
    throw new Error(`PostgreSQL is unreachable at ${new URL(adminUrl).host} (${(err as Error).message}); set HUB_BENCH_PG_URL`, {
      cause: err,
    });
  }
  return client;
}

export async function freshPg(adminUrl = process.env.HUB_BENCH_PG_URL ?? DEFAULT_PG_ADMIN_URL): Promise<FreshPg> {
  const name = `hub_bench_${randomBytes(6).toString('hex')}`;
  const c = await admin(adminUrl);
  try {
    await c.query(`CREATE DATABASE ${name}`);
  } finally {
    await c.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  let dropped = false;
  return {
    url: url.toString(),
    name,
    async drop() {
      if (dropped) return;
      dropped = true;
      const d = await admin(adminUrl);
      try {
        await d.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await d.end();
      }
    },
  };
}

/** Durability-relevant server settings, recorded with the results. */
export async function pgSettings(url: string): Promise<Record<string, string>> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  await c.connect();
  try {
    const out: Record<string, string> = {};
    for (const name of ['server_version', 'fsync', 'synchronous_commit', 'wal_sync_method', 'commit_delay']) {
      const r = await c.query<{ setting: string }>('select setting from pg_settings where name = $1', [name]);
      out[name] = r.rows[0]?.setting ?? '?';
    }
    return out;
  } finally {
    await c.end();
  }
}
