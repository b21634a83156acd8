// Walks the authorization table (src/auth/rules.ts) through the real guard of a running hub: every
// use case refuses the principal kinds it is not for, strangers to the family, members whose role
// is too low, watches without the permission it needs, and callers without its scope. The table
// is also compared with the expectations written here, so loosening an entry fails this test.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Rule } from '../../src/auth/policy.js';
import { RULES, type UseCase } from '../../src/auth/rules.js';
import type { HubError } from '../../src/contract/errors.js';
import type { Principal, Role } from '../../src/contract/models.js';
import { type TestHub, type TestUser, addMember, api, connect, familyWithWatch, request, startHub } from '../helpers/hub.js';

type Who = 'user' | 'device' | 'both';
interface Expected {
  who: Who;
  /** The lowest role that may (owner > guardian > viewer); absent: no family. */
  minRole?: Role;
  via?: 'family' | 'watch' | 'alert' | 'media';
  scope?: 'ops';
  /** Requests that need a permission of the watch, and which. */
  needs?: { req: Record<string, unknown>; permission: string }[];
}

/** What each use case must demand: written out here, independently of src/auth/rules.ts. */
const EXPECTED: Record<UseCase, Expected> = {
  'account.me': { who: 'user' },
  'account.export': { who: 'user' },
  'account.delete': { who: 'user' },
  'account.update': { who: 'user' },
  'account.password': { who: 'user' },
  'account.policy': { who: 'user' },
  'family.create': { who: 'user' },
  'family.list': { who: 'user' },
  'family.get': { who: 'user', via: 'family', minRole: 'viewer' },
  'family.invite': { who: 'user', via: 'family', minRole: 'owner' },
  'invite.accept': { who: 'user' },
  'watch.bind': { who: 'user', via: 'family', minRole: 'guardian' },
  'watch.unbind': { who: 'user', via: 'family', minRole: 'owner' },
  'watch.permissions': { who: 'user', via: 'family', minRole: 'owner' },
  'watch.consents': { who: 'user', via: 'family', minRole: 'owner' },
  'watch.export': { who: 'user', via: 'family', minRole: 'owner' },
  'family.rename': { who: 'user', via: 'family', minRole: 'owner' },
  'family.delete': { who: 'user', via: 'family', minRole: 'owner' },
  'watch.history.delete': { who: 'user', via: 'family', minRole: 'owner' },
  'family.audit': { who: 'user', via: 'family', minRole: 'owner' },
  'member.remove': { who: 'user', via: 'family', minRole: 'owner' },
  'member.role': { who: 'user', via: 'family', minRole: 'owner' },
  'member.leave': { who: 'user', via: 'family', minRole: 'viewer' },
  'member.emergencyContact': { who: 'user', via: 'family', minRole: 'owner' },
  'push.register': { who: 'user' },
  'notifications.settings': { who: 'user' },
  'presence.list': { who: 'both', via: 'family', minRole: 'viewer' },
  'geofence.write': { who: 'user', via: 'family', minRole: 'guardian' },
  'geofence.read': { who: 'user', via: 'family', minRole: 'viewer' },
  'geofence.events': { who: 'user', via: 'family', minRole: 'viewer' },
  'alert.list': { who: 'user', via: 'family', minRole: 'viewer' },
  'alert.raise': { who: 'device' },
  'alert.ack': { who: 'user', via: 'alert', minRole: 'guardian' },
  'location.report': { who: 'device', needs: [{ req: {}, permission: 'location' }] },
  'health.report': { who: 'device', needs: [{ req: {}, permission: 'health' }] },
  'health.read': { who: 'user', via: 'family', minRole: 'guardian' },
  'location.latest': { who: 'user', via: 'family', minRole: 'viewer' },
  'location.history': { who: 'user', via: 'watch', minRole: 'viewer' },
  'area.subscribe': { who: 'user' },
  'area.positions': { who: 'user', scope: 'ops' },
  'chat.send': {
    who: 'both',
    via: 'family',
    minRole: 'guardian',
    needs: [
      { req: { kind: 'voice' }, permission: 'microphone' },
      { req: { kind: 'image' }, permission: 'camera' },
    ],
  },
  'chat.read': { who: 'both', via: 'family', minRole: 'viewer' },
  'media.get': { who: 'both', via: 'media', minRole: 'viewer' },
  'message.delete': { who: 'both', via: 'family', minRole: 'viewer' },
  'command.send': {
    who: 'user',
    via: 'watch',
    minRole: 'guardian',
    needs: [
      { req: { type: 'photo' }, permission: 'camera' },
      { req: { type: 'set_contacts' }, permission: 'contacts' },
    ],
  },
  'command.result': { who: 'device' },
  'call.start': {
    who: 'both',
    via: 'family',
    minRole: 'guardian',
    needs: [
      { req: { video: false }, permission: 'microphone' },
      { req: { video: true }, permission: 'microphone' },
    ],
  },
  'call.signal': { who: 'both' },
  'ops.incident': { who: 'user', scope: 'ops' },
};

const ROLE_ORDER: Role[] = ['viewer', 'guardian', 'owner'];
const whoOf = (rule: Rule): Who => (rule.who.length === 2 ? 'both' : (rule.who[0] as Who));

async function refusal(p: Promise<unknown>): Promise<{ code: string; reason: string }> {
  try {
    await p;
  } catch (err) {
    const e = err as HubError;
    return { code: e.code, reason: e.reason };
  }
  return { code: 'ALLOWED', reason: 'allowed' };
}

