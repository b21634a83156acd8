// Push through the webhook provider, with a real HTTP endpoint standing in for the phone push
// service: one notification per message for each member with no connection, retried after a
// 500, signed, and without the message text.
import { createHmac } from 'node:crypto';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestHub, addMember, connect, request, startHub } from '../helpers/hub.js';
import { sharingFamily } from '../helpers/location.js';

const SECRET = 'webhook-secret-0123456789';

interface Delivery {
  headers: Record<string, string | string[] | undefined>;
  raw: string;
  body: { id: string; userId: string; notification: Record<string, unknown> };
}

describe('push to members with no connection', () => {
  let server: Server;
  let t: TestHub;
  const deliveries: Delivery[] = [];
  let failNext = 0;
  const waiters: (() => void)[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      let raw = '';
      req.on('data', (c: Buffer) => (raw += c.toString()));
      req.on('end', () => {
        if (failNext > 0) {
          failNext--;
          res.writeHead(500).end();
          return;
        }
        deliveries.push({ headers: req.headers, raw, body: JSON.parse(raw) as Delivery['body'] });
        res.writeHead(204).end();
        waiters.splice(0).forEach((w) => w());
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    t = await startHub({ env: { HUB_PUSH_WEBHOOK_URL: `http://127.0.0.1:${port}/push`, HUB_PUSH_WEBHOOK_SECRET: SECRET } });
  });
  afterAll(async () => {
    await t.close();
    await new Promise((resolve) => server.close(resolve));
  });

  const deliveriesFor = async (userId: string, count: number) => {
    for (let i = 0; i < 200 && deliveries.filter((d) => d.body.userId === userId).length < count; i++) {
      await new Promise<void>((resolve) => {
        waiters.push(resolve);
        setTimeout(resolve, 100);
      });
    }
    return deliveries.filter((d) => d.body.userId === userId);
  };

  it('sends exactly one push per message to an offline member, retried after a 500', async () => {
    const a = await sharingFamily(t);
    const away = await addMember(t, a.owner, a.familyId, 'guardian');
    const online = await addMember(t, a.owner, a.familyId, 'viewer');
    const os = await connect(t, online.accessToken);
    failNext = 1;
    const sent = await request(a.parentSocket, 'chat:send', {
      conversationId: a.familyId,
      clientMsgId: 'p1',
      kind: 'text',
      text: 'secret plans',
    });
    expect(sent.ok).toBe(true);
    const got = await deliveriesFor(away.id, 1);
    expect(got).toHaveLength(1);
    const d = got[0]!;
    expect(d.body.notification).toMatchObject({
      kind: 'message',
      familyId: a.familyId,
      conversationId: a.familyId,
      messageId: sent.message.id,
      seq: sent.message.seq,
    });
    expect(d.raw).not.toContain('secret plans');
    const expected = `sha256=${createHmac('sha256', SECRET).update(d.raw).digest('hex')}`;
    expect(d.headers['x-hub-signature']).toBe(expected);
    // A second message: one more push for the away member; none ever for those connected.
    await request(a.parentSocket, 'chat:send', { conversationId: a.familyId, clientMsgId: 'p2', kind: 'text', text: 'more' });
    expect(await deliveriesFor(away.id, 2)).toHaveLength(2);
    expect(deliveries.filter((x) => x.body.userId === online.id || x.body.userId === a.owner.id)).toEqual([]);
    // The outbox row was retried, not duplicated.
    expect(new Set(deliveries.map((x) => x.headers['x-hub-delivery'])).size).toBe(deliveries.length);
    os.disconnect();
  });

  it('pushes alerts to offline members without coordinates', async () => {
    const a = await sharingFamily(t);
    const away = await addMember(t, a.owner, a.familyId, 'guardian');
    await request(a.watchSocket, 'alert:raise', { type: 'sos', ts: Date.now(), lat: 48.85, lng: 2.35 });
    const got = await deliveriesFor(away.id, 1);
    expect(got[0]!.body.notification).toMatchObject({ kind: 'alert', alertType: 'sos', deviceId: a.deviceId });
    expect(got[0]!.raw).not.toContain('48.85');
  });
});
