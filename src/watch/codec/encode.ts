// Downlink encoders: the contract's commands, family messages and the timezone, as watch frames.
// Anything placed raw in a frame is checked to hold none of `[ ] , *`; names and texts travel as
// UTF-16BE hex, audio escaped, so no parameter can break the framing or smuggle a second command.
import { escapeBinary } from './escape.js';
import { buildFrame, isWatchAddress } from './header.js';
import { echoKeyOf } from './replies.js';
import { utf16beHex } from './text.js';
import type { CodecError, Downlink, EncodedFrame, EncodeOptions, EncodeResult, WatchAddress } from './types.js';

/** Watches hold three SOS numbers (`SOS,n1,n2,n3` or `SOS1`…`SOS3`). */
export const MAX_SOS_NUMBERS = 3;
/** Contacts per PHB frame: `PHB` carries 1–5, `PHB2` 6–10, and so on, as the watches read them. */
export const CONTACTS_PER_FRAME = 5;
/** `SILENCETIME` and `SILENCETIME2` have four slots on every watch seen. */
export const MAX_QUIET_RANGES = 4;
const AMR_NB_MAGIC = Buffer.from('#!AMR\n', 'latin1');
const HHMM = /^([01]\d|2[0-3]):[0-5]\d$/;

const bad = (message: string, code: CodecError['code'] = 'BAD_PARAMS'): EncodeResult => ({ ok: false, error: { code, message } });

/** The number a watch can dial: `+` and digits only (spaces, dashes and brackets are dropped). */
export function normalizePhone(phone: string): string | null {
  const p = phone.replace(/[\s()-]/g, '');
  return /^\+?\d{3,20}$/.test(p) ? p : null;
}

/** `+8`, `-3.5`, `+5.75`: whole or quarter hours, with a sign, as LZ wants them. */
export function formatHours(hours: number): string | null {
  if (!Number.isFinite(hours) || hours < -12 || hours > 14 || Math.round(hours * 4) !== hours * 4) return null;
  return (hours < 0 ? '-' : '+') + String(Math.abs(hours));
}

function frames(to: WatchAddress, parts: { type: string; content: Buffer | string }[]): EncodeResult {
  const out: EncodedFrame[] = [];
  for (const { type, content } of parts) {
    const bytes = buildFrame(to, typeof content === 'string' ? Buffer.from(content, 'latin1') : content);
    if (bytes === null) return bad(`${type} does not fit a frame (LEN is 4 hex digits: at most 65535 bytes)`, 'TOO_LARGE');
    out.push({ bytes, answer: echoKeyOf(type) });
  }
  return { ok: true, frames: out };
}

const text = (type: string, fields: (string | number)[] = []) => ({
  type,
  content: fields.length ? `${type},${fields.join(',')}` : type,
});

function audioFrame(audio: Buffer): { type: string; content: Buffer } | string {
  // Watches play AMR-NB only; anything else is converted (or refused) by the gateway before this.
  if (!audio.subarray(0, AMR_NB_MAGIC.length).equals(AMR_NB_MAGIC)) return 'audio must be AMR-NB (#!AMR\\n…)';
  return { type: 'TK', content: Buffer.concat([Buffer.from('TK,', 'latin1'), escapeBinary(audio)]) };
}

function sosFrames(numbers: string[], style: 'list' | 'slots'): { type: string; content: string }[] | string {
  if (numbers.length > MAX_SOS_NUMBERS) return `watches hold ${MAX_SOS_NUMBERS} SOS numbers, got ${numbers.length}`;
  const slots: string[] = [];
  for (const n of numbers) {
    const p = normalizePhone(n);
    if (p === null) return `not a phone number: ${JSON.stringify(n)}`;
    slots.push(p);
  }
  while (slots.length < MAX_SOS_NUMBERS) slots.push(''); // an empty slot clears it on the watch
  if (style === 'list') return [text('SOS', slots)];
  return slots.map((p, i) => text(`SOS${i + 1}`, [p]));
}

