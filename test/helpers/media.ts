// Real, structurally valid media files made in code (no downloads, no shipped binaries), for chat media tests.
import { deflateSync } from 'node:zlib';

// ---------------------------------------------------------------------------------------------
// AMR-NB

/** One 12.2 kbit/s AMR-NB frame: header 0x3C (FT=7, Q=1) then 31 payload bytes (244 bits + 4 zero padding bits). */
const AMR_122_HEADER = 0x3c;
const AMR_122_PAYLOAD = (() => {
  // A fixed, low-energy pattern (like comfort noise): a small LCG, so the bits are not all zero.
  const p = Buffer.alloc(31);
  let x = 0x2545f491;
  for (let i = 0; i < p.length; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    p[i] = (x >>> 16) & 0xff;
  }
  p[30] = p[30]! & 0xf0; // the last 4 bits are padding
  return p;
})();

/** An AMR-NB file ("#!AMR\n") of `seconds` of 12.2 kbit/s frames, 50 frames (20 ms each) per second. */
export function amrFile(seconds: number): Buffer {
  const frames = Math.round(seconds * 50);
  const parts: Buffer[] = [Buffer.from('#!AMR\n', 'latin1')];
  for (let i = 0; i < frames; i++) parts.push(Buffer.from([AMR_122_HEADER]), AMR_122_PAYLOAD);
  return Buffer.concat(parts);
}

// ---------------------------------------------------------------------------------------------
// PNG

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 (ISO-HDLC, as in PNG and zlib). node:zlib has no crc32 in Node 20. */
export function crc32(data: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of data) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function pngChunk(type: string, body: Buffer): Buffer {
  const typeAndBody = Buffer.concat([Buffer.from(type, 'latin1'), body]);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(body.length);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(typeAndBody));
  return Buffer.concat([len, typeAndBody, crc]);
}

