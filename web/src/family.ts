// The families of the signed-in user and the open family's details (members, roles, watches),
// shared by every screen of that family.
import type { FamilySummary, FamilyView, Principal, Role } from '../../src/contract/models.js';
import { api } from './api.js';
import { session } from './auth.js';
import { describeError } from './errors.js';
import { currentSocket } from './socket.js';
import { Store } from './store.js';

export interface FamilyState {
  view?: FamilyView;
  error?: string;
}

export const familyList = new Store<{ families?: readonly FamilySummary[]; error?: string }>({});
const details = new Map<string, Store<FamilyState>>();

export async function loadFamilies(): Promise<void> {
  try {
    familyList.set({ families: (await api.families()).families });
  } catch (err) {
    familyList.set({ ...familyList.get(), error: describeError(err) });
  }
}

export function familyStore(fid: string): Store<FamilyState> {
  let s = details.get(fid);
  if (!s) {
    s = new Store<FamilyState>({});
    details.set(fid, s);
  }
  return s;
}

export async function loadFamilyView(fid: string): Promise<FamilyView | undefined> {
  const s = familyStore(fid);
  try {
    const view = await api.family(fid);
    s.set({ view });
    return view;
  } catch (err) {
    s.set({ ...s.get(), error: describeError(err) });
    return undefined;
  }
}

/** Owners and guardians act (send, bind, draw, acknowledge); viewers watch. */
export const canAct = (role: Role | undefined) => role === 'owner' || role === 'guardian';
export const isOwner = (role: Role | undefined) => role === 'owner';

/** A person's or a watch's name in this family, for chat senders and callers. */
export function nameOf(view: FamilyView | undefined, p: Principal): string {
  if (!view) return p.kind === 'device' ? 'A watch' : 'Someone';
  if (p.kind === 'device') {
    const d = view.devices.find((x) => x.id === p.id);
    return d?.childName ? `${d.childName}'s watch` : 'A watch';
  }
  const me = session.get();
  if (me.status === 'signedIn' && me.user.id === p.id) return 'You';
  return view.members.find((m) => m.userId === p.id)?.nickname ?? 'A former member';
}

/** The loaded family that a person or watch belongs to (an incoming call names only the caller). */
export function familyOf(p: Principal): string | undefined {
  for (const [fid, st] of details) {
    const v = st.get().view;
    if (!v) continue;
    if (p.kind === 'device' ? v.devices.some((d) => d.id === p.id) : v.members.some((m) => m.userId === p.id)) return fid;
  }
  return undefined;
}

export const childName = (view: FamilyView | undefined, did: string) =>
  view?.devices.find((d) => d.id === did)?.childName ?? 'A watch';

let wiredTo: ReturnType<typeof currentSocket> = null;
/** Membership changes told by the hub: reload what they touch. */
export function wireFamilies(): void {
  const s = currentSocket();
  if (!s || wiredTo === s) return;
  wiredTo = s;
  s.on('family:removed', ({ familyId }) => {
    details.delete(familyId);
    void loadFamilies();
  });
}

session.subscribe((st) => {
  if (st.status === 'signedIn') return;
  details.clear();
  familyList.set({});
  wiredTo = null;
});
