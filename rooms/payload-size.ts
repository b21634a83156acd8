/**
 * Approximate wire size of a decoded event payload, in bytes. Stops once past `limit`, so a huge
 * payload costs about the limit to measure, whatever its size.
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
      for (let i = 0; i < v.length && total <= limit; i++) {
        total += 1;
        stack.push(v[i]);
      }
    } else if (typeof v === 'object') {
      for (const k in v) {
        if (total > limit) break;
        if (!Object.hasOwn(v, k)) continue;
        total += Buffer.byteLength(k) + 4;
        stack.push((v as Record<string, unknown>)[k]);
      }
    } else total += 8;
  }
  return total;
}
