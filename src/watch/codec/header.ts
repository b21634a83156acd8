// `[` MF `*` ID `*` [INDEX `*`] LEN `*` CONTENT `]`, and CONTENT = TYPE[,fields]. CONTENT may
// itself hold `*` and `,` (in names, or in a careless watch's binary), so only the header is split on `*`.
import type { CodecError, FrameHeader, WatchAddress } from './types.js';

const OPEN = 0x5b;
const CLOSE = 0x5d;
const STAR = 0x2a;
const COMMA = 0x2c;

const MAKER = /^[0-9A-Za-z]{2}$/;
const ID = /^[0-9A-Za-z]{1,32}$/;
const HEX4 = /^[0-9A-Fa-f]{4}$/;
const LEN = /^[0-9A-Fa-f]{1,8}$/;
const TYPE = /^[0-9A-Za-z_]{1,32}$/;
/** The header never needs more than this; a longer one is not a header. */
const MAX_HEADER = 64;

export interface ParsedFrame {
  header: FrameHeader;
  /** The type as written (text before the first comma). */
  type: string;
  /** The bytes after `TYPE,` (empty when the content is the type alone). */
  body: Buffer;
  /** Whether a comma followed the type (`TK,` with nothing after it differs from `TK`). */
  hasBody: boolean;
}

export type ParseResult = { ok: true; frame: ParsedFrame } | { ok: false; error: CodecError };

function fail(code: CodecError['code'], message: string, header?: FrameHeader, type?: string): ParseResult {
  const error: CodecError = { code, message };
  if (header) error.header = header;
  if (type !== undefined) error.type = type;
  return { ok: false, error };
}

/** Splits one frame (as the splitter returns it) into header, type and body. Never throws. */
export function parseFrame(frame: Uint8Array): ParseResult {
  const raw = Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength);
  if (raw.length < 2 || raw[0] !== OPEN || raw[raw.length - 1] !== CLOSE) {
    return fail('BAD_FRAME', 'a frame starts with [ and ends with ]');
  }
  const inner = raw.subarray(1, raw.length - 1);
  // The header fields: MF, ID, then one or two 4-hex fields (INDEX and LEN, or LEN alone).
  const stars: number[] = [];
  for (let i = 0; i < inner.length && i <= MAX_HEADER && stars.length < 4; i++) if (inner[i] === STAR) stars.push(i);
  if (stars.length < 3) return fail('BAD_HEADER', 'the header needs MF*ID*LEN*');
  const field = (from: number, to: number) => inner.toString('latin1', from, to);
  const maker = field(0, stars[0]!);
  const id = field(stars[0]! + 1, stars[1]!);
  if (!MAKER.test(maker)) return fail('BAD_HEADER', 'MF must be two letters or digits');
  if (!ID.test(id)) return fail('BAD_HEADER', 'the ID must be 1-32 letters or digits');
  const third = field(stars[1]! + 1, stars[2]!);
  const fourth = stars[3] !== undefined ? field(stars[2]! + 1, stars[3]) : null;
  let index: string | null = null;
  let lenField: string;
  let contentStart: number;
  // As on real ZJ watches: INDEX is present when two 4-hex fields follow the ID. Content rarely starts
  // with four hex digits and a star, and never with a known type that does.
  if (HEX4.test(third) && fourth !== null && HEX4.test(fourth)) {
    index = third;
    lenField = fourth;
    contentStart = stars[3]! + 1;
  } else {
    lenField = third;
    contentStart = stars[2]! + 1;
  }
  if (!LEN.test(lenField)) return fail('BAD_HEADER', 'LEN must be hex digits');
  const header: FrameHeader = { maker, id, index, declaredLength: parseInt(lenField, 16) };
  const content = inner.subarray(contentStart);
  if (content.length === 0) return fail('BAD_FRAME', 'the frame has no content', header);
  let comma = content.indexOf(COMMA);
  if (comma < 0) comma = content.length;
  const type = content.toString('latin1', 0, comma);
  if (!TYPE.test(type)) return fail('BAD_TYPE', 'the content must start with a type', header);
  const hasBody = comma < content.length;
  return { ok: true, frame: { header, type, body: hasBody ? content.subarray(comma + 1) : content.subarray(0, 0), hasBody } };
}

/** Builds `[MF*ID*[INDEX*]LEN*content]` with LEN the exact byte length of the content, 4 upper-case hex digits. */
export function buildFrame(to: WatchAddress, content: Uint8Array): Buffer | null {
  if (content.length > 0xffff) return null;
  const len = content.length.toString(16).toUpperCase().padStart(4, '0');
  const head = to.index === null ? `[${to.maker}*${to.id}*${len}*` : `[${to.maker}*${to.id}*${to.index}*${len}*`;
  return Buffer.concat([Buffer.from(head, 'latin1'), content, Buffer.from(']', 'latin1')]);
}

export function isWatchAddress(a: WatchAddress): boolean {
  return MAKER.test(a.maker) && ID.test(a.id) && (a.index === null || HEX4.test(a.index));
}
