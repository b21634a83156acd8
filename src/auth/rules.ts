// Every use case of the hub and who may call it (see src/auth/policy.ts). Transports do not check
// rights themselves: the Socket.IO events, HTTP routes and the watch gateway call use cases, and
// each use case checks its rule here first. test/unit/rules.test.ts walks this table.
import type { CommandType, MessageKind, WatchPermission } from '../contract/models.js';
import { ANY_ROLE, OWNER, type Rule, WRITERS } from './policy.js';

const USER = ['user'] as const;
const DEVICE = ['device'] as const;
const BOTH = ['user', 'device'] as const;

/** The permission a command needs of its watch (absent: none). */
export const COMMAND_PERMISSION: Partial<Record<CommandType, WatchPermission>> = { photo: 'camera', set_contacts: 'contacts' };
/** The permission a message kind needs of the watch sending it. */
export const MESSAGE_PERMISSION: Partial<Record<MessageKind, WatchPermission>> = { voice: 'microphone', image: 'camera' };

const family = (field = 'familyId') => ({ field, via: 'family' as const });
const watch = (field = 'deviceId') => ({ field, via: 'watch' as const });

export const RULES = {
  // Accounts: a user about their own account.
  'account.me': { who: USER },
  'account.export': { who: USER, what: 'exports', budget: { name: 'export', points: 10, durationS: 3600 } },
  'account.delete': { who: USER },
  'account.update': { who: USER },
  // Each one costs a scrypt or two: a few an hour (wrong passwords also count as failed logins).
  'account.password': { who: USER, what: 'password changes', budget: { name: 'password-change', points: 10, durationS: 3600 } },
  'account.policy': { who: USER },

  // Families and watches.
  'family.create': { who: USER, what: 'new families', budget: { name: 'family-create', points: 20, durationS: 86_400 } },
  'family.list': { who: USER },
  'family.get': { who: USER, family: family(), roles: ANY_ROLE },
  'family.invite': {
    who: USER,
    family: family(),
    roles: OWNER,
    what: 'invites',
    budget: { name: 'invite', points: 50, durationS: 86_400 },
  },
  // Codes are guessed here: a few tries per person, whatever the code (and per address, over HTTP).
  'invite.accept': { who: USER, what: 'invite codes', budget: { name: 'code-guess', points: 10, durationS: 600 } },
  'watch.bind': {
    who: USER,
    family: family(),
    roles: WRITERS,
    what: 'binding codes',
    budget: { name: 'code-guess', points: 10, durationS: 600 },
  },
  'watch.unbind': { who: USER, family: family(), roles: OWNER },
  'watch.permissions': { who: USER, family: family(), roles: OWNER },
  'watch.consents': { who: USER, family: family(), roles: OWNER },
  'watch.export': {
    who: USER,
    family: family(),
    roles: OWNER,
    what: 'exports',
    budget: { name: 'export', points: 10, durationS: 3600 },
  },
  'family.rename': { who: USER, family: family(), roles: OWNER },
  'family.delete': { who: USER, family: family(), roles: OWNER },
  // The family's watch, now or in an earlier binding (its own periods only, checked by the use case).
  'watch.history.delete': {
    who: USER,
    family: family(),
    roles: OWNER,
    what: 'history deletions',
    budget: { name: 'history-delete', points: 60, durationS: 3600 },
  },
  'family.audit': { who: USER, family: family(), roles: OWNER },
  'member.remove': { who: USER, family: family(), roles: OWNER },
  'member.role': { who: USER, family: family(), roles: OWNER },
  'member.leave': { who: USER, family: family(), roles: ANY_ROLE },
  'member.emergencyContact': { who: USER, family: family(), roles: OWNER },

  // Notifications: an app installation's push registration (signed in), the user's own settings.
  'push.register': { who: USER },
  'notifications.settings': { who: USER },
  'presence.list': { who: BOTH, family: family(), roles: ANY_ROLE },

  // Places and alerts.
  'geofence.write': { who: USER, family: family(), roles: WRITERS },
  'geofence.read': { who: USER, family: family(), roles: ANY_ROLE },
  // Crossings are positions of a child: a budget like history reads.
  'geofence.events': {
    who: USER,
    family: family(),
    roles: ANY_ROLE,
    what: 'history reads',
    budget: { name: 'history', points: 120, durationS: 60 },
  },
  'alert.list': { who: USER, family: family(), roles: ANY_ROLE },
  'alert.raise': { who: DEVICE, what: 'alerts', budget: { name: 'alert-raise', points: 30, durationS: 60 } },
  'alert.ack': { who: USER, family: { field: 'id', via: 'alert' }, roles: WRITERS },

  // Location.
  'location.report': { who: DEVICE, permission: 'location' },
  // v1.1: readings from the watch's sensors (3G-protocol health frames), with its `health` permission.
  'health.report': { who: DEVICE, permission: 'health' },
  // Owners and guardians (not viewers): readings are medical. Each read writes an audit row.
  'health.read': {
    who: USER,
    family: family(),
    roles: WRITERS,
    what: 'health reads',
    budget: { name: 'history', points: 120, durationS: 60 },
  },
  'location.latest': { who: USER, family: family(), roles: ANY_ROLE },
  // Each read writes an audit row.
  'location.history': {
    who: USER,
    family: watch(),
    roles: ANY_ROLE,
    what: 'history reads',
    budget: { name: 'history', points: 120, durationS: 60 },
  },
  'area.subscribe': { who: USER },
  'area.positions': { who: USER, scope: 'ops', what: 'positions mode' },

  // Messages and media. A watch sends voice only with its microphone on, photos only with its camera on.
  'chat.send': {
    who: BOTH,
    family: family('conversationId'),
    roles: WRITERS,
    permission: (req) => MESSAGE_PERMISSION[req.kind as MessageKind],
  },
  'chat.read': { who: BOTH, family: family('conversationId'), roles: ANY_ROLE },
  'media.get': { who: BOTH, family: { field: 'id', via: 'media' }, roles: ANY_ROLE },
  // Its sender, or an owner of the family (checked by the use case against the message).
  'message.delete': { who: BOTH, family: family(), roles: ANY_ROLE },

  // Commands to a watch.
  'command.send': {
    who: USER,
    family: watch(),
    roles: WRITERS,
    permission: (req) => COMMAND_PERMISSION[req.type as CommandType],
  },
  'command.result': { who: DEVICE },

  // Calls: callers of the family; watches need the microphone (and the camera for video).
  'call.start': {
    who: BOTH,
    family: family(),
    roles: WRITERS,
    permission: (req) => (req.video === true ? ['microphone', 'camera'] : ['microphone']),
    what: 'calls',
    budget: { name: 'call-start', points: 20, durationS: 600 },
  },
  /** Signaling inside a call: being a participant is checked by the call itself. */
  'call.signal': { who: BOTH },

  // Operators.
  'ops.incident': { who: USER, scope: 'ops', what: 'an incident notice' },
} as const satisfies Record<string, Rule>;

export type UseCase = keyof typeof RULES;