describe('the authorization table', () => {
  let t: TestHub;
  let owner: TestUser;
  let guardian: TestUser;
  let viewer: TestUser;
  let stranger: TestUser;
  let familyId: string;
  let watch: Principal;
  let foreignWatch: Principal;
  const ids: Record<'alert' | 'media', string> = { alert: '', media: '' };

  beforeAll(async () => {
    t = await startHub();
    const fam = await familyWithWatch(t);
    owner = fam.owner;
    familyId = fam.familyId;
    watch = { kind: 'device', id: fam.watch.deviceId };
    guardian = await addMember(t, owner, familyId, 'guardian');
    viewer = await addMember(t, owner, familyId, 'viewer');
    const other = await familyWithWatch(t);
    stranger = other.owner;
    foreignWatch = { kind: 'device', id: other.watch.deviceId };
    // An alert and a media item of the family, for the rules that find the family through them.
    const w = await connect(t, fam.watch.deviceToken);
    ids.alert = (await request(w, 'alert:raise', { type: 'removed', ts: Date.now() })).alert.id;
    const o = await connect(t, owner.accessToken);
    const sent = await request(o, 'chat:send', {
      conversationId: familyId,
      clientMsgId: 'photo-1',
      kind: 'image',
      media: {
        data: Buffer.from(
          '89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63f8ffff3f0005fe02fea7d6a4e60000000049454e44ae426082',
          'hex',
        ),
        mime: 'image/png',
      },
    });
    ids.media = sent.message.media!.id;
    expect(ids.alert && ids.media).toBeTruthy();
    // The watch has every permission off: the family owner has not turned any on.
    const perms = await api(t, 'GET', `/v1/families/${familyId}`, { token: owner.accessToken });
    expect(perms.body.devices[0].permissions).toEqual({
      location: false,
      camera: false,
      microphone: false,
      contacts: false,
      health: false,
    });
  });
  afterAll(() => t.close());

  const guard = () => t.hub.services.guard;
  const user = (u: TestUser): Principal => ({ kind: 'user', id: u.id });
  const reqFor = (rule: Rule, extra: Record<string, unknown> = {}): Record<string, unknown> => {
    if (!rule.family) return { ...extra };
    const value = { family: familyId, watch: watch.id, alert: ids.alert, media: ids.media }[rule.family.via];
    return { ...extra, [rule.family.field]: value };
  };

  it('is what this test expects, entry by entry (loosening an entry fails here)', () => {
    expect(Object.keys(RULES).sort()).toEqual(Object.keys(EXPECTED).sort());
    for (const [name, rule] of Object.entries(RULES) as [UseCase, Rule][]) {
      const e = EXPECTED[name];
      expect(whoOf(rule), `${name}: who`).toBe(e.who);
      expect(rule.family?.via, `${name}: family`).toBe(e.via);
      expect(rule.scope, `${name}: scope`).toBe(e.scope);
      const allowed = e.minRole ? ROLE_ORDER.slice(ROLE_ORDER.indexOf(e.minRole)) : undefined;
      if (e.via) expect([...(rule.roles ?? ROLE_ORDER)].sort(), `${name}: roles`).toEqual([...allowed!].sort());
    }
  });

  it.each(Object.keys(EXPECTED) as UseCase[])('%s refuses whoever it is not for', async (name) => {
    const rule: Rule = RULES[name];
    const e = EXPECTED[name];
    const req = reqFor(rule, e.needs?.[0]?.req);
    // The principal kind it is not for.
    if (e.who === 'user')
      expect(await refusal(guard().check(rule, watch, req))).toEqual({ code: 'FORBIDDEN', reason: 'principal_kind' });
    if (e.who === 'device')
      expect(await refusal(guard().check(rule, user(owner), req))).toEqual({ code: 'FORBIDDEN', reason: 'principal_kind' });
    if (e.scope) {
      expect(await refusal(guard().check(rule, user(owner), req))).toEqual({ code: 'FORBIDDEN', reason: 'ops_scope_required' });
      expect(await refusal(guard().check(rule, user(owner), req, ['ops']))).toEqual({ code: 'ALLOWED', reason: 'allowed' });
    }
    if (e.via) {
      // A stranger to the family: refused as if the thing did not exist.
      const strange = { family: 'not_member', watch: 'watch_not_in_family', alert: 'no_such_alert', media: 'no_such_media' }[
        e.via
      ];
      if (e.who !== 'device') expect((await refusal(guard().check(rule, user(stranger), req))).reason).toBe(strange);
      if (e.who !== 'user')
        expect((await refusal(guard().check(rule, foreignWatch, req))).reason).toBe(
          e.via === 'family' ? 'watch_not_in_family' : strange,
        );
      // Members below the role it needs.
      for (const [role, member] of [
        ['viewer', viewer],
        ['guardian', guardian],
      ] as const) {
        const below = ROLE_ORDER.indexOf(role) < ROLE_ORDER.indexOf(e.minRole!);
        const got = await refusal(guard().check(rule, user(member), req));
        if (below) expect(got, `${name} as ${role}`).toEqual({ code: 'FORBIDDEN', reason: 'role_required' });
        else expect(got.reason, `${name} as ${role}`).not.toBe('role_required');
      }
    }
  });

  it.each((Object.keys(EXPECTED) as UseCase[]).filter((n) => EXPECTED[n].needs))(
    '%s refuses a watch without the permission it needs',
    async (name) => {
      const rule: Rule = RULES[name];
      for (const { req, permission } of EXPECTED[name].needs!) {
        // The watch asking (its own permission), or the watch a user's request names.
        const asker = EXPECTED[name].who === 'user' ? user(owner) : watch;
        expect(await refusal(guard().check(rule, asker, reqFor(rule, req))), JSON.stringify(req)).toEqual({
          code: 'CONSENT_REQUIRED',
          reason: `permission_off.${permission}`,
        });
      }
    },
  );
});
