// Offline detection: a watch that reported before and has been silent for a multiple of its
// report interval raises one `offline` alert, until it reports again.
import type { NewestPosition as Latest } from '../backplane/backplane.js';

/**
 * Watches newly gone silent. `raised` maps a watch to the receivedAt of the report it went
 * silent after; the function updates it (pure apart from that map).
 */
export function newlyOffline(all: Iterable<Latest>, now: number, silenceMs: number, raised: Map<string, number>): Latest[] {
  const out: Latest[] = [];
  const seen = new Set<string>();
  for (const l of all) {
    const id = l.event.deviceId;
    seen.add(id);
    // Read back from the store after a start: not a report this node saw, so no silence to judge.
    if (l.fromStore) continue;
    if (now - l.receivedAt < silenceMs) {
      raised.delete(id);
      continue;
    }
    if (raised.get(id) === l.receivedAt) continue;
    raised.set(id, l.receivedAt);
    out.push(l);
  }
  for (const id of raised.keys()) if (!seen.has(id)) raised.delete(id);
  return out;
}
