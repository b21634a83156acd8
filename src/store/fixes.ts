import { type Expression, type ExpressionBuilder, type Kysely, type Selectable, type SqlBool, sql } from 'kysely';
import type { Database, FixObservationsTable, FixesTable } from './schema.js';

export type FixRow = Selectable<FixesTable>;
/** A fix with a position (every reader of positions: newest position, history, geofences). */
export type PositionedFixRow = FixRow & { lat: number; lng: number; acc: number; cell: string };
type Position = { lat: number; lng: number; acc: number; cell: string };

export const isPositioned = (r: FixRow): r is PositionedFixRow => r.lat !== null;

/** The cells and access points a fix was reported with (fix_observations). */
export type FixObservationRow = Selectable<FixObservationsTable>;

/**
 * The binding cut: the fixes of a watch's current binding (bound at `boundAt`) are those both
 * taken (ts) and received at or after it. Receipt alone is not enough: a watch that buffered
 * fixes while offline in its previous family uploads them after it is re-bound, and those
 * positions are the previous family's child's, not the new family's.
 */
export const inBinding =
  (boundAt: number) =>
  (eb: ExpressionBuilder<Database, 'fixes'>): Expression<SqlBool> =>
    // Qualified, so a query that joins fixes to another table with a ts column can use it too.
    eb.and([eb('fixes.ts', '>=', boundAt), eb('fixes.received_at', '>=', boundAt)]);

// Well under SQLite's and PostgreSQL's bound-parameter limits (12 columns a row).
const INSERT_CHUNK = 1000;

/**
 * Stores the observations of fixes written in the same transaction (or before); those of a fix
 * already stored are kept as they were, like the fix. Rows with neither cells nor Wi-Fi are skipped.
 */
export async function insertObservations(db: Kysely<Database>, rows: readonly FixObservationRow[]): Promise<void> {
  const kept = rows.filter((r) => r.cells !== null || r.wifi !== null);
  for (let i = 0; i < kept.length; i += INSERT_CHUNK) {
    await db
      .insertInto('fix_observations')
      .values(kept.slice(i, i + INSERT_CHUNK))
      .onConflict((oc) => oc.columns(['device_id', 'ts']).doNothing())
      .execute();
  }
}

/** A time range a family deleted from a watch's history (inclusive). */
export interface ErasedRange {
  from: number;
  to: number;
}

/** One binding period of the watch (see BindingPeriod in devices.ts); `to` null: it holds. */
export interface Period {
  from: number;
  to: number | null;
}

/**
 * The fixes of one binding period: taken (ts) and received within it, as `inBinding` cuts the
 * current one. A former family's period ends when it unbound the watch.
 */
export const inPeriod =
  (p: Period) =>
  (eb: ExpressionBuilder<Database, 'fixes'>): Expression<SqlBool> =>
    eb.and([
      eb('fixes.ts', '>=', p.from),
      eb('fixes.received_at', '>=', p.from),
      ...(p.to === null ? [] : [eb('fixes.ts', '<=', p.to), eb('fixes.received_at', '<=', p.to)]),
    ]);

export class FixRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /**
   * Inserts fixes and their observations in one transaction; a fix already stored (same watch
   * and ts) is kept as it was.
   */
  async insertMany(rows: readonly FixRow[], observations: readonly FixObservationRow[] = []): Promise<void> {
    if (rows.length === 0) return;
    await this.db.transaction().execute(async (tx) => {
      for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
        await tx
          .insertInto('fixes')
          .values(rows.slice(i, i + INSERT_CHUNK))
          .onConflict((oc) => oc.columns(['device_id', 'ts']).doNothing())
          .execute();
      }
      await insertObservations(tx, observations);
    });
  }

  /**
   * Gives a sign of life the position found for it later (by the outside provider): only the
   * row this report stored (same receipt), and only while it has none. False when the row is
   * gone (deleted meanwhile) or was located already.
   */
  async locate(deviceId: string, ts: number, receivedAt: number, p: Position & { source: string }): Promise<boolean> {
    const r = await this.db
      .updateTable('fixes')
      .set({ lat: p.lat, lng: p.lng, acc: p.acc, cell: p.cell, source: p.source })
      .where('device_id', '=', deviceId)
      .where('ts', '=', ts)
      .where('received_at', '=', receivedAt)
      .where('lat', 'is', null)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  /**
   * Positioned fixes with from ≤ ts ≤ to and ts > afterTs, oldest first (signs of life are not
   * part of a track). `boundAt` hides what belongs to the watch's time before its current
   * binding (see `inBinding`): a family never sees its previous family's data.
   */
  history(
    deviceId: string,
    from: number,
    to: number,
    afterTs: number | undefined,
    limit: number,
    boundAt = 0,
  ): Promise<PositionedFixRow[]> {
    return this.db
      .selectFrom('fixes')
      .selectAll()
      .where('device_id', '=', deviceId)
      .where(inBinding(boundAt))
      .where('ts', '>=', from)
      .where('ts', '<=', to)
      .where('lat', 'is not', null)
      .$if(afterTs !== undefined, (q) => q.where('ts', '>', afterTs!))
      .orderBy('ts')
      .limit(limit)
      .$narrowType<Position>()
      .execute();
  }

  /**
   * Deletes the watch's fixes with from ≤ ts ≤ to within the given binding periods (a family's
   * own), with their cells and access points (cascade); returns how many.
   */
  async erase(deviceId: string, periods: readonly Period[], from: number, to: number): Promise<number> {
    if (periods.length === 0) return 0;
    const r = await this.db
      .deleteFrom('fixes')
      .where('device_id', '=', deviceId)
      .where('ts', '>=', from)
      .where('ts', '<=', to)
      .where((eb) => eb.or(periods.map((p) => inPeriod(p)(eb))))
      .executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  /** Records a deleted range: fixes taken in it are refused when uploaded later (see checkFixes). */
  async recordErasure(e: { id: string; deviceId: string; from: number; to: number; at: number }): Promise<void> {
    await this.db
      .insertInto('fix_erasures')
      .values({ id: e.id, device_id: e.deviceId, from_ts: e.from, to_ts: e.to, at: e.at })
      .execute();
  }

  /** The ranges deleted from the watch's history that end at or after `since`. */
  async erasures(deviceId: string, since: number): Promise<ErasedRange[]> {
    const rows = await this.db
      .selectFrom('fix_erasures')
      .select(['from_ts', 'to_ts'])
      .where('device_id', '=', deviceId)
      .where('to_ts', '>=', since)
      .orderBy('from_ts')
      .execute();
    return rows.map((r) => ({ from: Number(r.from_ts), to: Number(r.to_ts) }));
  }

  /** Deletes up to `batch` fixes older than `before`; returns how many. */
  async purgeOlderThan(before: number, batch: number): Promise<number> {
    const r = await sql`DELETE FROM fixes WHERE (device_id, ts) IN
      (SELECT device_id, ts FROM fixes WHERE ts < ${before} LIMIT ${batch})`.execute(this.db);
    return Number(r.numAffectedRows ?? 0);
  }

  /** The newest positioned fix of the current binding (see `inBinding`); a sign of life is no position. */
  latest(deviceId: string, boundAt = 0): Promise<PositionedFixRow | undefined> {
    return this.db
      .selectFrom('fixes')
      .selectAll()
      .where('device_id', '=', deviceId)
      .where(inBinding(boundAt))
      .where('lat', 'is not', null)
      .orderBy('ts', 'desc')
      .limit(1)
      .$narrowType<Position>()
      .executeTakeFirst();
  }
}
