// The docs are part of the contract: every variable, socket event and route the hub has is
// documented, so docs/config.md and docs/protocol.md cannot silently fall behind the code.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ENV_VARS } from '../../src/config.js';
import { ERROR_CODES } from '../../src/contract/errors.js';
import { eventSchemas } from '../../src/contract/schemas.js';

const root = join(import.meta.dirname, '../..');
const read = (p: string) => readFileSync(join(root, p), 'utf8');

describe('docs', () => {
  it('docs/config.md lists every environment variable', () => {
    const doc = read('docs/config.md');
    const missing = ENV_VARS.filter((v) => !doc.includes(`\`${v}\``));
    expect(missing).toEqual([]);
  });

  it('docs/protocol.md names every client event, server event, error code and route', () => {
    const doc = read('docs/protocol.md');
    const serverEvents = [...read('src/contract/events.ts').matchAll(/^\s+'?([a-z:]+)'?: \(/gm)].map((m) => m[1]!);
    expect(serverEvents.length).toBeGreaterThan(Object.keys(eventSchemas).length);
    const routeFiles = ['auth-routes', 'device-routes', 'family-routes', 'ops-routes'].map((f) => read(`src/http/${f}.ts`));
    const paths = routeFiles.flatMap((src) => [...src.matchAll(/app\.(get|post|put|delete)\('([^']+)'/g)].map((m) => m[2]!));
    expect(paths.length).toBeGreaterThan(10);
    const missing = [...serverEvents, ...ERROR_CODES, ...paths].filter((name) => !doc.includes(name));
    expect(missing).toEqual([]);
  });
});
