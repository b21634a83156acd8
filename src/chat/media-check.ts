// Media checks for family chat: what the bytes really are (magic numbers), size and duration limits.
// Pure: no I/O. Errors are HubErrors: TOO_LARGE for size/duration over a limit, BAD_REQUEST otherwise.
import { E, type HubError } from '../contract/errors.js';

export const VOICE_MIMES = ['audio/amr', 'audio/ogg', 'audio/mp4', 'audio/webm'] as const;
export const IMAGE_MIMES = ['image/jpeg', 'image/png'] as const;
export type MediaMime = (typeof VOICE_MIMES)[number] | (typeof IMAGE_MIMES)[number];

export interface MediaLimits {
  maxVoiceBytes: number;
  maxImageBytes: number;
  maxVoiceDurationMs: number;
}

export interface CheckedMedia {
  mime: MediaMime;
  bytes: number;
  durationMs?: number;
}

// ---------------------------------------------------------------------------------------------
// Sniffing

const AMR_NB_MAGIC = ascii('#!AMR\n'); // "#!AMR-WB\n" and "#!AMR_MC1.0\n" differ at byte 5: not ours.
const OGG_MAGIC = ascii('OggS');
const PNG_MAGIC = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const JPEG_MAGIC = [0xff, 0xd8, 0xff];
const EBML_MAGIC = [0x1a, 0x45, 0xdf, 0xa3];
const FTYP = ascii('ftyp');

/** ISO BMFF brands an M4A / MP4 voice recording carries (major or compatible). */
const MP4_BRANDS = new Set([
  'M4A ',
  'M4B ',
  'mp42',
  'mp41',
  'mp71',
  'isom',
  'iso2',
  'iso3',
  'iso4',
  'iso5',
  'iso6',
  'iso8',
  'iso9',
  'dash',
  'msdh',
  'cmfc',
  'cmf2',
  'avc1',
  'MSNV',
  'f4a ',
]);

/** How far into a WebM file we look for the EBML header's DocType. */
const WEBM_DOCTYPE_WINDOW = 64;

function ascii(s: string): number[] {
  return Array.from(s, (c) => c.charCodeAt(0));
}

function startsWith(data: Uint8Array, magic: readonly number[], offset = 0): boolean {
  if (data.length < offset + magic.length) return false;
  for (let i = 0; i < magic.length; i++) if (data[offset + i] !== magic[i]) return false;
  return true;
}

function fourcc(data: Uint8Array, offset: number): string {
  return String.fromCharCode(data[offset]!, data[offset + 1]!, data[offset + 2]!, data[offset + 3]!);
}

/** An ISO BMFF file opening with a sane 'ftyp' box whose major or a compatible brand is one of ours. */
function isMp4(data: Uint8Array): boolean {
  if (!startsWith(data, FTYP, 4) || data.length < 12) return false;
  const size = ((data[0]! << 24) | (data[1]! << 16) | (data[2]! << 8) | data[3]!) >>> 0;
  // size, 'ftyp', major brand, minor version, then whole 4-byte compatible brands.
  if (size < 16 || size % 4 !== 0 || size > 4096) return false;
  const end = Math.min(size, data.length);
  if (MP4_BRANDS.has(fourcc(data, 8))) return true;
  for (let off = 16; off + 4 <= end; off += 4) if (MP4_BRANDS.has(fourcc(data, off))) return true;
  return false;
}

/** An EBML variable-size integer at `off`: its length in bytes and value (marker bit kept for IDs, dropped for sizes). */
function readVint(data: Uint8Array, off: number, keepMarker: boolean): { len: number; value: number } | undefined {
  const first = data[off];
  if (first === undefined || first === 0) return undefined;
  const len = Math.clz32(first) - 23; // 1..8
  if (off + len > data.length) return undefined;
  let value = keepMarker ? first : first & (0xff >> len);
  for (let i = 1; i < len; i++) value = value * 256 + data[off + i]!;
  return { len, value };
}

/** EBML magic, then a walk of the EBML header's children (within the first bytes) to its DocType, which must be "webm". */
function isWebm(data: Uint8Array): boolean {
  if (!startsWith(data, EBML_MAGIC)) return false;
  const headerSize = readVint(data, 4, false);
  if (!headerSize) return false;
  let off = 4 + headerSize.len;
  const end = Math.min(off + headerSize.value, data.length, WEBM_DOCTYPE_WINDOW);
  while (off < end) {
    const id = readVint(data, off, true);
    if (!id || id.len > 4) return false;
    const size = readVint(data, off + id.len, false);
    if (!size) return false;
    const start = off + id.len + size.len;
    if (id.value === 0x4282) {
      if (start + size.value > data.length) return false;
      let doctype = '';
      for (let i = start; i < start + size.value; i++) {
        const c = data[i]!;
        if (c === 0) break; // EBML strings may be zero-padded
        doctype += String.fromCharCode(c);
      }
      return doctype === 'webm';
    }
    off = start + size.value;
  }
  return false;
}

