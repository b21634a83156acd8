// Reads hub→watch frames back: what the watch simulator receives, and the other half of the
// encoder round-trip tests. Mirrors encode.ts and replies.ts, frame type by frame type.
import { unescapeBinary } from './escape.js';
import { parseFrame, type ParsedFrame } from './header.js';
import { decimal, fromUtf16beHex, int } from './text.js';
import type { DecodeResult, DownlinkFrame } from './types.js';

const fieldsOf = (p: ParsedFrame) => (p.hasBody ? p.body.toString('latin1').split(',') : []);

function fail(p: ParsedFrame, message: string): DecodeResult<DownlinkFrame> {
  return { ok: false, error: { code: 'BAD_FIELDS', message, header: p.header, type: p.type } };
}

function quietRanges(p: ParsedFrame, weekly: boolean): DecodeResult<DownlinkFrame> {
  const ranges: { days: number[]; start: string; end: string }[] = [];
  for (const slot of fieldsOf(p)) {
    if (slot === '') continue;
    const m = /^(\d{1,2}:\d{2})-(\d{1,2}:\d{2})(?:-([01]{7}))?$/.exec(slot);
    if (!m || (weekly && !m[3])) return fail(p, `bad quiet-hours slot ${JSON.stringify(slot)}`);
    const days = weekly ? [...m[3]!].flatMap((c, d) => (c === '1' ? [d] : [])) : [0, 1, 2, 3, 4, 5, 6];
    ranges.push({ days, start: m[1]!, end: m[2]! });
  }
  return { ok: true, frame: { kind: 'quiet_hours', header: p.header, type: p.type, weekly, ranges } };
}

function dispatch(p: ParsedFrame): DecodeResult<DownlinkFrame> {
  const { header, type } = p;
  const t = type.toUpperCase();
  const f = fieldsOf(p);
  const base = { header, type };
  const content = p.hasBody ? `${type},${p.body.toString('latin1')}` : type;
  if (
    (t === 'INIT' && f[0] === '1') ||
    ((t === 'LK' || t === 'AL') && !p.hasBody) ||
    t === 'TKQ' ||
    t === 'TKQ2' ||
    t === 'JXTKR'
  ) {
    return { ok: true, frame: { ...base, kind: 'reply', content } };
  }
  if (t === 'CR') return { ok: true, frame: { ...base, kind: 'locate' } };
  if (t === 'FIND') return { ok: true, frame: { ...base, kind: 'find' } };
  if (t === 'RCAPTURE') return { ok: true, frame: { ...base, kind: 'photo' } };
  if (t === 'POWEROFF') return { ok: true, frame: { ...base, kind: 'power_off' } };
  if (t === 'UPLOAD') {
    const seconds = int(f[0]);
    return seconds === null ? fail(p, 'UPLOAD needs seconds') : { ok: true, frame: { ...base, kind: 'set_interval', seconds } };
  }
  const sos = /^SOS(\d)?$/.exec(t);
  if (sos) {
    const slot = sos[1] === undefined ? null : Number(sos[1]);
    return { ok: true, frame: { ...base, kind: 'sos', slot, numbers: slot === null ? f : f.slice(0, 1) } };
  }
  const phb = /^PHB(\d{0,2})$/.exec(t);
  if (phb) {
    if (f.length % 2 !== 0) return fail(p, 'PHB fields come in number,name pairs');
    const contacts: { name: string; phone: string }[] = [];
    for (let i = 0; i < f.length; i += 2) {
      const name = fromUtf16beHex(f[i + 1]!);
      if (name === null) return fail(p, 'a PHB name is UTF-16BE hex');
      contacts.push({ phone: f[i]!, name });
    }
    return { ok: true, frame: { ...base, kind: 'phonebook', part: phb[1] ? Number(phb[1]) : 1, contacts } };
  }
  if (t === 'SILENCETIME' || t === 'SILENCETIME2') return quietRanges(p, t === 'SILENCETIME2');
  if (t === 'TK' && p.hasBody) return { ok: true, frame: { ...base, kind: 'voice', audio: unescapeBinary(p.body) } };
  if (t === 'MESSAGE') {
    const text = fromUtf16beHex(f[0] ?? '');
    return text === null ? fail(p, 'MESSAGE is UTF-16BE hex') : { ok: true, frame: { ...base, kind: 'text', text } };
  }
  if (t === 'LZ') {
    const language = int(f[0]);
    const hours = decimal(f[1]);
    if (language === null || hours === null) return fail(p, 'LZ needs a language and an hour offset');
    return { ok: true, frame: { ...base, kind: 'timezone', language, hours } };
  }
  return { ok: true, frame: { ...base, kind: 'unknown' } };
}

/** Decodes one hub→watch frame. Never throws. */
export function decodeDownlink(frame: Uint8Array): DecodeResult<DownlinkFrame> {
  try {
    const parsed = parseFrame(frame);
    return parsed.ok ? dispatch(parsed.frame) : parsed;
  } catch (err) {
    return { ok: false, error: { code: 'BAD_FRAME', message: `undecodable: ${(err as Error).message}` } };
  }
}
