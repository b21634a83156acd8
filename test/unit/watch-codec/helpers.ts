// Builders for test frames: the header is written here, the content by each test, so a test reads
// like the wire. LEN is computed right unless a test says otherwise (watches get it wrong).
import { decodeFrame } from '../../../src/watch/codec/index.js';
import type { WatchFrame } from '../../../src/watch/codec/index.js';

export function frame(
  content: string | Buffer,
  opts: { maker?: string; id?: string; index?: string; len?: string } = {},
): Buffer {
  const body = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
  const len = opts.len ?? body.length.toString(16).toUpperCase().padStart(4, '0');
  const head = `[${opts.maker ?? '3G'}*${opts.id ?? '8800000015'}*${opts.index ? `${opts.index}*` : ''}${len}*`;
  return Buffer.concat([Buffer.from(head, 'latin1'), body, Buffer.from(']', 'latin1')]);
}

/** Decodes and fails the test with the codec's message when the frame does not decode. */
export function decoded(bytes: Buffer): WatchFrame {
  const r = decodeFrame(bytes);
  if (!r.ok) throw new Error(`expected a frame, got ${r.error.code}: ${r.error.message}`);
  return r.frame;
}

/** Narrows a decoded frame to one kind (fails the test otherwise). */
export function as<K extends WatchFrame['kind']>(f: WatchFrame, kind: K): Extract<WatchFrame, { kind: K }> {
  if (f.kind !== kind) throw new Error(`expected a ${kind} frame, got ${f.kind}`);
  return f as Extract<WatchFrame, { kind: K }>;
}