function phonebookFrames(contacts: { name: string; phone: string }[]): { type: string; content: string }[] | string {
  const pairs: string[] = [];
  for (const c of contacts) {
    const p = normalizePhone(c.phone);
    if (p === null) return `not a phone number: ${JSON.stringify(c.phone)}`;
    const name = c.name.trim();
    if (name.length === 0 || name.length > 64) return 'a contact name must be 1-64 characters';
    pairs.push(`${p},${utf16beHex(name)}`);
  }
  // `PHB` alone clears the phonebook; `PHB` also replaces the whole list, so it always goes first.
  if (pairs.length === 0) return [text('PHB')];
  const out: { type: string; content: string }[] = [];
  for (let i = 0; i < pairs.length; i += CONTACTS_PER_FRAME) {
    const part = i / CONTACTS_PER_FRAME + 1;
    out.push(text(part === 1 ? 'PHB' : `PHB${part}`, pairs.slice(i, i + CONTACTS_PER_FRAME)));
  }
  return out;
}

function quietHoursFrame(ranges: { days: number[]; start: string; end: string }[]): { type: string; content: string } | string {
  if (ranges.length > MAX_QUIET_RANGES) return `watches hold ${MAX_QUIET_RANGES} quiet-hour ranges, got ${ranges.length}`;
  for (const r of ranges) {
    if (!HHMM.test(r.start) || !HHMM.test(r.end)) return 'quiet hours are HH:MM';
    if (r.days.length === 0 || r.days.some((d) => !Number.isInteger(d) || d < 0 || d > 6)) return 'days are 0 (Sunday) to 6';
  }
  // Every day in every range: the daily form all watches know. Otherwise the weekly one, with a
  // Sunday-first day mask per range (`21:10-07:30-0111110` is Monday to Friday).
  const daily = ranges.every((r) => new Set(r.days).size === 7);
  const slots = ranges.map((r) => {
    const range = `${r.start}-${r.end}`;
    if (daily) return range;
    const mask = [0, 1, 2, 3, 4, 5, 6].map((d) => (r.days.includes(d) ? '1' : '0')).join('');
    return `${range}-${mask}`;
  });
  while (slots.length < MAX_QUIET_RANGES) slots.push('');
  return text(daily ? 'SILENCETIME' : 'SILENCETIME2', slots);
}

/**
 * Encodes one downlink into the frames to write, in order. A command that needs several frames
 * (`set_contacts` past five contacts, `set_sos_numbers` in the slots style) is done when every
 * frame's `answer` has been echoed. Never throws.
 */
export function encodeDownlink(to: WatchAddress, d: Downlink, options: EncodeOptions = {}): EncodeResult {
  try {
    if (!isWatchAddress(to)) return bad('not a watch address (maker, id, index)');
    const out = (parts: { type: string; content: Buffer | string }[] | string) =>
      typeof parts === 'string' ? bad(parts) : frames(to, parts);
    switch (d.type) {
      case 'locate':
        return out([text('CR')]);
      case 'find':
        return out([text('FIND')]);
      case 'photo':
        return out([text('rcapture')]);
      case 'power_off':
        return out([text('POWEROFF')]);
      case 'set_interval': {
        const s = d.params.seconds;
        if (!Number.isInteger(s) || s < 1 || s > 86_400) return bad('the interval is 1-86400 whole seconds');
        return out([text('UPLOAD', [s])]);
      }
      case 'set_sos_numbers':
        return out(sosFrames(d.params.numbers, options.sosStyle ?? 'list'));
      case 'set_contacts':
        return out(phonebookFrames(d.params.contacts));
      case 'set_quiet_hours': {
        const f = quietHoursFrame(d.params.ranges);
        return out(typeof f === 'string' ? f : [f]);
      }
      case 'voice_reminder':
      case 'voice_message': {
        const f = audioFrame(d.audio);
        return out(typeof f === 'string' ? f : [f]);
      }
      case 'text_message':
        if (d.text.length === 0) return bad('a message needs text');
        return out([text('MESSAGE', [utf16beHex(d.text)])]);
      case 'set_timezone': {
        const { language, hours } = d.params;
        const h = formatHours(hours);
        if (!Number.isInteger(language) || language < 0 || language > 99) return bad('the language is a code 0-99');
        if (h === null) return bad('the timezone is whole or quarter hours, -12 to +14');
        return out([text('LZ', [language, h])]);
      }
      default:
        return bad(`unknown downlink ${(d as { type: unknown }).type as string}`);
    }
  } catch (err) {
    return bad(`unencodable: ${(err as Error).message}`);
  }
}
