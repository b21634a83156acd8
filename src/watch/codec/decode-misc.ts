// Decoders for everything but positions: heartbeats, health readings, voice, photos and echoes.
import type { CommandType } from '../../contract/models.js';
import { unescapeBinary } from './escape.js';
import type { ParsedFrame } from './header.js';
import { dateTime, decimal, int } from './text.js';
import type { CodecError, DecodeResult, HealthReading, WatchFrame } from './types.js';

const COMMA = 0x2c;
const AMR_MAGIC = Buffer.from('#!AMR', 'latin1');

export function failure(p: ParsedFrame, message: string): DecodeResult<WatchFrame> {
  const error: CodecError = { code: 'BAD_FIELDS', message, header: p.header, type: p.type };
  return { ok: false, error };
}

const ok = (frame: WatchFrame): DecodeResult<WatchFrame> => ({ ok: true, frame });
export const textFields = (p: ParsedFrame): string[] => (p.hasBody ? p.body.toString('utf8').split(',') : []);

/** `LK[,steps,rollovers,battery]`. A heartbeat is never rejected: its reply is what keeps the watch online. */
export function decodeHeartbeat(p: ParsedFrame): DecodeResult<WatchFrame> {
  const f = textFields(p).map((s) => int(s));
  const frame: WatchFrame = { kind: 'heartbeat', header: p.header, type: p.type };
  const set = (key: 'steps' | 'rollovers' | 'battery', v: number | null | undefined) => {
    if (v !== null && v !== undefined && v >= 0) frame[key] = v;
  };
  set('steps', f[0]);
  if (f.length >= 3) {
    set('rollovers', f[1]);
    set('battery', f[2]);
  } else if (f.length === 2) {
    // `LK,0,100` (SG): steps and battery.
    set('battery', f[1]);
  }
  return ok(frame);
}

const inRange = (v: number | null | undefined, lo: number, hi: number): v is number => v != null && v >= lo && v <= hi;

/** PULSE, HEART, BLOOD, BPHRT, TEMP, btemp2 and oxygen, in any case. A value of 0 (no measurement) is left out. */
export function decodeHealth(p: ParsedFrame): DecodeResult<WatchFrame> {
  const f = textFields(p);
  const r: HealthReading = {};
  const heart = (s: string | undefined) => {
    const v = int(s);
    if (inRange(v, 20, 300)) r.heartRate = v;
  };
  const pressure = () => {
    const hi = int(f[0]);
    const lo = int(f[1]);
    if (inRange(hi, 30, 300) && inRange(lo, 20, 250)) {
      r.systolic = hi;
      r.diastolic = lo;
    }
  };
  const temperature = (s: string | undefined) => {
    const v = decimal(s);
    if (inRange(v, 25, 45)) r.bodyTempC = v;
  };
  switch (p.type.toUpperCase()) {
    case 'PULSE':
    case 'HEART':
      heart(f[0]);
      break;
    case 'BLOOD':
    case 'BPHRT':
      pressure();
      heart(f[2]);
      break;
    case 'TEMP':
      temperature(f[0]);
      break;
    case 'BTEMP2':
      // btemp2,<1 when measured>,<°C>
      if ((int(f[0]) ?? 0) > 0) temperature(f[1]);
      break;
    case 'OXYGEN': {
      // oxygen,<?>,<SpO2>; a watch writing the value alone is read too.
      const v = int(f.length >= 2 ? f[1] : f[0]);
      if (inRange(v, 50, 100)) r.spo2 = v;
      break;
    }
  }
  return ok({ kind: 'health', header: p.header, type: p.type, reading: r });
}

/** The nth comma of a raw body, or -1: binary payloads are cut on raw bytes, before unescaping. */
function nthComma(body: Buffer, n: number): number {
  let at = -1;
  for (let i = 0; i < n; i++) {
    at = body.indexOf(COMMA, at + 1);
    if (at < 0) return -1;
  }
  return at;
}

const startsWithAmr = (b: Buffer) => b.subarray(0, AMR_MAGIC.length).equals(AMR_MAGIC);

