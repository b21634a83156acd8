// Who is online, for families: a principal's first connection anywhere makes it online for its
// families, its last one offline; a new connection is told who is online already. The counting is
// the backplane's (in memory on one node, in Redis across nodes).
import type { PresenceTracker } from '../backplane/backplane.js';
import type { Guard } from '../auth/policy.js';
import { RULES } from '../auth/rules.js';
import type { Principal, PresenceEntry, PresenceView } from '../contract/models.js';
import { rooms } from '../contract/rooms.js';
import type { RoomControl } from '../realtime/room-control.js';
import type { Store } from '../store/store.js';

const key = (p: Principal) => `${p.kind}:${p.id}`;

export class PresenceService {
  /** Comings and goings being told: a node that shuts down tells them before its backplane closes. */
  private readonly telling = new Set<Promise<unknown>>();

  constructor(
    private readonly deps: {
      store: Store;
      guard: Guard;
      presence: PresenceTracker;
      roomControl: RoomControl;
      clock: () => number;
    },
  ) {}

  /** The families a principal belongs to now (whose rooms its connections join). */
  familiesOf(p: Principal): Promise<string[]> {
    return this.deps.guard.familiesOf(p);
  }

  /** A connection opened; true when it is the principal's first anywhere (tell the families). */
  connected(p: Principal, now = this.deps.clock()): Promise<boolean> {
    return this.deps.presence.connected(p, now);
  }

  /**
   * A connection that is in no room opened (a TCP watch): counted like a socket, and when it is
   * the principal's first anywhere, its families are told it is online.
   */
  arrived(p: Principal): Promise<boolean> {
    return this.track(this.tellArrived(p));
  }

  private async tellArrived(p: Principal): Promise<boolean> {
    const now = this.deps.clock();
    if (!(await this.deps.presence.connected(p, now))) return false;
    for (const fid of await this.familiesOf(p)) {
      this.deps.roomControl.emit(rooms.family(fid), 'presence', { kind: p.kind, id: p.id, online: true, lastSeen: now });
    }
    return true;
  }

  /** A connection closed; when it was the principal's last anywhere, its families are told. Returns that. */
  disconnected(p: Principal): Promise<boolean> {
    return this.track(this.tellDisconnected(p));
  }

  private async tellDisconnected(p: Principal): Promise<boolean> {
    const now = this.deps.clock();
    if (!(await this.deps.presence.disconnected(p, now))) return false;
    await this.tellOffline(p, now);
    return true;
  }

  /** Principals whose node died: offline for their families. Returns who. */
  sweep(): Promise<Principal[]> {
    return this.track(
      (async () => {
        const now = this.deps.clock();
        const gone = await this.deps.presence.sweep(now);
        for (const p of gone) await this.tellOffline(p, now);
        return gone;
      })(),
    );
  }

  /**
   * Resolves once what connections that came and went (and sweeps) started telling is told: for
   * shutdown, after the connections are closed and before the backplane is (a notice published on
   * a closed client is an unhandled rejection inside the Socket.IO adapter).
   */
  async settled(): Promise<void> {
    while (this.telling.size > 0) await Promise.allSettled([...this.telling]);
  }

  private track<T>(work: Promise<T>): Promise<T> {
    this.telling.add(work);
    const done = () => this.telling.delete(work);
    work.then(done, done);
    return work;
  }

  /** Who else is online in these families, for a new connection. */
  async online(self: Principal, familyIds: readonly string[]): Promise<PresenceView[]> {
    const seen = new Set<string>([key(self)]);
    const out: PresenceView[] = [];
    for (const fid of familyIds) {
      for (const p of await this.principalsOf(fid)) {
        if (seen.has(key(p))) continue;
        seen.add(key(p));
        const s = await this.deps.presence.status(p);
        if (s.online && s.lastSeen !== null) out.push({ kind: p.kind, id: p.id, online: true, lastSeen: s.lastSeen });
      }
    }
    return out;
  }

  /** `presence:list`: every member and watch of the family, online or not. */
  async list(principal: Principal, req: { familyId: string }): Promise<PresenceEntry[]> {
    await this.deps.guard.check(RULES['presence.list'], principal, req);
    return Promise.all(
      (await this.principalsOf(req.familyId)).map(async (p) => ({
        kind: p.kind,
        id: p.id,
        ...(await this.deps.presence.status(p)),
      })),
    );
  }

  private async tellOffline(p: Principal, now: number): Promise<void> {
    for (const fid of await this.familiesOf(p)) {
      this.deps.roomControl.emit(rooms.family(fid), 'presence', { kind: p.kind, id: p.id, online: false, lastSeen: now });
    }
  }

  private async principalsOf(familyId: string): Promise<Principal[]> {
    const { store } = this.deps;
    const [members, devices] = await Promise.all([store.families.members(familyId), store.devices.listByFamily(familyId)]);
    return [
      ...members.map((m): Principal => ({ kind: 'user', id: m.userId })),
      ...devices.map((d): Principal => ({ kind: 'device', id: d.id })),
    ];
  }
}
