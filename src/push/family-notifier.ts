// Who gets a push: the family's members with no connection anywhere, never the one who caused it.
import type { PresenceTracker } from '../backplane/backplane.js';
import type { Principal } from '../contract/models.js';
import type { Store } from '../store/store.js';
import type { PushNotification } from './types.js';

/** `skip`: users pushed otherwise for this event (emergency contacts), so nobody gets it twice. */
export type FamilyNotifier = (
  familyId: string,
  except: Principal | null,
  n: PushNotification,
  skip?: readonly string[],
) => Promise<void>;

export function familyNotifier(
  store: Store,
  presence: PresenceTracker,
  enqueue: (userIds: readonly string[], n: PushNotification) => Promise<void>,
): FamilyNotifier {
  return async (familyId, except, n, skip = []) => {
    const offline: string[] = [];
    for (const m of await store.families.members(familyId)) {
      if (except?.kind === 'user' && except.id === m.userId) continue;
      if (skip.includes(m.userId)) continue;
      if (!(await presence.status({ kind: 'user', id: m.userId })).online) offline.push(m.userId);
    }
    if (offline.length > 0) await enqueue(offline, n);
  };
}
