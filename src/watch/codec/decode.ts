// The uplink decoder: one frame from the splitter in, one typed frame or an error value out.
import {
  decodeEcho,
  decodeHealth,
  decodeHeartbeat,
  decodeImage,
  decodeVoice,
  decodeVoiceChunk,
  failure,
  textFields,
} from './decode-misc.js';
import { decodePosition } from './decode-position.js';
import { parseFrame, type ParsedFrame } from './header.js';
import { commandTypeForEcho, isEchoType } from './replies.js';
import type { DecodeResult, WatchFrame } from './types.js';

const HEALTH = new Set(['PULSE', 'HEART', 'BLOOD', 'BPHRT', 'TEMP', 'BTEMP2', 'OXYGEN']);

function dispatch(p: ParsedFrame): DecodeResult<WatchFrame> {
  const t = p.type.toUpperCase();
  const { header, type } = p;
  if (t === 'INIT') return { ok: true, frame: { kind: 'init', header, type, fields: textFields(p) } };
  if (t === 'LK') return decodeHeartbeat(p);
  const isAlarm = t.startsWith('AL');
  if (isAlarm || t.startsWith('UD') || t === 'WT') {
    const r = decodePosition(type, textFields(p));
    if (!r.ok) return failure(p, r.message);
    return { ok: true, frame: { kind: isAlarm ? 'alarm' : 'position', header, type, position: r.position } };
  }
  if (HEALTH.has(t)) return decodeHealth(p);
  if (t === 'TKQ' || t === 'TKQ2') return { ok: true, frame: { kind: 'voice-query', header, type } };
  if (t === 'TK' || t === 'TK2') return decodeVoice(p, commandTypeForEcho);
  if (t === 'JXTK') return decodeVoiceChunk(p);
  if (t === 'IMG') return decodeImage(p);
  if (isEchoType(t)) return decodeEcho(p, commandTypeForEcho(t));
  return { ok: true, frame: { kind: 'unknown', header, type } };
}

/** Decodes one frame (brackets included, as `FrameSplitter` returns it). Never throws. */
export function decodeFrame(frame: Uint8Array): DecodeResult<WatchFrame> {
  try {
    const parsed = parseFrame(frame);
    return parsed.ok ? dispatch(parsed.frame) : parsed;
  } catch (err) {
    // Not expected (the fuzz tests look for it); a bug must not take the connection down.
    return { ok: false, error: { code: 'BAD_FRAME', message: `undecodable: ${(err as Error).message}` } };
  }
}
