// Geofence decisions for live fixes: one H3 index of fences per family (rebuilt when the family's
// fences change) and each watch's in/out state, loaded from the store once and saved on change,
// so state survives a restart. Callers serialize per watch.
import { FenceIndex } from '../geo/fence-index.js';
import { type FenceState, type FixPoint, type Transition, evaluateFix } from '../geo/geofence-engine.js';
import type { Store } from '../store/store.js';
import { fenceFromRow } from './geofence-view.js';

interface WatchState {
  states: Map<string, FenceState>;
  /** Fixes at or before this ts were evaluated already (late batch fixes are not replayed). */
  lastTs: number;
}

export class GeofenceService {
  private readonly indexes = new Map<string, Promise<FenceIndex>>();
  private readonly watches = new Map<string, Promise<WatchState>>();

  constructor(
    private readonly store: Store,
    private readonly marginM: number,
    private readonly publish: (familyId: string) => void = () => undefined,
  ) {}

  /** The family's fences changed: here and, unless told by a peer, on every node. */
  invalidateFamily(familyId: string, fromPeer = false): void {
    this.indexes.delete(familyId);
    if (!fromPeer) this.publish(familyId);
  }

  /** The watch left its family: its states mean nothing any more. */
  async forgetWatch(deviceId: string): Promise<void> {
    this.dropWatch(deviceId);
    await this.store.geofences.clearStates(deviceId);
  }

  /** Forgets the cached states only (they are re-read from the store when next needed). */
  dropWatch(deviceId: string): void {
    this.watches.delete(deviceId);
  }

  /** Evaluates fixes (oldest first) of one watch; returns the transitions, states already saved. */
  async evaluate(familyId: string, deviceId: string, fixes: readonly FixPoint[]): Promise<Transition[]> {
    const [index, watch] = await Promise.all([this.indexFor(familyId), this.watchState(deviceId)]);
    if (index.size === 0 && watch.states.size === 0) return [];
    const transitions: Transition[] = [];
    const changes = new Map<string, FenceState | null>();
    for (const fix of fixes) {
      if (fix.ts <= watch.lastTs) continue;
      const r = evaluateFix(index, deviceId, watch.states, fix, this.marginM);
      for (const [id, state] of r.changes) {
        if (state === null) watch.states.delete(id);
        else watch.states.set(id, state);
        changes.set(id, state);
      }
      transitions.push(...r.transitions);
      watch.lastTs = fix.ts;
    }
    await this.store.geofences.saveStates(deviceId, changes, watch.lastTs);
    return transitions;
  }

  private indexFor(familyId: string): Promise<FenceIndex> {
    let index = this.indexes.get(familyId);
    if (!index) {
      index = this.store.geofences.listByFamily(familyId).then((rows) => new FenceIndex(rows.map(fenceFromRow)));
      index.catch(() => this.indexes.delete(familyId));
      this.indexes.set(familyId, index);
    }
    return index;
  }

  private watchState(deviceId: string): Promise<WatchState> {
    let state = this.watches.get(deviceId);
    if (!state) {
      state = this.store.geofences.statesWithTs(deviceId).then((rows) => ({
        states: new Map(rows.map((r) => [r.geofenceId, r.state])),
        lastTs: rows.reduce((max, r) => Math.max(max, r.ts), 0),
      }));
      state.catch(() => this.watches.delete(deviceId));
      this.watches.set(deviceId, state);
    }
    return state;
  }
}
