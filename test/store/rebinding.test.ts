// A watch that leaves family A and is bound by family B: nothing of A's time with it reaches B
// through the store, whatever the watch uploads late or however it numbers its messages. On
// SQLite and PostgreSQL.
import { randomUUID } from 'node:crypto';
import { describe, it, expect } from 'vitest';
import type { FixRow } from '../../src/store/fixes.js';
import type { NewMessage } from '../../src/store/messages.js';
import type { Store } from '../../src/store/store.js';
import { STORE_KINDS, useFreshStore } from '../helpers/databases.js';

const T0 = 1_700_000_000_000;
/** When family B bound the watch. */
const BOUND_B = T0 + 3_600_000;

function fix(deviceId: string, ts: number, receivedAt: number): FixRow {
  return {
    device_id: deviceId,
    ts,
    lat: 52.52,
    lng: 13.405,
    acc: 10,
    alt: null,
    speed: null,
    heading: null,
    battery: null,
    source: 'gps',
    cell: '891f1d48a2bffff',
    received_at: receivedAt,
  };
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

describe.each(STORE_KINDS)('a re-bound watch (%s)', (kind) => {
  let store: Store;
  useFreshStore(kind, (s) => (store = s));

  async function family(name: string): Promise<string> {
    const owner = randomUUID();
    await store.users.create({ id: owner, email: null, passwordHash: null, nickname: `${name} owner`, createdAt: T0 });
    const id = randomUUID();
    await store.families.create(id, name, owner, T0);
    return id;
  }

  const message = (familyId: string, deviceId: string, clientMsgId: string, ts: number, text: string): NewMessage => ({
    id: randomUUID(),
    conversationId: familyId,
    familyId,
    senderKind: 'device',
    senderId: deviceId,
    clientMsgId,
    kind: 'text',
    text,
    media: null,
    ts,
  });

  it('hides fixes taken before the binding, even when they arrive after it', async () => {
    const dev = randomUUID();
    await store.fixes.insertMany([
      // Taken and received while bound to A.
      fix(dev, T0 + 1000, T0 + 1500),
      // Taken while bound to A, buffered offline, uploaded right after B bound the watch.
      fix(dev, BOUND_B - 60_000, BOUND_B + 5000),
      fix(dev, BOUND_B - 1, BOUND_B + 5000),
      // B's own.
      fix(dev, BOUND_B, BOUND_B + 10),
      fix(dev, BOUND_B + 60_000, BOUND_B + 60_010),
    ]);
    const bs = [BOUND_B, BOUND_B + 60_000];
    expect((await store.fixes.history(dev, 0, BOUND_B + 120_000, undefined, 100, BOUND_B)).map((r) => r.ts)).toEqual(bs);
    // Paging from a cursor keeps the cut.
    expect((await store.fixes.history(dev, 0, BOUND_B + 120_000, T0, 100, BOUND_B)).map((r) => r.ts)).toEqual(bs);
    expect((await collect(store.privacy.fixes(dev, BOUND_B))).map((r) => r.ts)).toEqual(bs);
    expect((await store.fixes.latest(dev, BOUND_B))?.ts).toBe(BOUND_B + 60_000);

    // Only buffered fixes since the binding: latest finds none, rather than A's newest.
    const quiet = randomUUID();
    await store.fixes.insertMany([fix(quiet, BOUND_B - 1, BOUND_B + 5000)]);
    expect(await store.fixes.latest(quiet, BOUND_B)).toBeUndefined();
    expect(await store.fixes.history(quiet, 0, BOUND_B + 120_000, undefined, 100, BOUND_B)).toEqual([]);
    expect(await collect(store.privacy.fixes(quiet, BOUND_B))).toEqual([]);
    // Without a binding cut (the watch's whole track, e.g. for retention) everything is there.
    expect(await store.fixes.history(dev, 0, BOUND_B + 120_000, undefined, 100)).toHaveLength(5);

    // The cells and access points reported with those fixes are cut the same way.
    const obs = { cells: '[]', wifi: null };
    await store.fixObservations.insertMany([
      { device_id: dev, ts: BOUND_B - 1, ...obs },
      { device_id: dev, ts: BOUND_B, ...obs },
    ]);
    expect((await store.fixObservations.between(dev, 0, BOUND_B + 120_000, 100, BOUND_B)).map((o) => o.ts)).toEqual([BOUND_B]);
    expect(await store.fixObservations.between(dev, 0, BOUND_B + 120_000, 100)).toHaveLength(2);
  });

  it('keeps one watch’s clientMsgIds apart per conversation: a restarted counter is new, not a replay', async () => {
    const a = await family('A');
    const b = await family('B');
    const dev = randomUUID();
    const inA = await store.messages.append(message(a, dev, '1', T0 + 10, 'secret of family A'));
    expect(inA.created).toBe(true);

    // Re-bound to B, the watch starts counting from 1 again.
    const inB = await store.messages.append(message(b, dev, '1', BOUND_B + 10, 'hello B'));
    expect(inB.created).toBe(true);
    expect(inB.row).toMatchObject({ conversation_id: b, text: 'hello B', seq: 1 });
    expect((await store.messages.after(b, 0, 10)).map((m) => m.text)).toEqual(['hello B']);

    // A true retry in either conversation still answers with that conversation's first message.
    const retryB = await store.messages.append(message(b, dev, '1', BOUND_B + 20, 'hello B again'));
    expect(retryB).toEqual({ row: inB.row, created: false });
    const retryA = await store.messages.append(message(a, dev, '1', BOUND_B + 30, 'late retry'));
    expect(retryA).toEqual({ row: inA.row, created: false });
    expect(await store.messages.findByClientId('device', dev, b, '1')).toEqual(inB.row);
    expect(await store.messages.findByClientId('device', dev, a, '1')).toEqual(inA.row);
    expect(await store.messages.findByClientId('device', dev, randomUUID(), '1')).toBeUndefined();
  });

  it('races of one send in a new conversation still store it once (the unique index decides)', async () => {
    const a = await family('A');
    const b = await family('B');
    const dev = randomUUID();
    await store.messages.append(message(a, dev, 'x', T0, 'in A'));
    const results = await Promise.all([1, 2, 3].map(() => store.messages.append(message(b, dev, 'x', BOUND_B, 'in B'))));
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(new Set(results.map((r) => r.row.id)).size).toBe(1);
    expect(results.every((r) => r.row.conversation_id === b)).toBe(true);
  });

  it('exports only the current binding’s messages of a watch: its family’s, since it was bound', async () => {
    const a = await family('A');
    const b = await family('B');
    const dev = randomUUID();
    await store.messages.append(message(a, dev, '1', T0 + 10, 'secret of family A'));
    await store.messages.append({
      ...message(a, dev, '2', T0 + 20, 'photo'),
      kind: 'image',
      text: null,
      media: { id: randomUUID(), family_id: a, mime: 'image/png', bytes: 68, duration_ms: null, created_at: T0 + 20 },
    });
    // Bound to B earlier (an earlier binding of B) and again now: only the current one counts.
    await store.messages.append(message(b, dev, '1', BOUND_B - 500_000, 'from an earlier binding of B'));
    await store.messages.append(message(b, dev, '2', BOUND_B + 10, 'hello B'));
    await store.messages.append(message(b, dev, '3', BOUND_B + 20, 'dinner?'));

    const exported = await collect(store.privacy.messagesBy('device', dev, { familyId: b, since: BOUND_B }));
    expect(exported.map((m) => m.text)).toEqual(['hello B', 'dinner?']);
    expect(exported.every((m) => m.conversation_id === b && m.media_id === null)).toBe(true);
    const forA = await collect(store.privacy.messagesBy('device', dev, { familyId: a, since: T0 }));
    expect(forA.map((m) => m.kind)).toEqual(['text', 'image']);
    expect(forA[1]?.mime).toBe('image/png');
  });
});