/** TK / TK2 with AMR bytes, or a bare `TK,1` / `TK,0`, which is the watch's echo of a voice message. */
export function decodeVoice(p: ParsedFrame, commandFor: (type: string) => CommandType | null): DecodeResult<WatchFrame> {
  const body = p.body;
  if (!p.hasBody || body.length === 0 || (body.length === 1 && (body[0] === 0x30 || body[0] === 0x31))) {
    const fields = textFields(p);
    return ok({
      kind: 'echo',
      header: p.header,
      type: p.type,
      echo: p.type.toUpperCase(),
      ok: fields[0] !== '0',
      command: p.type.toUpperCase() === 'TK' ? commandFor(p.type) : null,
      fields,
    });
  }
  let payload = body;
  let target: string | undefined;
  if (!startsWithAmr(body)) {
    const comma = body.indexOf(COMMA);
    const lead = comma < 0 ? '' : body.toString('latin1', 0, comma);
    if (p.type.toUpperCase() === 'TK2' && comma > 0 && comma <= 64 && /^[0-9A-Za-z_-]+$/.test(lead)) {
      // TK2,<chat id>,<AMR>
      target = lead;
      payload = body.subarray(comma + 1);
    } else if (comma >= 0 && comma < 4 && startsWithAmr(body.subarray(comma + 1))) {
      // Some firmwares put a short field before the audio.
      payload = body.subarray(comma + 1);
    }
  }
  const audio = unescapeBinary(payload);
  if (audio.length === 0) return failure(p, `${p.type} carries no audio`);
  const frame: WatchFrame = { kind: 'voice', header: p.header, type: p.type, audio };
  if (target !== undefined) frame.target = target;
  return ok(frame);
}

/** `JXTK,<flag>,<session>,<index>,<total>,<AMR bytes>`: index runs 1…total; the first chunk starts with `#!AMR`. */
export function decodeVoiceChunk(p: ParsedFrame): DecodeResult<WatchFrame> {
  const cut = nthComma(p.body, 4);
  if (cut < 0) return failure(p, 'JXTK needs flag, session, index and total before the audio');
  const [flag = '', session = '', i, n] = p.body.toString('latin1', 0, cut).split(',');
  const index = int(i);
  const total = int(n);
  if (index === null || total === null || index < 1 || total < 1 || index > total || total > 10_000) {
    return failure(p, 'JXTK index and total must be 1 <= index <= total');
  }
  if (session.length === 0 || session.length > 64 || !/^[\x21-\x7e]+$/.test(session)) {
    return failure(p, 'JXTK session must be 1-64 printable characters');
  }
  const audio = unescapeBinary(p.body.subarray(cut + 1));
  return ok({ kind: 'voice-chunk', header: p.header, type: p.type, flag, session, index, total, audio });
}

/** `img,<type>,<yyMMddHHmmss>,<JPEG bytes>` (the photo a `rcapture` asked for, or one the child took). */
export function decodeImage(p: ParsedFrame): DecodeResult<WatchFrame> {
  const cut = nthComma(p.body, 2);
  if (cut < 0) return failure(p, 'img needs a type and a time before the image');
  const [imageType = '', time = ''] = p.body.toString('latin1', 0, cut).split(',');
  const image = unescapeBinary(p.body.subarray(cut + 1));
  if (image.length === 0) return failure(p, 'img carries no image');
  const takenAt = /^\d{12}$/.test(time) ? dateTime(time.slice(4, 6) + time.slice(2, 4) + time.slice(0, 2), time.slice(6)) : null;
  return ok({ kind: 'image', header: p.header, type: p.type, imageType, takenAt, image });
}

/** A watch echoing a downlink (`CR`, `UPLOAD`, `PHB2`, `LZ,0`…); a first field `0` means it refused. */
export function decodeEcho(p: ParsedFrame, command: CommandType | null): DecodeResult<WatchFrame> {
  const fields = textFields(p);
  return ok({ kind: 'echo', header: p.header, type: p.type, echo: p.type.toUpperCase(), ok: fields[0] !== '0', command, fields });
}
