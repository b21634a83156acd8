// Area subscriptions by H3 cell. `stats` sockets get, every few seconds, the number of active
// watches in each subscribed cell and never an identity; `positions` sockets (ops scope only)
// join `area:<cell>` rooms and get each watch's newest fix there.
import type { Guard } from '../auth/policy.js';
import { RULES } from '../auth/rules.js';
import { E } from '../contract/errors.js';
import type { LocationEvent, Principal } from '../contract/models.js';
import { rooms } from '../contract/rooms.js';
import { type EventPayload, MAX_AREA_CELLS } from '../contract/schemas.js';
import { cellOf, isCell, parentOf, resolutionOf } from '../geo/h3.js';
import type { RoomControl } from '../realtime/room-control.js';
import type { AuditEntry } from '../store/audit.js';
import type { LatestPositions } from './latest.js';

/**
 * Finest resolution a stats subscription may use without the ops scope (res 7 ≈ 5 km²): a count
 * of 1 in a house-sized cell would say whether a child is home.
 */
export const STATS_MAX_RESOLUTION = 7;

interface Subscriber {
  stats: Set<string>;
  positions: Set<string>;
}

export class AreaService {
  private readonly subscribers = new Map<string, Subscriber>();
  /** Resolution → number of position subscriptions at it, so a fix is published only where someone listens. */
  private readonly positionResolutions = new Map<number, number>();

  constructor(
    private readonly latest: LatestPositions,
    private readonly roomControl: RoomControl,
    private readonly guard: Guard,
    private readonly opts: {
      /** HUB_AREA_MIN_COUNT: a count below it is reported as 0 (k-anonymity). */
      minCount: number;
      /** Writes an audit entry (a live position stream opened). */
      audit: (e: Omit<AuditEntry, 'id' | 'at'>) => Promise<void>;
    } = { minCount: 1, audit: async () => undefined },
  ) {}

  /**
   * `area:subscribe` for one connection; returns the cells, and the area rooms the connection
   * must join (positions mode).
   */
  async subscribeSocket(
    principal: Principal,
    scopes: readonly string[],
    socketId: string,
    { cells, mode }: EventPayload<'area:subscribe'>,
  ): Promise<{ cells: string[]; join: string[] }> {
    await this.guard.check(RULES['area.subscribe'], principal, {}, scopes);
    const bad = cells.find((c) => !isCell(c));
    if (bad !== undefined) throw E.notACell(bad);
    if (mode === 'positions') await this.guard.check(RULES['area.positions'], principal, {}, scopes);
    if (!scopes.includes('ops') && cells.some((c) => resolutionOf(c) > STATS_MAX_RESOLUTION)) {
      throw E.opsScopeRequired(`cells finer than resolution ${STATS_MAX_RESOLUTION}`);
    }
    const unique = [...new Set(cells)];
    if (this.countAfter(socketId, unique, mode) > MAX_AREA_CELLS) throw E.tooManyCells(MAX_AREA_CELLS);
    // Live positions of whoever is in the cells: who opened the stream, on which cells, is audited.
    if (mode === 'positions') {
      await this.opts.audit({
        actor: principal,
        action: 'area.positions',
        familyId: null,
        subject: null,
        details: { cells: unique },
      });
    }
    this.subscribe(socketId, unique, mode);
    return { cells: unique, join: mode === 'positions' ? unique.map(rooms.area) : [] };
  }

  /** `area:unsubscribe`; returns the area rooms the connection leaves. */
  unsubscribeSocket(socketId: string, cells: readonly string[]): string[] {
    return this.unsubscribe(socketId, cells).map(rooms.area);
  }

  subscribe(socketId: string, cells: readonly string[], mode: 'stats' | 'positions'): void {
    const sub = this.subscriber(socketId);
    for (const cell of cells) {
      const set = mode === 'stats' ? sub.stats : sub.positions;
      if (set.has(cell)) continue;
      set.add(cell);
      if (mode === 'positions') this.countResolution(resolutionOf(cell), +1);
    }
  }

  /** Removes the cells from both modes; returns the position cells whose rooms to leave. */
  unsubscribe(socketId: string, cells: readonly string[]): string[] {
    const sub = this.subscribers.get(socketId);
    if (!sub) return [];
    const left: string[] = [];
    for (const cell of cells) {
      sub.stats.delete(cell);
      if (sub.positions.delete(cell)) {
        this.countResolution(resolutionOf(cell), -1);
        left.push(cell);
      }
    }
    return left;
  }

  dropSocket(socketId: string): void {
    const sub = this.subscribers.get(socketId);
    if (sub) this.unsubscribe(socketId, [...sub.positions]);
    this.subscribers.delete(socketId);
  }

  /** How many cells the socket would hold after subscribing to these (repeats count once). */
  countAfter(socketId: string, cells: readonly string[], mode: 'stats' | 'positions'): number {
    const sub = this.subscribers.get(socketId);
    const held = new Set([...(sub?.stats ?? []), ...(sub?.positions ?? [])]);
    const target = mode === 'stats' ? sub?.stats : sub?.positions;
    let added = 0;
    for (const c of new Set(cells)) if (!target?.has(c) && !held.has(c)) added++;
    return held.size + added;
  }

  /** Sends a fix to the position rooms of the cells that contain it. */
  publish(event: LocationEvent): void {
    for (const res of this.positionResolutions.keys()) {
      const cell = this.cellAt(event, res);
      this.roomControl.emit(rooms.area(cell), 'area:position', event);
    }
  }

  /** Counts active watches per subscribed cell and sends each stats subscriber its cells. */
  async sendStats(now: number, activeWindowMs: number): Promise<void> {
    const wanted = new Set<number>();
    for (const sub of this.subscribers.values()) for (const c of sub.stats) wanted.add(resolutionOf(c));
    if (wanted.size === 0) return;
    const counts = new Map<string, number>();
    for (const { event, receivedAt } of await this.latest.all()) {
      if (now - receivedAt > activeWindowMs) continue;
      for (const res of wanted) {
        const cell = this.cellAt(event, res);
        counts.set(cell, (counts.get(cell) ?? 0) + 1);
      }
    }
    for (const [socketId, sub] of this.subscribers) {
      if (sub.stats.size === 0) continue;
      const cells: Record<string, number> = {};
      // k-anonymity: fewer than minCount watches in a cell show as none, so a count never singles
      // out a child (docs/privacy.md).
      for (const c of sub.stats) {
        const n = counts.get(c) ?? 0;
        cells[c] = n < this.opts.minCount ? 0 : n;
      }
      this.roomControl.emit(socketId, 'area:stats', { cells, ts: now });
    }
  }

  /** The fix's cell at `res`: the H3 parent of its stored cell, or from its position if finer. */
  private cellAt(event: LocationEvent, res: number): string {
    return res <= resolutionOf(event.cell) ? parentOf(event.cell, res) : cellOf(event.lat, event.lng, res);
  }

  private subscriber(socketId: string): Subscriber {
    let sub = this.subscribers.get(socketId);
    if (!sub) {
      sub = { stats: new Set(), positions: new Set() };
      this.subscribers.set(socketId, sub);
    }
    return sub;
  }

  private countResolution(res: number, delta: number): void {
    const n = (this.positionResolutions.get(res) ?? 0) + delta;
    if (n > 0) this.positionResolutions.set(res, n);
    else this.positionResolutions.delete(res);
  }
}
