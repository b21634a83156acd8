// The family conversation (its id is the family id): messages in seq order, synced from the
// highest seq held after every (re)connect so nothing is missed, and duplicates dropped.
import type { MessageView, SyncedMessage } from '../../src/contract/models.js';
import { session } from './auth.js';
import { connection, currentSocket, request } from './socket.js';
import { Store } from './store.js';

export interface Conversation {
  messages: readonly MessageView[];
  synced: boolean;
  /** Every seq up to this one is held (events beyond it may be too, with gaps before them). */
  contiguousSeq: number;
}

const conversations = new Map<string, Store<Conversation>>();
const syncing = new Map<string, Promise<void>>();
let wiredTo: ReturnType<typeof currentSocket> = null;

export function conversation(fid: string): Store<Conversation> {
  let c = conversations.get(fid);
  if (!c) {
    c = new Store<Conversation>({ messages: [], synced: false, contiguousSeq: 0 });
    conversations.set(fid, c);
  }
  return c;
}

/** Seqs of deleted messages, per conversation: their slots count as held, with nothing to show. */
const deletedSeqs = new Map<string, Set<number>>();

function merge(fid: string, incoming: readonly SyncedMessage[]): void {
  const c = conversation(fid);
  const deleted = deletedSeqs.get(fid) ?? new Set<number>();
  deletedSeqs.set(fid, deleted);
  const bySeq = new Map(c.get().messages.map((m) => [m.seq, m]));
  for (const m of incoming) {
    if ('deleted' in m) {
      deleted.add(m.seq);
      bySeq.delete(m.seq);
    } else if (!deleted.has(m.seq)) bySeq.set(m.seq, m);
  }
  let contiguous = c.get().contiguousSeq;
  while (bySeq.has(contiguous + 1) || deleted.has(contiguous + 1)) contiguous++;
  c.set({ ...c.get(), messages: [...bySeq.values()].sort((a, b) => a.seq - b.seq), contiguousSeq: contiguous });
}

/** Fetches what is missing after the highest seq held, until the hub says there is no more. */
export function syncConversation(fid: string): Promise<void> {
  wireChat();
  let p = syncing.get(fid);
  if (p) return p;
  p = (async () => {
    for (;;) {
      const afterSeq = conversation(fid).get().contiguousSeq;
      const r = await request('chat:sync', { conversationId: fid, afterSeq, limit: 200 });
      merge(fid, r.messages);
      // The retention purge may have removed the oldest messages: start from what is there.
      const last = r.messages.at(-1)?.seq;
      if (last !== undefined) conversation(fid).update((c) => ({ ...c, contiguousSeq: Math.max(c.contiguousSeq, last) }));
      if (!r.hasMore) break;
    }
    conversation(fid).update((c) => ({ ...c, synced: true }));
  })().finally(() => syncing.delete(fid));
  syncing.set(fid, p);
  return p;
}

export async function sendText(fid: string, text: string): Promise<MessageView> {
  const { message } = await request('chat:send', { conversationId: fid, clientMsgId: crypto.randomUUID(), kind: 'text', text });
  merge(fid, [message]);
  return message;
}

export async function sendMedia(
  fid: string,
  kind: 'voice' | 'image',
  data: ArrayBuffer,
  mime: string,
  durationMs?: number,
): Promise<MessageView> {
  // Binary goes as a Socket.IO attachment (an ArrayBuffer), never as base64 text.
  const media =
    durationMs === undefined ? { data: new Uint8Array(data), mime } : { data: new Uint8Array(data), mime, durationMs };
  const { message } = await request('chat:send', { conversationId: fid, clientMsgId: crypto.randomUUID(), kind, media }, 60_000);
  merge(fid, [message]);
  return message;
}

export function markRead(fid: string, seq: number): void {
  void request('chat:read', { conversationId: fid, seq }).catch(() => undefined);
}

function wireChat(): void {
  const s = currentSocket();
  if (!s || wiredTo === s) return;
  wiredTo = s;
  s.on('chat:message', ({ message }) => {
    const fid = message.conversationId;
    merge(fid, [message]);
    // A gap (events of concurrent sends can arrive out of order, or we were away): sync from the
    // last contiguous seq.
    const c = conversation(fid).get();
    if (c.synced && message.seq > c.contiguousSeq) void syncConversation(fid).catch(() => undefined);
  });
  s.on('chat:deleted', ({ conversationId, id }) => {
    const gone = conversation(conversationId)
      .get()
      .messages.find((m) => m.id === id);
    if (gone) merge(conversationId, [{ id, conversationId, seq: gone.seq, deleted: true }]);
  });
}

connection.subscribe((st) => {
  if (st !== 'online') return;
  for (const fid of conversations.keys()) void syncConversation(fid).catch(() => undefined);
});
session.subscribe((st) => {
  if (st.status === 'signedIn') return;
  conversations.clear();
  deletedSeqs.clear();
  wiredTo = null;
});
