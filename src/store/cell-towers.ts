// The local cell-tower table: batched upserts for the importer, keyed lookups for the locator.
import { type Kysely, type Selectable, sql } from 'kysely';
import type { DialectName } from './db.js';
import type { CellTowersTable, Database } from './schema.js';

export type CellTowerRow = Selectable<CellTowersTable>;

/** A tower as a watch names it (any radio). */
export interface CellTowerKey {
  mcc: number;
  mnc: number;
  lac: number;
  cid: number;
}

export interface UpsertCounts {
  inserted: number;
  updated: number;
  /** Rows whose `updated_at` is older than the stored row's: the stored one is kept. */
  older: number;
}

/** 15 columns a row: 1000 rows stay under SQLite's 32766 and PostgreSQL's 65535 parameters. */
export const MAX_UPSERT_BATCH = 1000;
const MAX_FIND_KEYS = 256;

const KEY = ['mcc', 'net', 'area', 'cell', 'radio'] as const;

export class CellTowerRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: DialectName,
  ) {}

  /** Every stored radio's row for each key, in one query. */
  async find(keys: readonly CellTowerKey[]): Promise<CellTowerRow[]> {
    if (keys.length === 0) return [];
    if (keys.length > MAX_FIND_KEYS) throw new RangeError(`at most ${MAX_FIND_KEYS} keys a lookup`);
    const tuples = keys.map((k) => [k.mcc, k.mnc, k.lac, k.cid]);
    return this.db
      .selectFrom('cell_towers')
      .selectAll()
      .where(this.tupleIn(['mcc', 'net', 'area', 'cell'], tuples))
      .execute();
  }

  /**
   * Inserts new towers and replaces stored ones in one transaction, except where the stored row
   * is newer (an old diff file imported after a new dump). The caller dedupes the batch: one
   * statement may not touch a row twice in PostgreSQL.
   */
  async upsert(rows: readonly CellTowerRow[]): Promise<UpsertCounts> {
    if (rows.length === 0) return { inserted: 0, updated: 0, older: 0 };
    if (rows.length > MAX_UPSERT_BATCH) throw new RangeError(`at most ${MAX_UPSERT_BATCH} rows a batch`);
    return this.db.transaction().execute(async (tx) => {
      const stored = await tx
        .selectFrom('cell_towers')
        .select([...KEY, 'updated_at'])
        .where(
          this.tupleIn(
            [...KEY],
            rows.map((r) => KEY.map((k) => r[k])),
          ),
        )
        .execute();
      const storedAt = new Map(stored.map((s) => [keyOf(s), s.updated_at]));
      const fresh = rows.filter((r) => (storedAt.get(keyOf(r)) ?? -Infinity) <= r.updated_at);
      if (fresh.length > 0) {
        await tx
          .insertInto('cell_towers')
          .values(fresh)
          .onConflict((oc) =>
            oc
              .columns([...KEY])
              .doUpdateSet((eb) => ({
                lat: eb.ref('excluded.lat'),
                lng: eb.ref('excluded.lng'),
                range_m: eb.ref('excluded.range_m'),
                samples: eb.ref('excluded.samples'),
                changeable: eb.ref('excluded.changeable'),
                created_at: eb.ref('excluded.created_at'),
                updated_at: eb.ref('excluded.updated_at'),
                average_signal: eb.ref('excluded.average_signal'),
                imported_at: eb.ref('excluded.imported_at'),
              }))
              // Another import committing in between may have stored a newer row.
              .where('cell_towers.updated_at', '<=', (eb) => eb.ref('excluded.updated_at')),
          )
          .execute();
      }
      const updated = fresh.filter((r) => storedAt.has(keyOf(r))).length;
      return { inserted: fresh.length - updated, updated, older: rows.length - fresh.length };
    });
  }

  async count(): Promise<number> {
    const r = await this.db
      .selectFrom('cell_towers')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(r.n);
  }

  /**
   * `(a, b, …) IN (…)` on row values. SQLite wants a subquery on the right (VALUES); PostgreSQL
   * types a row list from the left-hand columns, where VALUES would leave parameters as text.
   * (A chain of ORs would hit SQLite's expression depth limit at a thousand rows.)
   */
  private tupleIn(columns: readonly string[], tuples: readonly (readonly (string | number)[])[]) {
    const lhs = sql.join(columns.map((c) => sql.ref(c)));
    const rows = sql.join(tuples.map((t) => sql`(${sql.join(t)})`));
    return this.dialect === 'sqlite' ? sql<boolean>`(${lhs}) IN (VALUES ${rows})` : sql<boolean>`(${lhs}) IN (${rows})`;
  }
}

function keyOf(r: Pick<CellTowerRow, (typeof KEY)[number]>): string {
  return `${r.mcc}:${r.net}:${r.area}:${r.cell}:${r.radio}`;
}