/** A valid 8-bit RGB PNG of width × height (a small gradient): signature, IHDR, IDAT (zlib), IEND, correct CRCs. */
/** A valid PNG; with `noise`, random pixels (it does not compress: its size is about 3 bytes a pixel). */
export function pngFile(width = 2, height = 2, opts: { noise?: boolean } = {}): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // colour type: truecolour
  ihdr[10] = 0; // compression: deflate
  ihdr[11] = 0; // filter method 0
  ihdr[12] = 0; // no interlace
  const raw = Buffer.alloc(height * (1 + width * 3));
  for (let y = 0; y < height; y++) {
    const row = y * (1 + width * 3);
    raw[row] = 0; // filter type: None
    for (let x = 0; x < width; x++) {
      const px = row + 1 + x * 3;
      raw[px] = opts.noise ? Math.floor(Math.random() * 256) : Math.round((x * 255) / Math.max(1, width - 1));
      raw[px + 1] = opts.noise ? Math.floor(Math.random() * 256) : Math.round((y * 255) / Math.max(1, height - 1));
      raw[px + 2] = opts.noise ? Math.floor(Math.random() * 256) : 0x80;
    }
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', deflateSync(raw)),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

// ---------------------------------------------------------------------------------------------
// JPEG

function jpegSegment(marker: number, body: number[]): number[] {
  const len = body.length + 2;
  return [0xff, marker, len >> 8, len & 0xff, ...body];
}

/**
 * A complete, decodable baseline JPEG built by hand: 8×8, one grayscale component, a flat gray of 144.
 * SOI, APP0 (JFIF 1.01), DQT (all 16), SOF0, DHT (DC: one 1-bit code for category 4; AC: one 1-bit code
 * for EOB), SOS, one entropy-coded 8×8 block, EOI. The block: DC category 4 with value 8 (8 × 16 = 128,
 * i.e. 128/8 + 128 = 144 for every pixel), then EOB: bits 0 1000 0, padded with 1s → 0x43.
 */
export function jpegFile(): Buffer {
  const bytes = [
    0xff,
    0xd8, // SOI
    ...jpegSegment(0xe0, [...Buffer.from('JFIF\0', 'latin1'), 1, 1, 0, 0, 1, 0, 1, 0, 0]), // APP0: v1.01, 1:1 aspect, no thumbnail
    ...jpegSegment(0xdb, [0x00, ...new Array<number>(64).fill(16)]), // DQT: 8-bit, table 0
    ...jpegSegment(0xc0, [8, 0, 8, 0, 8, 1, 1, 0x11, 0]), // SOF0: precision 8, 8×8, 1 component (id 1, 1×1, table 0)
    ...jpegSegment(0xc4, [0x00, 1, ...new Array<number>(15).fill(0), 0x04]), // DHT: DC table 0, one code of length 1 → 4
    ...jpegSegment(0xc4, [0x10, 1, ...new Array<number>(15).fill(0), 0x00]), // DHT: AC table 0, one code of length 1 → EOB
    ...jpegSegment(0xda, [1, 1, 0x00, 0, 63, 0]), // SOS: 1 component (id 1, DC 0 / AC 0), Ss 0, Se 63, Ah/Al 0
    0x43, // entropy-coded data
    0xff,
    0xd9, // EOI
  ];
  return Buffer.from(bytes);
}

// ---------------------------------------------------------------------------------------------
// Ogg (Opus)

const OGG_CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n << 24;
    for (let k = 0; k < 8; k++) c = c & 0x80000000 ? (c << 1) ^ 0x04c11db7 : c << 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** Ogg's CRC-32: polynomial 0x04C11DB7, not reflected, initial 0, no final xor. */
function oggCrc(data: Uint8Array): number {
  let c = 0;
  for (const b of data) c = (OGG_CRC_TABLE[((c >>> 24) ^ b) & 0xff]! ^ (c << 8)) >>> 0;
  return c >>> 0;
}

function oggPage(packet: Buffer, opts: { headerType: number; granule: bigint; serial: number; seq: number }): Buffer {
  if (packet.length >= 255 * 255) throw new Error('packet too large for one page');
  const lacing: number[] = [];
  let rest = packet.length;
  while (rest >= 255) {
    lacing.push(255);
    rest -= 255;
  }
  lacing.push(rest);
  const header = Buffer.alloc(27 + lacing.length);
  header.write('OggS', 0, 'latin1');
  header[4] = 0; // stream structure version
  header[5] = opts.headerType;
  header.writeBigUInt64LE(opts.granule, 6);
  header.writeUInt32LE(opts.serial, 14);
  header.writeUInt32LE(opts.seq, 18);
  header.writeUInt32LE(0, 22); // CRC, filled below
  header[26] = lacing.length;
  Buffer.from(lacing).copy(header, 27);
  const page = Buffer.concat([header, packet]);
  page.writeUInt32LE(oggCrc(page), 22);
  return page;
}

/** An Ogg Opus stream's header pages: "OggS" page 0 (BOS) with the OpusHead packet, page 1 with OpusTags. CRCs valid. */
export function oggFile(): Buffer {
  const serial = 0x4b1d5eed;
  const head = Buffer.alloc(19);
  head.write('OpusHead', 0, 'latin1');
  head[8] = 1; // version
  head[9] = 1; // channels
  head.writeUInt16LE(312, 10); // pre-skip
  head.writeUInt32LE(16000, 12); // input sample rate
  head.writeInt16LE(0, 16); // output gain
  head[18] = 0; // channel mapping family
  const vendor = Buffer.from('kidwatch-hub tests', 'utf8');
  const tags = Buffer.alloc(8 + 4 + vendor.length + 4);
  tags.write('OpusTags', 0, 'latin1');
  tags.writeUInt32LE(vendor.length, 8);
  vendor.copy(tags, 12);
  tags.writeUInt32LE(0, 12 + vendor.length); // no user comments
  return Buffer.concat([
    oggPage(head, { headerType: 0x02, granule: 0n, serial, seq: 0 }),
    oggPage(tags, { headerType: 0x00, granule: 0n, serial, seq: 1 }),
  ]);
}

// ---------------------------------------------------------------------------------------------
// WebM

function ebmlSize(n: number): number[] {
  if (n < 0x7f) return [0x80 | n];
  if (n < 0x3fff) return [0x40 | (n >> 8), n & 0xff];
  if (n < 0x1fffff) return [0x20 | (n >> 16), (n >> 8) & 0xff, n & 0xff];
  throw new Error('element too large for this helper');
}

function ebml(id: number[], body: number[]): number[] {
  return [...id, ...ebmlSize(body.length), ...body];
}

const uint = (n: number) => (n < 0x100 ? [n] : n < 0x10000 ? [n >> 8, n & 0xff] : [n >> 16, (n >> 8) & 0xff, n & 0xff]);
const str = (s: string) => [...Buffer.from(s, 'utf8')];
const f32 = (x: number) => {
  const b = Buffer.alloc(4);
  b.writeFloatBE(x);
  return [...b];
};

/**
 * A WebM (Matroska) file as MediaRecorder starts one: the EBML header with DocType "webm", then a Segment of
 * unknown size holding Info and Tracks (one Opus audio track). No clusters: structurally valid, no samples.
 */
export function webmFile(): Buffer {
  const header = ebml(
    [0x1a, 0x45, 0xdf, 0xa3],
    [
      ...ebml([0x42, 0x86], uint(1)), // EBMLVersion
      ...ebml([0x42, 0xf7], uint(1)), // EBMLReadVersion
      ...ebml([0x42, 0xf2], uint(4)), // EBMLMaxIDLength
      ...ebml([0x42, 0xf3], uint(8)), // EBMLMaxSizeLength
      ...ebml([0x42, 0x82], str('webm')), // DocType
      ...ebml([0x42, 0x87], uint(4)), // DocTypeVersion
      ...ebml([0x42, 0x85], uint(2)), // DocTypeReadVersion
    ],
  );
  const info = ebml(
    [0x15, 0x49, 0xa9, 0x66],
    [
      ...ebml([0x2a, 0xd7, 0xb1], uint(1_000_000)), // TimestampScale: 1 ms
      ...ebml([0x4d, 0x80], str('kidwatch-hub tests')), // MuxingApp
      ...ebml([0x57, 0x41], str('kidwatch-hub tests')), // WritingApp
    ],
  );
  const tracks = ebml(
    [0x16, 0x54, 0xae, 0x6b],
    [
      ...ebml(
        [0xae],
        [
          // TrackEntry
          ...ebml([0xd7], uint(1)), // TrackNumber
          ...ebml([0x73, 0xc5], uint(1)), // TrackUID
          ...ebml([0x83], uint(2)), // TrackType: audio
          ...ebml([0x86], str('A_OPUS')), // CodecID
          ...ebml([0xe1], [...ebml([0xb5], f32(48000)), ...ebml([0x9f], uint(1))]), // Audio: 48 kHz, mono
        ],
      ),
    ],
  );
  const segment = [0x18, 0x53, 0x80, 0x67, 0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, ...info, ...tracks];
  return Buffer.from([...header, ...segment]);
}

// ---------------------------------------------------------------------------------------------
// MP4 / M4A

function box(type: string, body: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(8 + body.length, 0);
  head.write(type, 4, 'latin1');
  return Buffer.concat([head, body]);
}

/**
 * The start of an M4A file as phones write it: an ISO BMFF 'ftyp' box (major brand `brand`, compatible
 * M4A /mp42/isom) and a 'free' box. Structurally valid boxes, not a playable file (no moov/mdat).
 */
export function m4aFile(brand = 'M4A '): Buffer {
  const ftyp = Buffer.concat([Buffer.from(brand, 'latin1'), Buffer.alloc(4), Buffer.from('M4A mp42isom', 'latin1')]);
  return Buffer.concat([box('ftyp', ftyp), box('free', Buffer.alloc(8))]);
}
