// The tower table seen through a bounded in-memory cache: a warm cell costs no database round
// trip, and the cells a fix hears that are not held are fetched in one query. Unknown cells are
// cached too (negatively), so a watch parked under a tower missing from the table does not query
// on every fix. Entries expire, so an import run by the CLI reaches a running hub within the TTL.
import type { CellTowerKey, CellTowerRow } from '../store/cell-towers.js';
import type { TowerSighting } from './cell-locator.js';
import { Lru } from './lru.js';
import { type CellObservation, type RadioType, cellKey } from './observations.js';

/** The part of CellTowerRepository this needs. */
export interface CellTowerSource {
  find(keys: readonly CellTowerKey[]): Promise<CellTowerRow[]>;
}

export interface CellTowerIndexOptions {
  maxEntries?: number;
  ttlMs?: number;
  clock?: () => number;
}

interface Entry {
  /** Rows of this mcc/mnc/lac/cid, one per radio; empty: not in the table. */
  rows: readonly CellTowerRow[];
  at: number;
}

export class CellTowerIndex {
  private readonly cache: Lru<string, Entry>;
  private readonly ttlMs: number;
  private readonly clock: () => number;

  constructor(
    private readonly source: CellTowerSource,
    opts: CellTowerIndexOptions = {},
  ) {
    this.cache = new Lru(opts.maxEntries ?? 100_000);
    this.ttlMs = opts.ttlMs ?? 60 * 60_000;
    this.clock = opts.clock ?? Date.now;
  }

  /** The heard cells found in the table, fetching those not held in one query. */
  async lookup(cells: readonly CellObservation[]): Promise<TowerSighting[]> {
    const now = this.clock();
    const missing = new Map<string, CellObservation>();
    for (const c of cells) if (!this.fresh(cellKey(c), now)) missing.set(cellKey(c), c);
    if (missing.size > 0) {
      const rows = await this.source.find([...missing.values()]);
      const byKey = new Map<string, CellTowerRow[]>();
      for (const r of rows) {
        const k = cellKey({ mcc: r.mcc, mnc: r.net, lac: r.area, cid: r.cell });
        byKey.set(k, [...(byKey.get(k) ?? []), r]);
      }
      for (const k of missing.keys()) this.cache.set(k, { rows: byKey.get(k) ?? [], at: now });
    }
    return this.sightings(cells, now) ?? [];
  }

  /** The same from memory only: undefined when any heard cell is not held. */
  lookupWarm(cells: readonly CellObservation[]): TowerSighting[] | undefined {
    return this.sightings(cells, this.clock());
  }

  /** Forgets everything held (after an import in this process). */
  clear(): void {
    this.cache.clear();
  }

  private fresh(key: string, now: number): Entry | undefined {
    const e = this.cache.get(key);
    return e && now - e.at <= this.ttlMs ? e : undefined;
  }

  private sightings(cells: readonly CellObservation[], now: number): TowerSighting[] | undefined {
    const out: TowerSighting[] = [];
    for (const c of cells) {
      const e = this.fresh(cellKey(c), now);
      if (!e) return undefined;
      const row = pick(e.rows, c.radio);
      if (row) {
        out.push({
          lat: row.lat,
          lng: row.lng,
          rangeM: row.range_m,
          samples: row.samples,
          radio: row.radio as RadioType,
          rssi: c.rssi,
        });
      }
    }
    return out;
  }
}

/**
 * The row of the radio the watch named; without one, the only row there is. The same ids on two
 * radios are two different cells, and guessing between them could put the watch kilometres off.
 */
function pick(rows: readonly CellTowerRow[], radio: RadioType | undefined): CellTowerRow | undefined {
  if (radio) return rows.find((r) => r.radio === radio);
  return rows.length === 1 ? rows[0] : undefined;
}
