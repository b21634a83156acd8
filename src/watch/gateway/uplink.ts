// What each frame from a watch becomes, through the same use cases as a Socket.IO watch's events
// (so the same consent checks, validation, storage and fan-out): positions → location:report,
// status bits → alert:raise, LK → presence and battery, health frames → health readings (with the
// `health` permission), TK/TK2 and JXTK voice and img photos → family messages, echoes → command
// results. A refusal (consent off, a watch no longer in a family) drops the frame's data; the
// watch got its reply already and is not told (the protocol has no way to say so).
import { randomUUID } from 'node:crypto';
import { HubError } from '../../contract/errors.js';
import type { CommandView } from '../../contract/models.js';
import type { WatchFrame, WatchPosition } from '../codec/index.js';
import type { WatchConnection } from './connection.js';
import { fixOf } from './fixes.js';

export type UplinkOutcome = 'ok' | 'refused' | 'consent' | 'bad' | 'ignored';

/** Runs a use case; a HubError (refusal) becomes an outcome, anything else is thrown. */
async function attempt(work: () => Promise<unknown>): Promise<UplinkOutcome> {
  try {
    await work();
    return 'ok';
  } catch (err) {
    if (err instanceof HubError) return err.code === 'CONSENT_REQUIRED' ? 'consent' : 'refused';
    throw err;
  }
}

const worst = (outcomes: UplinkOutcome[]): UplinkOutcome =>
  outcomes.find((o) => o === 'consent') ?? outcomes.find((o) => o === 'refused') ?? outcomes[0] ?? 'ok';

export async function handleUplink(conn: WatchConnection, frame: WatchFrame): Promise<UplinkOutcome> {
  const { services } = conn.ctx;
  const p = conn.principal;
  const now = services.clock();
  switch (frame.kind) {
    case 'init':
    case 'voice-query':
      return 'ok';
    case 'heartbeat': {
      conn.familyId = (await services.presence.familiesOf(p))[0] ?? null;
      const b = frame.battery;
      if (b !== undefined && b <= 100 && b <= conn.ctx.lowBatteryPercent) {
        return attempt(() => services.location.alerts.lowBatteryFromWatch(p, { ts: now, battery: b }));
      }
      return 'ok';
    }
    case 'position':
    case 'alarm':
      return position(conn, frame.position, now);
    case 'health':
      if (Object.keys(frame.reading).length === 0) return 'ignored';
      return attempt(() => services.health.report(p, { ts: now, ...frame.reading }));
    case 'voice':
      return voiceMessage(conn, frame.audio);
    case 'voice-chunk': {
      const r = conn.voice.add(frame);
      if (r.status === 'complete') return voiceMessage(conn, r.audio);
      return r.status === 'dropped' ? 'bad' : 'ok';
    }
    case 'image':
      return image(conn, frame.image);
    case 'echo':
      return echo(conn, frame.echo, frame.ok);
    case 'unknown':
      return 'ignored';
  }
}

async function position(conn: WatchConnection, pos: WatchPosition, now: number): Promise<UplinkOutcome> {
  const { services, maxFutureMs } = conn.ctx;
  const p = conn.principal;
  const outcomes: UplinkOutcome[] = [];
  const fix = fixOf(pos, now, maxFutureMs);
  // Without anything to locate, the frame is only a sign of life: the connection already says so.
  if (fix) {
    let accepted = 0;
    const o = await attempt(async () => {
      accepted = (await services.location.service.report(p, { fixes: [fix] })).accepted;
    });
    outcomes.push(o === 'ok' && accepted === 0 ? 'bad' : o);
  }
  const ts = fix?.ts ?? now;
  const at = fix?.lat !== undefined && fix.lng !== undefined ? { lat: fix.lat, lng: fix.lng } : {};
  for (const type of pos.flags.alerts) {
    outcomes.push(await attempt(() => services.location.alerts.raiseFromWatch(p, { type, ts, ...at })));
  }
  if (pos.flags.lowBattery) {
    const battery = pos.battery >= 0 && pos.battery <= 100 ? pos.battery : undefined;
    outcomes.push(await attempt(() => services.location.alerts.lowBatteryFromWatch(p, { ts, battery })));
  }
  return worst(outcomes);
}

async function familyOf(conn: WatchConnection): Promise<string | null> {
  conn.familyId = (await conn.ctx.services.presence.familiesOf(conn.principal))[0] ?? null;
  return conn.familyId;
}

async function voiceMessage(conn: WatchConnection, audio: Buffer): Promise<UplinkOutcome> {
  const familyId = await familyOf(conn);
  if (!familyId) return 'refused';
  return attempt(() =>
    conn.ctx.services.chat.send(conn.principal, {
      conversationId: familyId,
      clientMsgId: `tcp-${randomUUID()}`,
      kind: 'voice',
      media: { data: audio, mime: 'audio/amr' },
    }),
  );
}

const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47]);

async function image(conn: WatchConnection, bytes: Buffer): Promise<UplinkOutcome> {
  const familyId = await familyOf(conn);
  if (!familyId) return 'refused';
  const { chat, commands } = conn.ctx.services;
  let messageId: string | undefined;
  const outcome = await attempt(async () => {
    const m = await chat.send(conn.principal, {
      conversationId: familyId,
      clientMsgId: `tcp-${randomUUID()}`,
      kind: 'image',
      media: { data: bytes, mime: bytes.subarray(0, 4).equals(PNG) ? 'image/png' : 'image/jpeg' },
    });
    messageId = m.id;
  });
  // The photo a `photo` command asked for (its RCAPTURE was echoed): the command is done with it.
  const commandId = conn.awaitingPhotos.shift();
  if (commandId) {
    await finish(conn, commandId, outcome === 'ok' ? 'done' : 'failed', messageId ? { messageId } : { error: outcome });
  }
  return outcome;
}

async function finish(
  conn: WatchConnection,
  id: string,
  status: 'done' | 'failed' | 'rejected',
  result?: Record<string, unknown>,
): Promise<CommandView | null> {
  try {
    return await conn.ctx.services.commands.result(conn.principal, { id, status, ...(result ? { result } : {}) });
  } catch (err) {
    // Finished meanwhile (expired, withdrawn, answered twice): nothing left to do.
    if (err instanceof HubError) return null;
    throw err;
  }
}

async function echo(conn: WatchConnection, key: string, ok: boolean): Promise<UplinkOutcome> {
  const done = conn.echoes.echo(key, ok);
  if (!done) return 'ignored';
  if (done.message) {
    // The watch shows a message as it arrives: its echo is its read position (told to the family).
    if (done.ok) {
      await conn.ctx.services.chat.read(conn.principal, done.message).catch((err: unknown) => {
        // No longer the family's watch, or the message deleted meanwhile: nothing to mark.
        if (!(err instanceof HubError)) throw err;
      });
    }
    return 'ok';
  }
  if (!done.commandId) return 'ok';
  if (done.commandType === 'photo' && done.ok) {
    // Done when its photo arrives (an `img`), not at the echo.
    conn.awaitPhoto(done.commandId);
    return 'ok';
  }
  await finish(conn, done.commandId, done.ok ? 'done' : 'rejected', done.ok ? undefined : { echo: `${key},0` });
  return 'ok';
}
