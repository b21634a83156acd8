/**
 * Approximate wire size of a decoded event payload, in bytes. Stops counting once past `limit`
 * so a huge payload costs no more than the limit to measure.
 */
export function payloadBytes(value: unknown, limit: number): number {
  let total = 0;
  const stack: unknown[] = [value];
  while (stack.length > 0 && total <= limit) {
    const v = stack.pop();
    if (typeof v === 'string') total += Buffer.byteLength(v) + 2;
    else if (typeof v === 'number' || typeof v === 'boolean' || v === null || v === undefined) total += 8;
    else if (Buffer.isBuffer(v) || v instanceof ArrayBuffer || ArrayBuffer.isView(v)) total += (v as ArrayBuffer).byteLength;
    else if (Array.isArray(v)) {
      total += 2;
      for (const item of v) stack.push(item);
    } else if (typeof v === 'object') {
      for (const [k, item] of Object.entries(v)) {
        total += Buffer.byteLength(k) + 4;
        stack.push(item);
      }
    } else total += 8;
  }
  return total;
}
