// A history deletion in a cluster of two in-process hubs (the Redis backplane on a database of
// this file's own, one PostgreSQL database): answered on one node while the watch's report is in
// flight on the other, it leaves no deleted fix stored, cached as the newest position on any node,
// or told again.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTwoHubs } from '../helpers/cluster.js';
import { type TestHub, api, connect, received, request } from '../helpers/hub.js';
import { BOUND_A_WEEK_AGO, fix, sharingFamily } from '../helpers/location.js';

describe('history deletion across a cluster of two in-process hubs', () => {
  let a: TestHub;
  let b: TestHub;
  let stop = async () => {};

  beforeAll(async () => {
    ({ a, b, stop } = await startTwoHubs(13, 'rights', () => ({
      // A slow group commit keeps each report in flight long enough to race.
      HUB_FIX_BATCH_MAX_DELAY_MS: '80',
    })));
  });
  afterAll(() => stop());

  it('keeps a deleted fix reported through one node out of the store, every node’s newest position and the family', async () => {
    for (let round = 0; round < 5; round++) {
      const fam = await sharingFamily(a, BOUND_A_WEEK_AGO); // the watch and its owner on node a
      const onB = await connect(b, fam.owner.accessToken);
      // Positions from before location was turned on are never the family's newest: both fixes
      // are taken after it (and before now, so the deletion's range covers the second).
      const since = (await a.store.devices.findById(fam.deviceId))!.location_since!;
      const older = fix({ ts: since, lat: 20 });
      expect((await request(fam.watchSocket, 'location:report', older)).accepted).toBe(1);
      const inFlight = fix({ ts: since + 1, lat: 10 + round / 100 });
      const report = request(fam.watchSocket, 'location:report', inFlight);
      // The newest minute goes; the older fix stays.
      const deleted = await api(b, 'DELETE', `/v1/families/${fam.familyId}/devices/${fam.deviceId}/history`, {
        token: fam.owner.accessToken,
        body: { from: older.ts + 1 },
      });
      expect(deleted.status).toBe(200);
      const seen = [received(fam.parentSocket, 'location').length, received(onB, 'location').length];
      expect((await report).ok).toBe(true);
      // A round trip on each node orders us after anything they were still going to send.
      const latestB = await request(onB, 'location:latest', { familyId: fam.familyId });
      const latestA = await request(fam.parentSocket, 'location:latest', { familyId: fam.familyId });
      expect([received(fam.parentSocket, 'location').length, received(onB, 'location').length]).toEqual(seen);
      // Every node answers the fix that is left, never the deleted one.
      expect(latestA.positions.map((p) => p.ts)).toEqual([older.ts]);
      expect(latestB.positions.map((p) => p.ts)).toEqual([older.ts]);
      const kept = await a.store.fixes.history(fam.deviceId, 0, Date.now() + 60_000, undefined, 10);
      expect(kept.map((f) => f.ts)).toEqual([older.ts]);
      // The watch sends the deleted fix again: refused on either node.
      const again = await request(fam.watchSocket, 'location:report', inFlight);
      expect(again).toMatchObject({ accepted: 0 });
      onB.disconnect();
    }
  });
});
