// The examples in docs/watch-protocol.md are real frames: each must parse, with a LEN that is right.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeDownlink, decodeFrame, parseFrame } from '../../../src/watch/codec/index.js';

const doc = readFileSync(join(import.meta.dirname, '../../../docs/watch-protocol.md'), 'utf8');
// Complete example frames: a 4-hex LEN and nothing elided (no `…`, no `<placeholder>`).
const examples = [...doc.matchAll(/\[[0-9A-Z]{2}\*[0-9A-Za-z]+\*(?:[0-9A-F]{4}\*)?[0-9A-F]{4}\*[^\]\s`…<]*\]/g)].map((m) => m[0]);

describe('docs/watch-protocol.md examples', () => {
  it('has examples to check', () => {
    expect(examples.length).toBeGreaterThanOrEqual(15);
  });

  it('every complete example parses, decodes one way or the other, and states its LEN right', () => {
    for (const ex of examples) {
      const bytes = Buffer.from(ex, 'utf8');
      const p = parseFrame(bytes);
      expect(p.ok, ex).toBe(true);
      if (!p.ok) continue;
      const contentLength = p.frame.type.length + (p.frame.hasBody ? 1 + p.frame.body.length : 0);
      expect(p.frame.header.declaredLength, ex).toBe(contentLength);
      expect(decodeFrame(bytes).ok || decodeDownlink(bytes).ok, ex).toBe(true);
    }
  });
});
