// Binary payloads (TK, TK2, JXTK, img) are escaped so that their bytes can never look like frame
// syntax: 7D 01..05 stand for 7D ([ is 5B, ] is 5D, , is 2C, * is 2A). Text fields are never escaped.

const ESC = 0x7d;
/** ESC followed by these stands for, in order, 7D 5B 5D 2C 2A. */
const DECODED = [0x7d, 0x5b, 0x5d, 0x2c, 0x2a] as const;
const ENCODED_OF = new Map<number, number>(DECODED.map((b, i) => [b, i + 1]));

export function escapeBinary(data: Uint8Array): Buffer {
  let extra = 0;
  for (const b of data) if (ENCODED_OF.has(b)) extra++;
  if (extra === 0) return Buffer.from(data);
  const out = Buffer.allocUnsafe(data.length + extra);
  let o = 0;
  for (const b of data) {
    const code = ENCODED_OF.get(b);
    if (code === undefined) out[o++] = b;
    else {
      out[o++] = ESC;
      out[o++] = code;
    }
  }
  return out;
}

/**
 * Undoes `escapeBinary`. A 7D not followed by 01..05 (a watch that forgot to escape, or a truncated
 * payload) is kept as it is: losing one byte of audio is better than losing the recording.
 */
export function unescapeBinary(data: Uint8Array): Buffer {
  const first = data.indexOf(ESC);
  if (first < 0) return Buffer.from(data);
  const out = Buffer.allocUnsafe(data.length);
  let o = 0;
  for (let i = 0; i < data.length; i++) {
    const b = data[i]!;
    const next = data[i + 1];
    if (b === ESC && next !== undefined && next >= 1 && next <= 5) {
      out[o++] = DECODED[next - 1]!;
      i++;
    } else out[o++] = b;
  }
  return out.subarray(0, o);
}
