// The family conversation (its id is the family id): messages in seq order, synced from the
// highest seq held after every (re)connect so nothing is missed, and duplicates dropped.
import type { DeletedMessageView, MessageView, Role, SyncedMessage } from '../../src/contract/models.js';
import { api } from './api.js';
import { session } from './auth.js';
import { connection, currentSocket, request } from './socket.js';
import { Store } from './store.js';

export interface Conversation {
  messages: readonly MessageView[];
  /** Deleted messages' slots, in seq order: shown as deleted, with nothing of what they said. */
  deleted: readonly DeletedMessageView[];
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
    c = new Store<Conversation>({ messages: [], deleted: [], synced: false, contiguousSeq: 0 });
    conversations.set(fid, c);
  }
  return c;
}

/** Deleted messages' slots count as held, with nothing to show but that they were deleted. */
function merge(fid: string, incoming: readonly SyncedMessage[]): void {
  const c = conversation(fid);
  const deleted = new Map(c.get().deleted.map((m) => [m.seq, m]));
  const bySeq = new Map(c.get().messages.map((m) => [m.seq, m]));
  for (const m of incoming) {
    if ('deleted' in m) {
      deleted.set(m.seq, m);
      bySeq.delete(m.seq);
    } else if (!deleted.has(m.seq)) bySeq.set(m.seq, m);
  }
  let contiguous = c.get().contiguousSeq;
  while (bySeq.has(contiguous + 1) || deleted.has(contiguous + 1)) contiguous++;
  const bySeqOrder = <T extends { seq: number }>(a: T, b: T) => a.seq - b.seq;
  c.set({
    ...c.get(),
    messages: [...bySeq.values()].sort(bySeqOrder),
    deleted: [...deleted.values()].sort(bySeqOrder),
    contiguousSeq: contiguous,
  });
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

/**
 * Whether the signed-in user may delete the message (docs/protocol.md, `DELETE …/messages/:mid`):
 * its sender, whatever their role, and every owner of the family, a watch's messages included.
 */
export const canDeleteMessage = (m: MessageView, role: Role | undefined, myId: string): boolean =>
  role === 'owner' || (m.sender.kind === 'user' && m.sender.id === myId);

/** Deletes a message for everyone; the other apps learn it from `chat:deleted`. */
export async function deleteMessage(fid: string, m: MessageView): Promise<void> {
  await api.deleteMessage(fid, m.id);
  merge(fid, [{ id: m.id, conversationId: m.conversationId, seq: m.seq, deleted: true }]);
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
  wiredTo = null;
});
