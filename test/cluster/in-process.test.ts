// Two hubs in this process, one cluster (the Redis backplane on a database of this file's own, one
// PostgreSQL database): what one node decides takes effect on the other before it is answered.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTwoHubs } from '../helpers/cluster.js';
import { type TestHub, addMember, api, connect, received, request, waitFor } from '../helpers/hub.js';
import { fix, sharingFamily } from '../helpers/location.js';

describe('a cluster of two in-process hubs', () => {
  let a: TestHub;
  let b: TestHub;
  let stop = async () => {};

  beforeAll(async () => {
    ({ a, b, stop } = await startTwoHubs(15, 'in', (node) => ({
      HUB_FIX_BATCH_MAX_DELAY_MS: '80',
      MEDIASOUP_WORKERS: '1',
      // Each node's own range of RTC ports.
      MEDIASOUP_MIN_PORT: node === 'a' ? '44100' : '44200',
      MEDIASOUP_MAX_PORT: node === 'a' ? '44199' : '44299',
    })));
  });
  afterAll(() => stop());

  it('keeps a report in flight on one node from anyone once another node has answered the unbind', async () => {
    for (let round = 0; round < 5; round++) {
      const fam = await sharingFamily(a); // the watch and its owner on node a
      const onB = await connect(b, fam.owner.accessToken);
      const report = request(fam.watchSocket, 'location:report', fix({ lat: 10 + round / 100 }));
      const unbound = await api(b, 'DELETE', `/v1/families/${fam.familyId}/devices/${fam.deviceId}`, {
        token: fam.owner.accessToken,
      });
      expect(unbound.status).toBe(204);
      const seen = [received(fam.parentSocket, 'location').length, received(onB, 'location').length];
      await report;
      // A round trip on each node orders us after anything they were still going to send.
      await request(onB, 'location:latest', { familyId: fam.familyId });
      await request(fam.parentSocket, 'location:latest', { familyId: fam.familyId });
      expect([received(fam.parentSocket, 'location').length, received(onB, 'location').length]).toEqual(seen);
      // Nothing of it is kept in the shared newest positions.
      expect(await b.hub.services.backplane.positions.get(fam.deviceId)).toBeUndefined();
      onB.disconnect();
    }
  });

  it('ends the call part of a member removed on another node than the call’s', async () => {
    const fam = await sharingFamily(a);
    await api(a, 'PUT', `/v1/families/${fam.familyId}/devices/${fam.deviceId}/permissions`, {
      token: fam.owner.accessToken,
      body: { location: true, camera: false, microphone: true, contacts: false },
    });
    const guardian = await addMember(a, fam.owner, fam.familyId, 'guardian');
    const gs = await connect(a, guardian.accessToken);
    // The call lives on node a (its caller is there).
    const started = await request(fam.parentSocket, 'call:start', {
      familyId: fam.familyId,
      invitees: [
        { kind: 'user', id: guardian.id },
        { kind: 'device', id: fam.deviceId },
      ],
      video: false,
    });
    expect(started.ok).toBe(true);
    expect((await request(gs, 'call:accept', { callId: started.callId })).ok).toBe(true);
    const out = waitFor(gs, 'call:state', (e) => e.state === 'ended');
    // Removed through node b.
    expect(
      (await api(b, 'DELETE', `/v1/families/${fam.familyId}/members/${guardian.id}`, { token: fam.owner.accessToken })).status,
    ).toBe(204);
    expect(await out).toMatchObject({ callId: started.callId, reason: 'removed' });
    await request(fam.parentSocket, 'call:hangup', { callId: started.callId });
    gs.disconnect();
  });

  it('rings an invitee who connects to another node than the call’s while it rings', async () => {
    const fam = await sharingFamily(a);
    const guardian = await addMember(a, fam.owner, fam.familyId, 'guardian');
    // The call lives on node a; the guardian has no socket yet.
    const started = await request(fam.parentSocket, 'call:start', {
      familyId: fam.familyId,
      invitees: [{ kind: 'user', id: guardian.id }],
      video: false,
    });
    expect(started.ok).toBe(true);
    const gs = await connect(b, guardian.accessToken);
    expect(await waitFor(gs, 'call:ring', () => true, { past: true })).toEqual({
      callId: started.callId,
      from: { kind: 'user', id: fam.owner.id },
      video: false,
    });
    // Answered from node b: the request goes to node a, which hosts the call.
    expect((await request(gs, 'call:accept', { callId: started.callId })).ok).toBe(true);
    await request(fam.parentSocket, 'call:hangup', { callId: started.callId });
    gs.disconnect();
  });
});
