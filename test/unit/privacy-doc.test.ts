// Each row of docs/privacy.md names tests; they must exist, so a promise cannot point at nothing.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '../..');
const doc = readFileSync(join(root, 'docs/privacy.md'), 'utf8');

describe('docs/privacy.md', () => {
  const rows = doc.split('\n').filter((l) => l.startsWith('| **'));
  const links = [...doc.matchAll(/\[`(test\/[^`]+\.test\.ts)`: ([^\]]+)\]/g)].map((m) => ({ file: m[1]!, name: m[2]! }));

  it('has a row per promise, each linking at least one test', () => {
    expect(rows.length).toBeGreaterThanOrEqual(11);
    for (const row of rows) expect(row, row.slice(0, 60)).toMatch(/\[`test\/[^`]+\.test\.ts`: /);
  });

  it('links only tests that exist', () => {
    expect(links.length).toBeGreaterThan(20);
    const missing = links.filter(({ file, name }) => {
      const path = join(root, file);
      if (!existsSync(path)) return true;
      const src = readFileSync(path, 'utf8');
      return !src.includes(`'${name}'`) && !src.includes(`"${name}"`) && !src.includes(`\`${name}\``);
    });
    expect(missing).toEqual([]);
  });
});
