// Two in-process hubs, one cluster (Redis database 12, one PostgreSQL database): a password
// changed on one node ends the other sessions' sockets on the other node, and their tokens there;
// a role changed on one node holds on the other at once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTwoHubs } from '../helpers/cluster.js';
import { type TestHub, addMember, api, connect, createFamily, registerUser, request, waitFor } from '../helpers/hub.js';

describe('account care across a cluster of two in-process hubs', () => {
  let a: TestHub;
  let b: TestHub;
  let stop = async () => {};

  beforeAll(async () => {
    ({ a, b, stop } = await startTwoHubs(12, 'acct'));
  });
  afterAll(() => stop());

  it('a password changed on one node disconnects the other sessions on the other node', async () => {
    const me = await registerUser(a);
    const phone = await api(b, 'POST', '/v1/auth/login', { body: { email: me.email, password: me.password } });
    expect(phone.status).toBe(200);
    const onB = await connect(b, phone.body.accessToken);
    const mineOnB = await connect(b, me.accessToken);
    const expired = waitFor(onB, 'session:expired');
    const gone = new Promise<void>((resolve) => onB.once('disconnect', () => resolve()));

    const changed = await api(a, 'POST', '/v1/me/password', {
      token: me.accessToken,
      body: { currentPassword: me.password, newPassword: 'a brand new passphrase' },
    });
    expect(changed.status).toBe(204);
    await expired;
    await gone;
    const stale = await api(b, 'GET', '/v1/me', { token: phone.body.accessToken });
    expect(stale.status).toBe(401);
    expect(stale.body.error.reason).toBe('session_ended');
    // The caller's own session goes on, on the other node too.
    expect((await request(mineOnB, 'presence:list', { familyId: 'none' })).error.reason).toBe('not_member');
    expect(mineOnB.connected).toBe(true);
    mineOnB.disconnect();
  });

  it('a role changed on one node holds on a live socket on the other at once', async () => {
    const owner = await registerUser(a);
    const fid = await createFamily(a, owner);
    const guardian = await addMember(a, owner, fid, 'guardian');
    const onB = await connect(b, guardian.accessToken);
    const say = (n: number) => request(onB, 'chat:send', { conversationId: fid, clientMsgId: `c${n}`, kind: 'text', text: 'hi' });
    expect((await say(1)).ok).toBe(true);
    const told = waitFor(onB, 'member:updated', (e) => e.member.userId === guardian.id);
    expect(
      (await api(a, 'PUT', `/v1/families/${fid}/members/${guardian.id}`, { token: owner.accessToken, body: { role: 'viewer' } }))
        .status,
    ).toBe(200);
    expect((await told).member.role).toBe('viewer');
    expect((await say(2)).error.reason).toBe('role_required');
    onB.disconnect();
  });
});
