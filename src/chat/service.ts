// Family chat: one conversation per family (its id is the family id). Text, voice and images;
// ids and gap-free seqs from the store; idempotent per sender and clientMsgId; acked once durable,
// then told to the family room and pushed to members with no connection.
import { randomUUID } from 'node:crypto';
import { type RateLimiterAbstract, RateLimiterRes } from 'rate-limiter-flexible';
import type { LimiterFactory } from '../backplane/backplane.js';
import type { Guard } from '../auth/policy.js';
import { MESSAGE_PERMISSION, RULES } from '../auth/rules.js';
import { E } from '../contract/errors.js';
import type { MessageKind, MessageView, Principal, SyncedMessage } from '../contract/models.js';
import { rooms } from '../contract/rooms.js';
import type { EventPayload } from '../contract/schemas.js';
import type { HubMetrics } from '../metrics.js';
import type { RoomControl } from '../realtime/room-control.js';
import type { MediaRow, MessageRow } from '../store/messages.js';
import type { Store } from '../store/store.js';
import { type MediaLimits, checkMedia } from './media-check.js';
import type { VoiceFormats } from './voice-formats.js';

export interface ChatOptions extends MediaLimits {
  maxTextChars: number;
  /** Stored media bytes a family may hold. */
  familyQuotaBytes: number;
  /** Media bytes one sender may upload per minute and per day. */
  uploadBytesPerMin: number;
  uploadBytesPerDay: number;
}

/** Tells family members who have no connection (push). */
export type OfflineNotifier = (
  familyId: string,
  except: Principal,
  n: { kind: 'message'; familyId: string; ts: number; conversationId: string; messageId: string; seq: number; text?: string },
) => Promise<void>;

export const mediaUrl = (id: string) => `/v1/media/${id}`;

export function messageView(row: MessageRow, media: MediaRow | undefined): MessageView {
  return {
    id: row.id,
    conversationId: row.conversation_id,
    seq: row.seq,
    sender: { kind: row.sender_kind as Principal['kind'], id: row.sender_id },
    kind: row.kind as MessageKind,
    ...(row.text !== null ? { text: row.text } : {}),
    ...(media
      ? {
          media: {
            id: media.id,
            mime: media.mime,
            bytes: media.bytes,
            ...(media.duration_ms !== null ? { durationMs: media.duration_ms } : {}),
            url: mediaUrl(media.id),
          },
        }
      : {}),
    ts: row.ts,
  };
}

/** What `chat:sync` shows of a stored message: the message, or only its slot once deleted. */
export function syncedView(row: MessageRow, media: MediaRow | undefined): SyncedMessage {
  if (row.deleted_at !== null) return { id: row.id, conversationId: row.conversation_id, seq: row.seq, deleted: true };
  return messageView(row, media);
}

export class ChatService {
  private readonly uploads: { perMin: RateLimiterAbstract; perDay: RateLimiterAbstract };

  constructor(
    private readonly deps: {
      store: Store;
      guard: Guard;
      roomControl: RoomControl;
      notifyOffline: OfflineNotifier;
      onPushError: (err: unknown) => void;
      limiter: LimiterFactory;
      metrics: Pick<HubMetrics, 'mediaStored' | 'mediaRefused'>;
      clock: () => number;
      /** Voice notes in other formats (AMR → Ogg for browsers). */
      voiceFormats: VoiceFormats;
    },
    private readonly opts: ChatOptions,
  ) {
    this.uploads = {
      perMin: deps.limiter({ keyPrefix: 'upload-min', points: opts.uploadBytesPerMin, durationS: 60 }),
      perDay: deps.limiter({ keyPrefix: 'upload-day', points: opts.uploadBytesPerDay, durationS: 86_400 }),
    };
  }

  /**
   * One sender's uploads are bounded per minute and per day, and a family's stored media by its
   * quota, so no one can fill the disk that everyone's fixes and messages need.
   */
  private async admitUpload(sender: Principal, familyId: string, bytes: number): Promise<void> {
    const refuse = (reason: string, err: Error): never => {
      this.deps.metrics.mediaRefused.inc({ reason });
      throw err;
    };
    const held = await this.deps.store.messages.mediaBytesOf(familyId);
    if (held + bytes > this.opts.familyQuotaBytes) {
      refuse(
        'storage_full',
        E.storageFull('the family’s storage for voice notes and photos is full: delete some, or ask the operator'),
      );
    }
    const who = `${sender.kind}:${sender.id}`;
    for (const limiter of [this.uploads.perMin, this.uploads.perDay]) {
      try {
        await limiter.consume(who, bytes);
      } catch (err) {
        if (err instanceof RateLimiterRes) refuse('upload_rate', E.uploadRate(err.msBeforeNext));
        throw err;
      }
    }
  }

