// A call as the node hosting it holds it, and how its parties are keyed in it.
import type { Principal } from '../contract/models.js';
import type { CallSession } from '../media/call-session.js';

export type CallEndReason = 'hangup' | 'declined' | 'missed' | 'busy' | 'timeout' | 'disconnected' | 'media_failure' | 'removed';

export interface Call {
  id: string;
  familyId: string;
  nodeId: string;
  caller: Principal;
  video: boolean;
  state: 'ringing' | 'active' | 'ended';
  /** Invited and not yet answered. */
  ringing: Map<string, Principal>;
  /** In the call (the caller from the start). */
  participants: Map<string, Principal>;
  session: CallSession;
  timers: NodeJS.Timeout[];
  grace: Map<string, NodeJS.Timeout>;
}

/** A party's key in a call's maps and in its CallSession. */
export const partyKey = (p: Principal) => `${p.kind}:${p.id}`;

export function principalOf(k: string): Principal {
  const [kind, ...rest] = k.split(':');
  return { kind: kind as Principal['kind'], id: rest.join(':') };
}
