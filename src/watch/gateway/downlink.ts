// What goes down to a TCP watch: the commands the queue delivers (src/commands: queued ones when
// the watch connects, new ones at once) and the family's chat messages (text as MESSAGE, voice as
// TK with AMR-NB; on connecting, those it missed while away). Each frame written is remembered
// with its answer key, so the watch's echo marks the oldest delivered command of that type done,
// or the message read (see echoes.ts).
import { HubError } from '../../contract/errors.js';
import type { MessageView } from '../../contract/models.js';
import type { WatchRelayMessage } from '../../contract/events.js';
import type { Downlink } from '../codec/index.js';
import { toAmrNb } from './audio.js';
import type { WatchConnection } from './connection.js';

type RelayedCommand = Extract<WatchRelayMessage, { type: 'command' }>['command'];

async function voiceOf(
  conn: WatchConnection,
  mediaId: string,
): Promise<{ ok: true; audio: Buffer } | { ok: false; reason: string }> {
  const { chat } = conn.ctx.services;
  const media = await chat.media(conn.principal, mediaId).catch(() => undefined);
  if (!media) return { ok: false, reason: 'media_gone' };
  const amr = await toAmrNb(conn.ctx.services.audio, await chat.mediaBytes(media));
  return amr.ok ? amr : { ok: false, reason: amr.reason };
}

/** The command as a downlink, or why it cannot be one. */
async function downlinkOf(conn: WatchConnection, c: RelayedCommand): Promise<Downlink | string> {
  const params = c.params as never;
  switch (c.type) {
    case 'locate':
    case 'find':
    case 'photo':
    case 'power_off':
      return { type: c.type };
    case 'set_interval':
    case 'set_sos_numbers':
    case 'set_contacts':
    case 'set_quiet_hours':
      return { type: c.type, params } as Downlink;
    case 'voice_reminder': {
      const v = await voiceOf(conn, String((c.params as { mediaId?: unknown }).mediaId));
      return v.ok ? { type: 'voice_reminder', audio: v.audio } : `voice reminder undeliverable: ${v.reason}`;
    }
    default:
      return `this watch does not support ${c.type}`;
  }
}

export function deliverCommand(conn: WatchConnection, c: RelayedCommand): void {
  conn.enqueue(async () => {
    if (conn.isClosed || conn.echoes.has(c.id)) return;
    const d = await downlinkOf(conn, c);
    const sent = typeof d === 'string' ? { ok: false as const, message: d } : conn.send(d);
    if (sent.ok) {
      conn.echoes.add({ commandId: c.id, commandType: c.type, keys: sent.answers, ok: true });
      return;
    }
    if (conn.isClosed) return; // delivered again on the next connection
    // Cannot be carried out by this watch (e.g. four SOS numbers, a voice note with no converter).
    await conn.ctx.services.commands
      .result(conn.principal, { id: c.id, status: 'failed', result: { error: sent.message } })
      .catch(() => undefined);
  });
}

/** Replayed on connecting: at most this many messages, and none older than this. */
const REPLAY_LIMIT = 20;
const REPLAY_MAX_AGE_MS = 24 * 3_600_000;

export function deliverMessage(conn: WatchConnection, m: MessageView): void {
  // Its own messages are not sent back to it.
  if (m.sender.kind === 'device' && m.sender.id === conn.deviceId) return;
  conn.enqueue(() => sendMessage(conn, m));
}

/**
 * The family's messages the watch missed while it was away (the protocol has no sync of its
 * own): queued as soon as the connection is claimed, before any message the relay brings, so the
 * watch gets them in order and none twice. A message counts as read once the watch echoes it.
 */
export function replayUnread(conn: WatchConnection): void {
  conn.enqueue(async () => {
    if (conn.isClosed || !conn.familyId) return;
    const missed = await conn.ctx.services.chat
      .unreadForWatch(conn.principal, conn.familyId, { maxAgeMs: REPLAY_MAX_AGE_MS, limit: REPLAY_LIMIT })
      .catch((err: unknown) => {
        // Unbound (or its family gone) since it connected: nothing of the family is its any more.
        if (err instanceof HubError) return [];
        throw err;
      });
    for (const m of missed) await sendMessage(conn, m);
  });
}

async function sendMessage(conn: WatchConnection, m: MessageView): Promise<void> {
  if (conn.isClosed) return;
  // Already given to the watch on this connection (replayed, then relayed as well).
  const seen = conn.chatSeen;
  if (seen && seen.conversationId === m.conversationId && m.seq <= seen.seq) return;
  conn.chatSeen = { conversationId: m.conversationId, seq: m.seq };
  const { chat } = conn.ctx.services;
  const undeliverable = (reason: string) => {
    conn.ctx.metrics.undeliverable.inc({ reason });
    chat.undeliverable(conn.principal, m, reason);
  };
  let d: Downlink;
  if (m.kind === 'text' && m.text) d = { type: 'text_message', text: m.text };
  else if (m.kind === 'voice' && m.media) {
    const v = await voiceOf(conn, m.media.id);
    if (!v.ok) return undeliverable(v.reason);
    d = { type: 'voice_message', audio: v.audio };
  } else return undeliverable(m.kind === 'image' ? 'images_not_supported' : 'unsupported');
  const sent = conn.send(d);
  const message = { conversationId: m.conversationId, seq: m.seq };
  if (sent.ok) conn.echoes.add({ commandId: null, commandType: null, message, keys: sent.answers, ok: true });
  else if (!conn.isClosed) undeliverable('too_large');
}