  async send(sender: Principal, req: EventPayload<'chat:send'>): Promise<MessageView> {
    const familyId = req.conversationId;
    await this.deps.guard.check(RULES['chat.send'], sender, req);
    const { store } = this.deps;
    const earlier = await store.messages.findByClientId(sender.kind, sender.id, familyId, req.clientMsgId);
    if (earlier) return this.replay(earlier);

    const now = this.deps.clock();
    let media: MediaRow | null = null;
    let data: Buffer | undefined;
    if (req.kind === 'text') {
      if (req.text === undefined || req.media) throw E.invalid('a text message has text and no media');
      if (req.text.length > this.opts.maxTextChars) throw E.textTooLong(this.opts.maxTextChars);
    } else {
      if (!req.media || req.text !== undefined) throw E.invalid(`a ${req.kind} message has media and no text`);
      data = Buffer.from(req.media.data);
      const checked = checkMedia(req.kind, req.media.mime, data, req.media.durationMs, this.opts);
      await this.admitUpload(sender, familyId, checked.bytes);
      media = {
        id: randomUUID(),
        family_id: familyId,
        mime: checked.mime,
        bytes: checked.bytes,
        duration_ms: checked.durationMs ?? null,
        created_at: now,
      };
      await store.mediaBlobs.put(media.id, data);
    }
    const { row, created } = await store.messages
      .append(
        {
          id: randomUUID(),
          conversationId: familyId,
          familyId,
          senderKind: sender.kind,
          senderId: sender.id,
          clientMsgId: req.clientMsgId,
          kind: req.kind,
          text: req.kind === 'text' ? req.text! : null,
          media,
          ts: now,
        },
        // What the guard checked must still hold when a watch's message commits.
        sender.kind === 'device' ? { deviceId: sender.id, familyId, permission: MESSAGE_PERMISSION[req.kind] } : undefined,
      )
      .catch(async (err: unknown) => {
        if (media) await store.mediaBlobs.delete([media.id]);
        throw err;
      });
    if (!created) {
      // Lost a race with the same send: drop our copy of the bytes, answer with the first.
      if (media) await store.mediaBlobs.delete([media.id]);
      return this.replay(row);
    }
    if (media) this.deps.metrics.mediaStored.inc(media.bytes);
    const message = messageView(row, media ?? undefined);
    this.deps.roomControl.emit(rooms.family(familyId), 'chat:message', { message });
    // The message is stored and told: a push that cannot be queued must not fail the send.
    await this.deps
      .notifyOffline(familyId, sender, {
        kind: 'message',
        familyId,
        ts: row.ts,
        conversationId: familyId,
        messageId: row.id,
        seq: row.seq,
        ...(row.text !== null ? { text: row.text } : {}),
      })
      .catch((err: unknown) => this.deps.onPushError(err));
    return message;
  }

  /**
   * A family message could not be given to a watch (a TCP watch that plays AMR-NB only, with no
   * converter; an image it cannot show): the family's people are told, so the sender knows.
   */
  undeliverable(device: Principal, message: MessageView, reason: string): void {
    this.deps.roomControl.emit(rooms.guardians(message.conversationId), 'chat:undeliverable', {
      conversationId: message.conversationId,
      messageId: message.id,
      deviceId: device.id,
      reason,
      at: this.deps.clock(),
    });
  }

  async sync(reader: Principal, req: EventPayload<'chat:sync'>): Promise<{ messages: SyncedMessage[]; hasMore: boolean }> {
    await this.deps.guard.check(RULES['chat.read'], reader, req);
    const limit = req.limit ?? 100;
    const rows = await this.deps.store.messages.after(req.conversationId, req.afterSeq, limit + 1);
    const page = rows.slice(0, limit);
    const media = new Map(
      (await this.deps.store.messages.mediaByIds(page.flatMap((r) => (r.media_id ? [r.media_id] : [])))).map((m) => [m.id, m]),
    );
    return {
      messages: page.map((r) => syncedView(r, r.media_id ? media.get(r.media_id) : undefined)),
      hasMore: rows.length > limit,
    };
  }

  /**
   * What a watch missed while it was away, for a watch with no `chat:sync` of its own (a TCP
   * watch): the family's messages after its read position, taken since its binding and within the
   * last `maxAgeMs`, neither deleted nor its own; the newest `limit` of them, oldest first.
   */
  async unreadForWatch(device: Principal, familyId: string, opts: { maxAgeMs: number; limit: number }): Promise<MessageView[]> {
    const grant = await this.deps.guard.check(RULES['chat.read'], device, { conversationId: familyId });
    const since = Math.max(grant.device!.boundAt, this.deps.clock() - opts.maxAgeMs);
    const rows = await this.deps.store.messages.unreadBy(familyId, device, since, opts.limit);
    return Promise.all(rows.map((r) => this.view(r)));
  }

