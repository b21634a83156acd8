// The layering rules (.dependency-cruiser.cjs) hold on the tree, and each one fires on a file that
// breaks it: a rule that never fails would prove nothing.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '../..');
const depcruise = join(root, 'node_modules/.bin/depcruise');

function cruise(cwd: string, paths: string[]): { status: number | null; out: string } {
  const r = spawnSync(depcruise, [...paths, '--config', '.dependency-cruiser.cjs', '--output-type', 'err'], {
    cwd,
    encoding: 'utf8',
  });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

/** One copy of the tree (sources and configs) for the files that break a rule; packages from the checkout. */
const tree = mkdtempSync(join(tmpdir(), 'hub-layering-'));
afterAll(() => rmSync(tree, { recursive: true, force: true }));
for (const part of ['src', 'rooms', 'tsconfig.json', '.dependency-cruiser.cjs', 'package.json']) {
  cpSync(join(root, part), join(tree, part), { recursive: true });
}
symlinkSync(join(root, 'node_modules'), join(tree, 'node_modules'));

const BREAKS: [rule: string, file: string, source: string][] = [
  ['rooms-only-from-hub', 'src/location/bad-1.ts', "export { mountRooms } from '../../rooms/index.js';"],
  ['only-main-chooses-implementations', 'src/chat/bad-2.ts', "export { memoryBackplane } from '../backplane/memory.js';"],
  ['backplane-stands-alone', 'src/backplane/bad-3.ts', "export { LocationService } from '../location/service.js';"],
  ['store-below-use-cases', 'src/store/bad-4.ts', "export { ChatService } from '../chat/service.js';"],
  ['pure-modules-stay-pure', 'src/contract/bad-5.ts', "export { Guard } from '../auth/policy.js';"],
  ['pure-modules-no-io', 'src/geo/bad-6.ts', "export { readFileSync } from 'node:fs';"],
  ['transports-use-services', 'rooms/bad-7.ts', "export { openStore } from '../src/store/store.js';"],
  ['transports-only-from-hub-and-main', 'src/families/bad-8.ts', "export { familyRoutes } from '../http/family-routes.js';"],
];
const GOOD = ['src/location/good.ts', "export { cellOf } from '../geo/h3.js';"] as const;

describe('layering', () => {
  // The whole tree is checked by `npm run lint:deps` in `npm test`; here, each rule must fire on
  // a file that breaks it (one cruise over all of them), and not on one that follows the rules.
  for (const [, file, source] of BREAKS) writeFileSync(join(tree, file), source);
  writeFileSync(join(tree, GOOD[0]), GOOD[1]);
  const result = cruise(tree, [...BREAKS.map(([, file]) => file), GOOD[0]]);
  const lines = result.out.split('\n');

  it.each(BREAKS)('%s fires on a file that breaks it', (rule, file) => {
    expect(result.status).not.toBe(0);
    expect(lines.some((l) => l.includes(rule) && l.includes(file))).toBe(true);
  });

  it('does not fire on a file that follows the rules', () => {
    expect(lines.filter((l) => l.includes(GOOD[0]))).toEqual([]);
  });
});
