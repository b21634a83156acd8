// The learned access points of each family, held in memory so locating a fix costs no database
// round trip: a family's APs are loaded once (one query), kept in a bounded LRU of families,
// updated in place by the GPS fixes that hear them, and written back in batches (write-behind:
// `flush`, on a timer and at shutdown). Families never share: every lookup is by family.
//
// In a cluster each node learns from the fixes it receives; a family's book is reloaded from the
// store in the background every `reloadAfterMs`, so nodes converge (the last writer of an AP wins,
// which costs at worst a few observations of evidence).
import type { AccessPointRow } from '../store/access-points.js';
import { Lru } from './lru.js';
import { type WifiObservation, isOptedOut } from './observations.js';
import type { Estimate } from './weighted-centroid.js';
import {
  type ApEstimate,
  DEFAULT_LEARNER,
  type LearnOutcome,
  type LearnerOptions,
  learn,
  locateFromAccessPoints,
} from './wifi-learner.js';

/** The part of AccessPointRepository this needs. */
export interface AccessPointStore {
  loadFamily(familyId: string, limit: number): Promise<AccessPointRow[]>;
  upsertMany(rows: readonly AccessPointRow[]): Promise<{ written: number; goneFamilies: string[] }>;
}

export interface LearnedAccessPointsOptions {
  learner?: Partial<LearnerOptions>;
  /** APs held per family; beyond it the one with least evidence is let go. */
  maxPerFamily?: number;
  /** Families held in memory. */
  maxFamilies?: number;
  reloadAfterMs?: number;
  /** Unwritten estimates beyond this make `observe` wait for a flush. */
  maxDirty?: number;
  clock?: () => number;
}

/** A GPS fix: the only kind the learner trusts. */
export interface GpsFix {
  lat: number;
  lng: number;
  acc: number;
  ts: number;
}

interface Book {
  aps: Map<string, ApEstimate>;
  loadedAt: number;
}

const SEP = '\u0000';

export class LearnedAccessPoints {
  private readonly learner: LearnerOptions;
  private readonly maxPerFamily: number;
  private readonly reloadAfterMs: number;
  private readonly maxDirty: number;
  private readonly clock: () => number;
  private readonly books: Lru<string, Book>;
  private readonly loading = new Map<string, Promise<Book>>();
  /** Bumped by forgetFamily, so a load started before it does not bring the family back. */
  private readonly generation = new Map<string, number>();
  private readonly dirty = new Map<string, { familyId: string; mac: string; estimate: ApEstimate }>();
  private flushing: Promise<void> | undefined;

  constructor(
    private readonly store: AccessPointStore,
    opts: LearnedAccessPointsOptions = {},
  ) {
    this.learner = { ...DEFAULT_LEARNER, ...opts.learner };
    this.maxPerFamily = opts.maxPerFamily ?? 2000;
    this.books = new Lru(opts.maxFamilies ?? 10_000);
    this.reloadAfterMs = opts.reloadAfterMs ?? 10 * 60_000;
    this.maxDirty = opts.maxDirty ?? 10_000;
    this.clock = opts.clock ?? Date.now;
  }

  /**
   * Learns from a GPS fix of the family that also heard access points. Call it only for fixes
   * with source `gps` (a Wi-Fi-located fix would teach the learner its own guess).
   */
  async observe(familyId: string, fix: GpsFix, wifi: readonly WifiObservation[]): Promise<Record<LearnOutcome, number>> {
    const outcomes: Record<LearnOutcome, number> = { created: 0, updated: 0, rejected: 0, moved: 0, ignored: 0 };
    const heard = wifi.filter((ap) => !isOptedOut(ap));
    if (heard.length === 0) return outcomes;
    const book = await this.book(familyId);
    for (const ap of heard) {
      const prev = book.aps.get(ap.mac);
      const { estimate, outcome } = learn(prev, { ...fix, rssi: ap.rssi }, this.learner);
      outcomes[outcome]++;
      if (!estimate || outcome === 'ignored') continue;
      if (!prev) this.makeRoom(book);
      book.aps.set(ap.mac, estimate);
      this.dirty.set(familyId + SEP + ap.mac, { familyId, mac: ap.mac, estimate });
    }
    if (this.dirty.size >= this.maxDirty) await this.flush();
    return outcomes;
  }

  /** Locates from the family's learned APs; loads the family first if it is not held. */
  async locate(familyId: string, wifi: readonly WifiObservation[], now = this.clock()): Promise<Estimate | undefined> {
    if (wifi.length === 0) return undefined;
    return this.locateIn(await this.book(familyId), wifi, now);
  }

  /** The same without waiting: undefined when the family is not held yet (its load is started). */
  locateWarm(familyId: string, wifi: readonly WifiObservation[], now = this.clock()): Estimate | undefined | 'cold' {
    if (wifi.length === 0) return undefined;
    const book = this.warmBook(familyId);
    if (!book) {
      void this.book(familyId).catch(() => undefined);
      return 'cold';
    }
    return this.locateIn(book, wifi, now);
  }