  async read(reader: Principal, req: EventPayload<'chat:read'>): Promise<{ seq: number }> {
    await this.deps.guard.check(RULES['chat.read'], reader, req);
    const last = await this.deps.store.messages.lastSeq(req.conversationId);
    if (req.seq > last) throw E.seqPastEnd(req.seq, last);
    const now = this.deps.clock();
    const seq = await this.deps.store.messages.markRead(req.conversationId, reader.kind, reader.id, req.seq, now);
    this.deps.roomControl.emit(rooms.family(req.conversationId), 'chat:read', {
      conversationId: req.conversationId,
      seq,
      by: reader,
      at: now,
    });
    return { seq };
  }

  /** A voice note's or photo's stored description, for a member or watch of its family (others: NOT_FOUND). */
  async media(reader: Principal, id: string): Promise<MediaRow> {
    await this.deps.guard.check(RULES['media.get'], reader, { id });
    const media = await this.deps.store.messages.mediaById(id);
    if (!media) throw E.noSuchMedia();
    return media;
  }

  /**
   * Audits a read of a media item (a voice note or photo of the family): who, which item, whose.
   * Called once per download, not per range of it (see src/http/media-routes.ts).
   */
  async auditDownload(reader: Principal, media: MediaRow): Promise<void> {
    const sender = await this.deps.store.messages.senderOfMedia(media.id);
    await this.deps.store.audit.record({
      id: randomUUID(),
      at: this.deps.clock(),
      actor: reader,
      action: 'media.download',
      familyId: media.family_id,
      subject: sender ? { kind: sender.kind as Principal['kind'], id: sender.id } : null,
      details: { mediaId: media.id, mime: media.mime },
    });
  }

  /** The bytes of a media item the reader was allowed by media(). */
  async mediaBytes(media: MediaRow): Promise<Buffer> {
    const data = await this.deps.store.mediaBlobs.get(media.id);
    if (!data) throw E.noSuchMedia();
    return data;
  }

  /**
   * A voice note the reader was allowed by media(), as Ogg/Opus for a browser: an Ogg note as it
   * is, an AMR note converted (cached); any other media is BAD_REQUEST `format_unsupported`.
   */
  async mediaAsOgg(media: MediaRow): Promise<Buffer> {
    if (media.mime === 'audio/ogg') return this.mediaBytes(media);
    if (media.mime !== 'audio/amr') {
      throw E.formatUnsupported(`format=ogg is for AMR voice notes; this ${media.mime} plays as it is`);
    }
    return this.deps.voiceFormats.ogg(media.id, () => this.mediaBytes(media));
  }

  /**
   * `DELETE /v1/families/:fid/messages/:mid`: its sender, or an owner of the family (a watch's
   * message too), deletes a message's text and media (record and bytes); the seq slot stays. The
   * room is told `chat:deleted`; the deletion is audited. Another family's message id answers
   * like a missing one; deleting a deleted message again answers the same, and tells no one.
   */
  async deleteMessage(principal: Principal, req: { familyId: string; messageId: string }): Promise<void> {
    const { role } = await this.deps.guard.check(RULES['message.delete'], principal, req);
    const { store } = this.deps;
    const row = await store.messages.find(req.familyId, req.messageId);
    if (!row) throw E.noSuchMessage();
    const mine = row.sender_kind === principal.kind && row.sender_id === principal.id;
    if (!mine && role !== 'owner') throw E.notYourMessage();
    const now = this.deps.clock();
    const done = await store.messages.deleteContent(req.familyId, req.messageId, now);
    if (!done) throw E.noSuchMessage();
    if (!done.deleted) return;
    await store.mediaBlobs.delete(done.media);
    this.deps.roomControl.emit(rooms.family(req.familyId), 'chat:deleted', { conversationId: req.familyId, id: row.id });
    await store.audit.record({
      id: randomUUID(),
      at: now,
      actor: principal,
      action: 'message.delete',
      familyId: req.familyId,
      subject: { kind: row.sender_kind as Principal['kind'], id: row.sender_id },
      details: { messageId: row.id, seq: row.seq, media: done.media.length > 0 },
    });
  }

  /** The answer to a repeated send: the first message, unless it was deleted since. */
  private async replay(row: MessageRow): Promise<MessageView> {
    if (row.deleted_at !== null) throw E.messageDeleted();
    return this.view(row);
  }

  private async view(row: MessageRow): Promise<MessageView> {
    return messageView(row, row.media_id ? await this.deps.store.messages.mediaById(row.media_id) : undefined);
  }
}
