// MP4 "faststart" for ffmpeg's stdin: ffmpeg reads a pipe, which cannot seek, and an M4A whose
// index (`moov`) comes after its audio (`mdat`), as most recorders write it, cannot be read from a
// pipe. Such a file is rewritten in memory with `moov` first and its chunk offsets (`stco`/`co64`)
// moved to match. Pure buffer work, apart from audio-convert.ts so the box parsing reads on its own.

interface Box {
  type: string;
  start: number;
  headerSize: number;
  size: number;
}

function boxesIn(data: Buffer, from: number, to: number): Box[] | undefined {
  const out: Box[] = [];
  let off = from;
  while (off < to) {
    if (to - off < 8) return undefined;
    let size = data.readUInt32BE(off);
    const type = data.toString('latin1', off + 4, off + 8);
    let headerSize = 8;
    if (size === 1) {
      if (to - off < 16) return undefined;
      const big = data.readBigUInt64BE(off + 8);
      if (big > BigInt(to - off)) return undefined;
      size = Number(big);
      headerSize = 16;
    } else if (size === 0) size = to - off;
    if (size < headerSize || off + size > to) return undefined;
    out.push({ type, start: off, headerSize, size });
    off += size;
  }
  return out;
}

const CONTAINERS = new Set(['moov', 'trak', 'mdia', 'minf', 'stbl', 'edts', 'udta']);

/** Adds `shift` to every chunk offset in a copy of `moov`; false when an offset would not fit. */
function shiftChunkOffsets(moov: Buffer, box: Box, shift: number): boolean {
  const children = boxesIn(moov, box.start + box.headerSize, box.start + box.size);
  if (!children) return false;
  for (const c of children) {
    const body = c.start + c.headerSize;
    if (CONTAINERS.has(c.type)) {
      if (!shiftChunkOffsets(moov, c, shift)) return false;
    } else if (c.type === 'stco' || c.type === 'co64') {
      const wide = c.type === 'co64';
      if (c.size - c.headerSize < 8) return false;
      const count = moov.readUInt32BE(body + 4);
      if (8 + count * (wide ? 8 : 4) > c.size - c.headerSize) return false;
      for (let i = 0; i < count; i++) {
        const at = body + 8 + i * (wide ? 8 : 4);
        if (wide) moov.writeBigUInt64BE(moov.readBigUInt64BE(at) + BigInt(shift), at);
        else {
          const v = moov.readUInt32BE(at) + shift;
          if (v > 0xffffffff) return false;
          moov.writeUInt32BE(v, at);
        }
      }
    }
  }
  return true;
}

/** The input as ffmpeg can read it from a pipe: an MP4 with `moov` after `mdat` gets `moov` first; anything else as it is. */
export function prepareInput(input: Buffer): Buffer {
  if (input.length < 16 || input.toString('latin1', 4, 8) !== 'ftyp') return input;
  const top = boxesIn(input, 0, input.length);
  if (!top) return input;
  const moovAt = top.findIndex((b) => b.type === 'moov');
  const mdatAt = top.findIndex((b) => b.type === 'mdat');
  if (moovAt < 0 || mdatAt < 0 || moovAt < mdatAt) return input;
  const moovBox = top[moovAt]!;
  const moov = Buffer.from(input.subarray(moovBox.start, moovBox.start + moovBox.size));
  // Everything between the first mdat and the old moov moves forward by the moov's size.
  if (!shiftChunkOffsets(moov, { ...moovBox, start: 0 }, moovBox.size)) return input;
  const insertAt = top[mdatAt]!.start;
  return Buffer.concat([
    input.subarray(0, insertAt),
    moov,
    input.subarray(insertAt, moovBox.start),
    input.subarray(moovBox.start + moovBox.size),
  ]);
}