/** The type the bytes really are, from their magic numbers; undefined if none of ours. */
export function sniffMime(data: Uint8Array): MediaMime | undefined {
  if (startsWith(data, AMR_NB_MAGIC)) return 'audio/amr';
  if (startsWith(data, OGG_MAGIC)) return 'audio/ogg';
  if (startsWith(data, PNG_MAGIC)) return 'image/png';
  if (startsWith(data, JPEG_MAGIC)) return 'image/jpeg';
  if (isWebm(data)) return 'audio/webm';
  if (isMp4(data)) return 'audio/mp4';
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// AMR-NB duration

/** Payload bytes after the one-byte frame header, by frame type (RFC 4867 §5.3); undefined = invalid type. */
const AMR_NB_FRAME_BYTES: readonly (number | undefined)[] = [
  12,
  13,
  15,
  17,
  19,
  20,
  26,
  31, // 4.75 … 12.2 kbit/s
  5, // 8: SID (comfort noise)
  undefined,
  undefined,
  undefined,
  undefined,
  undefined,
  undefined, // 9..14: reserved / not in storage format
  0, // 15: NO_DATA
];
const AMR_FRAME_MS = 20;

/** AMR-NB duration: 20 ms per frame after the header; undefined when the stream is malformed. */
export function amrDurationMs(data: Uint8Array): number | undefined {
  if (!startsWith(data, AMR_NB_MAGIC)) return undefined;
  let off = AMR_NB_MAGIC.length;
  let frames = 0;
  while (off < data.length) {
    const type = (data[off]! >> 3) & 0x0f;
    const payload = AMR_NB_FRAME_BYTES[type];
    if (payload === undefined) return undefined;
    off += 1 + payload;
    if (off > data.length) return undefined; // truncated last frame
    frames++;
  }
  return frames * AMR_FRAME_MS;
}

// ---------------------------------------------------------------------------------------------
// The check

const KIND_MIMES = { voice: VOICE_MIMES, image: IMAGE_MIMES } as const;

/** "Audio/WebM; codecs=opus" → "audio/webm": MIME types are case-insensitive and may carry parameters. */
function baseMime(declared: string): string {
  return declared.split(';', 1)[0]!.trim().toLowerCase();
}

const tooLarge = (message: string) => E.mediaTooLarge(message);
const bad = (message: string) => E.mediaInvalid(message);

/**
 * Checks a chat media upload against its declared kind, type and duration, and the limits. Order:
 * empty → BAD_REQUEST; over the kind's size limit → TOO_LARGE; declared mime not the kind's → BAD_REQUEST;
 * the bytes are not the declared type → BAD_REQUEST; voice duration (AMR: from its frames; others: declared,
 * a positive integer) missing/malformed → BAD_REQUEST, over the limit → TOO_LARGE; images take no duration.
 */
export function checkMedia(
  kind: 'voice' | 'image',
  declaredMime: string,
  data: Uint8Array,
  declaredDurationMs: number | undefined,
  limits: MediaLimits,
): CheckedMedia {
  if (kind !== 'voice' && kind !== 'image') throw bad(`unknown media kind '${String(kind)}'`);
  if (!(data instanceof Uint8Array)) throw bad(`${kind} content must be binary`);
  if (data.length === 0) throw bad(`${kind} content is empty`);

  const maxBytes = kind === 'voice' ? limits.maxVoiceBytes : limits.maxImageBytes;
  if (data.length > maxBytes) throw tooLarge(`${kind} is ${data.length} bytes; the limit is ${maxBytes} bytes`);

  const allowed: readonly MediaMime[] = KIND_MIMES[kind];
  const declared = typeof declaredMime === 'string' ? baseMime(declaredMime) : '';
  const mime = allowed.find((m) => m === declared);
  if (!mime) {
    throw bad(`unsupported ${kind} type '${String(declaredMime)}': expected one of ${allowed.join(', ')}`);
  }

  const sniffed = sniffMime(data);
  if (sniffed !== mime) {
    throw bad(sniffed ? `content is not ${mime} (it looks like ${sniffed})` : `content is not ${mime}`);
  }

  if (kind === 'image') {
    if (declaredDurationMs !== undefined) throw bad('durationMs is not allowed for images');
    return { mime, bytes: data.length };
  }

  let durationMs: number;
  if (mime === 'audio/amr') {
    const computed = amrDurationMs(data);
    if (computed === undefined) throw bad('content is not a well-formed AMR stream (bad frame type or truncated frame)');
    if (computed === 0) throw bad('voice message has no audio frames');
    durationMs = computed;
  } else {
    if (typeof declaredDurationMs !== 'number' || !Number.isSafeInteger(declaredDurationMs) || declaredDurationMs <= 0) {
      throw bad(`durationMs is required for ${mime} and must be a positive integer (milliseconds)`);
    }
    durationMs = declaredDurationMs;
  }
  if (durationMs > limits.maxVoiceDurationMs) {
    throw tooLarge(`voice message is ${durationMs} ms long; the limit is ${limits.maxVoiceDurationMs} ms`);
  }
  return { mime, bytes: data.length, durationMs };
}
