// Enter/exit decisions for one watch and one fix. Pure: the caller owns the stored states and
// applies `changes` (null = forget the fence) before evaluating the next fix.
//
// Hysteresis comes from classify(): a fix only counts when its whole accuracy circle (plus the
// margin) is on one side, so a watch sitting on the edge yields 'uncertain' and nothing changes.
import { classify } from './geometry.js';
import type { FenceIndex, IndexedFence } from './fence-index.js';

export type FenceState = 'inside' | 'outside';

export interface FixPoint {
  ts: number;
  lat: number;
  lng: number;
  acc: number;
}

export interface Transition {
  geofenceId: string;
  transition: 'enter' | 'exit';
  ts: number;
  lat: number;
  lng: number;
}

function applies(f: IndexedFence, deviceId: string): boolean {
  return f.deviceIds === null || f.deviceIds.includes(deviceId);
}

export function evaluateFix(
  index: FenceIndex,
  deviceId: string,
  states: ReadonlyMap<string, FenceState>,
  fix: FixPoint,
  marginM: number,
): { transitions: Transition[]; changes: Map<string, FenceState | null> } {
  const transitions: Transition[] = [];
  const changes = new Map<string, FenceState | null>();

  // Candidates never miss a fence holding the fix; 'inside' fences are added because a watch that
  // jumped far away (GPS gap, car ride) must still exit a fence that is no longer near it.
  const ids = new Set<string>();
  for (const f of index.candidates(fix)) ids.add(f.id);
  for (const [id, state] of states) {
    // A fence that is gone, or no longer applies to this watch, is forgotten without an event:
    // nobody asked for it any more. 'outside' entries are cleaned too (a map lookup, no geometry),
    // so the stored state cannot grow with deleted fences.
    const f = index.get(id);
    if (!f || !applies(f, deviceId)) changes.set(id, null);
    else if (state === 'inside') ids.add(id);
  }

  // Plain code-unit order, not localeCompare: the order must not depend on the host's locale.
  for (const id of [...ids].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))) {
    const f = index.get(id);
    if (!f || !applies(f, deviceId)) continue;
    const placement = classify(f.shape, fix, fix.acc, marginM);
    if (placement === 'uncertain') continue;
    const known = states.get(id);
    if (known === placement) continue;
    changes.set(id, placement);
    // With no known state (new fence, new watch) the first clear fix only sets the baseline:
    // an 'enter' for a watch that was simply already there would be a false alarm.
    if (known !== undefined) {
      transitions.push({
        geofenceId: id,
        transition: placement === 'inside' ? 'enter' : 'exit',
        ts: fix.ts,
        lat: fix.lat,
        lng: fix.lng,
      });
    }
  }
  return { transitions, changes };
}