  /** The family's learned APs as held now (for tests and diagnostics). */
  async estimates(familyId: string): Promise<ReadonlyMap<string, ApEstimate>> {
    return (await this.book(familyId)).aps;
  }

  /** Writes every unwritten estimate, in one batch; concurrent calls share it. */
  flush(): Promise<void> {
    this.flushing ??= this.writeDirty().finally(() => (this.flushing = undefined));
    return this.flushing;
  }

  /** Drops what is held of a family (after its data is deleted); nothing of it is written again. */
  forgetFamily(familyId: string): void {
    this.generation.set(familyId, (this.generation.get(familyId) ?? 0) + 1);
    this.books.delete(familyId);
    this.loading.delete(familyId);
    for (const [k, d] of this.dirty) if (d.familyId === familyId) this.dirty.delete(k);
  }

  private locateIn(book: Book, wifi: readonly WifiObservation[], now: number): Estimate | undefined {
    const heard: { estimate: ApEstimate; rssi?: number | undefined }[] = [];
    for (const ap of wifi) {
      if (isOptedOut(ap)) continue;
      const estimate = book.aps.get(ap.mac);
      if (estimate) heard.push({ estimate, rssi: ap.rssi });
    }
    return heard.length > 0 ? locateFromAccessPoints(heard, now, this.learner) : undefined;
  }

  private warmBook(familyId: string): Book | undefined {
    const book = this.books.get(familyId);
    if (book && this.clock() - book.loadedAt > this.reloadAfterMs && !this.loading.has(familyId)) {
      // Stale: refresh in the background and answer from what is held meanwhile.
      void this.load(familyId).catch(() => undefined);
    }
    return book;
  }

  private async book(familyId: string): Promise<Book> {
    return this.warmBook(familyId) ?? this.load(familyId);
  }

  private load(familyId: string): Promise<Book> {
    const pending = this.loading.get(familyId);
    if (pending) return pending;
    const gen = this.generation.get(familyId) ?? 0;
    const p = (async () => {
      const rows = await this.store.loadFamily(familyId, this.maxPerFamily);
      const aps = new Map(rows.map((r) => [r.mac, fromRow(r)]));
      // What this node learned since (or during) the load is newer than the store's copy.
      for (const d of this.dirty.values()) if (d.familyId === familyId) aps.set(d.mac, d.estimate);
      const book = { aps, loadedAt: this.clock() };
      if ((this.generation.get(familyId) ?? 0) === gen) this.books.set(familyId, book);
      return book;
    })().finally(() => {
      if (this.loading.get(familyId) === p) this.loading.delete(familyId);
    });
    this.loading.set(familyId, p);
    return p;
  }

  /** Keeps a family's book within bounds by letting go of its AP with the least evidence. */
  private makeRoom(book: Book): void {
    if (book.aps.size < this.maxPerFamily) return;
    let weakest: string | undefined;
    let least = Infinity;
    for (const [mac, e] of book.aps) {
      if (e.count < least || (e.count === least && weakest !== undefined && e.lastSeen < book.aps.get(weakest)!.lastSeen)) {
        least = e.count;
        weakest = mac;
      }
    }
    if (weakest !== undefined) book.aps.delete(weakest);
  }

  private async writeDirty(): Promise<void> {
    if (this.dirty.size === 0) return;
    const batch = [...this.dirty.entries()];
    const now = this.clock();
    let goneFamilies: string[];
    try {
      ({ goneFamilies } = await this.store.upsertMany(batch.map(([, d]) => toRow(d.familyId, d.mac, d.estimate, now))));
    } catch (err) {
      // Learning is best effort: with the store away, hold at most maxDirty estimates (the
      // oldest changes go first) rather than grow without bound.
      for (const k of this.dirty.keys()) {
        if (this.dirty.size <= this.maxDirty) break;
        this.dirty.delete(k);
      }
      throw err;
    }
    // Keep what changed while the batch was written; it goes with the next flush.
    for (const [k, d] of batch) if (this.dirty.get(k) === d) this.dirty.delete(k);
    for (const fid of goneFamilies) this.forgetFamily(fid);
  }
}

function fromRow(r: AccessPointRow): ApEstimate {
  return {
    lat: r.lat,
    lng: r.lng,
    weight: r.weight,
    spread2: r.spread2,
    count: r.count,
    rejects: r.rejects,
    firstSeen: r.first_seen,
    lastSeen: r.last_seen,
  };
}

function toRow(familyId: string, mac: string, e: ApEstimate, now: number): AccessPointRow {
  return {
    family_id: familyId,
    mac,
    lat: e.lat,
    lng: e.lng,
    weight: e.weight,
    spread2: e.spread2,
    count: e.count,
    rejects: e.rejects,
    first_seen: e.firstSeen,
    last_seen: e.lastSeen,
    updated_at: now,
  };
}
