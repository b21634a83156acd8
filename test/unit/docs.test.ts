// The docs are part of the contract: every variable, socket event and route the hub has is
// documented, so docs/config.md and docs/protocol.md cannot silently fall behind the code.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ENV_VARS } from '../../src/config.js';
import { ALL_REASONS, ERROR_CODES } from '../../src/contract/errors.js';
import { eventSchemas } from '../../src/contract/schemas.js';

const root = join(import.meta.dirname, '../..');
const read = (p: string) => readFileSync(join(root, p), 'utf8');

describe('docs', () => {
  it('docs/protocol.md lists every error reason with its code', () => {
    const doc = read('docs/protocol.md');
    const section = /## Error reasons\n([\s\S]*?)\n## /.exec(doc)?.[1] ?? '';
    const missing = ALL_REASONS.filter(
      ({ reason, code }) => !new RegExp(`\\| \`${reason.replace('.', '\\.')}\` \\| \`${code}\``).test(section),
    );
    expect(section.length).toBeGreaterThan(100);
    expect(missing).toEqual([]);
  });

  it('docs/config.md lists every environment variable', () => {
    const doc = read('docs/config.md');
    const missing = ENV_VARS.filter((v) => !doc.includes(`\`${v}\``));
    expect(missing).toEqual([]);
  });

  it('docs/protocol.md names every client event, server event, error code and route', () => {
    const doc = read('docs/protocol.md');
    const serverEvents = [...read('src/contract/events.ts').matchAll(/^\s+'?([a-z:]+)'?: \(/gm)].map((m) => m[1]!);
    expect(serverEvents.length).toBeGreaterThan(Object.keys(eventSchemas).length);
    const routeFiles = readdirSync(join(root, 'src/http'))
      .filter((f) => f.endsWith('-routes.ts') && f !== 'web-routes.ts')
      .map((f) => read(`src/http/${f}`));
    const paths = routeFiles.flatMap((src) =>
      [...src.matchAll(/(?:app|scope)\.(get|post|put|delete)\('([^']+)'/g)].map((m) => m[2]!),
    );
    expect(paths.length).toBeGreaterThan(20);
    const missing = [...serverEvents, ...ERROR_CODES, ...paths].filter((name) => !doc.includes(name));
    expect(missing).toEqual([]);
  });
});

/**
 * State the nodes of a cluster share through Redis. A doc that calls one of these "per node" is
 * out of date (it was true before the cluster issue moved them to Redis).
 */
const SHARED_STATE =
  /low[-_ ]battery|rate[- ]limit|budget|login throttle|failed[- ]login|area stat|area:stats|offline alert|`offline`|newest position|latest position/i;
const PER_NODE =
  /\bper[- ]node\b|\bon each node\b|\bin each node'?s memory\b|\beach node (counts|judges|keeps)\b|\bin memory on each node\b/i;

/** Statements of a Markdown file: paragraphs, list items and table rows, with the list intro they belong to. */
function statements(markdown: string): { text: string; intro: string }[] {
  const out: { text: string; intro: string }[] = [];
  let intro = '';
  let current: string[] = [];
  const flush = () => {
    if (current.length > 0) out.push({ text: current.join(' '), intro });
    current = [];
  };
  for (const line of markdown.split('\n')) {
    const item = /^\s*([-*]|\d+\.)\s|^\|/.test(line);
    if (line.trim() === '' || /^#/.test(line)) {
      flush();
      if (/^#/.test(line)) intro = '';
      continue;
    }
    if (item) {
      flush();
      current.push(line);
      continue;
    }
    if (current.length === 0 && /:\s*$/.test(line.trim())) {
      // A line that introduces a list: its items inherit what it says.
      flush();
      intro = line;
      out.push({ text: line, intro: '' });
      continue;
    }
    if (current.length === 0) intro = '';
    current.push(line);
  }
  flush();
  return out;
}

/** The sentences of a statement; "not one per node" and the like say the opposite of per node. */
const sentences = (text: string) =>
  text.replace(/\b(not|no longer|never)( one| kept| counted)? per[- ]node\b/gi, '').split(/(?<=[.;])\s+|\s+\|\s+/);

const DOC_FILES = ['README.md', 'docs/protocol.md', 'docs/config.md', 'docs/operations.md', 'docs/privacy.md'];

describe('docs tell the truth about the cluster', () => {
  it('never call state the nodes share per node', () => {
    const wrong: string[] = [];
    for (const file of DOC_FILES) {
      for (const { text, intro } of statements(read(file))) {
        for (const sentence of sentences(text)) {
          const perNode = PER_NODE.test(sentence) || PER_NODE.test(intro);
          if (perNode && SHARED_STATE.test(sentence)) wrong.push(`${file}: ${sentence.slice(0, 160)}`);
        }
      }
    }
    expect(wrong).toEqual([]);
  });

  it('catches the old wording (the check itself can fail)', () => {
    const old = 'What is still per node:\n- **Low-battery state** judges only the reports the node handled.\n';
    const flagged = statements(old).filter(
      ({ text, intro }) => (PER_NODE.test(text) || PER_NODE.test(intro)) && SHARED_STATE.test(text),
    );
    expect(flagged).toHaveLength(1);
  });
});

describe('the README is what CI runs', () => {
  const block = /## Two commands\s+```sh\n([\s\S]*?)```/.exec(read('README.md'))?.[1] ?? '';
  const commands = block
    .split('\n')
    .map((l) => l.replace(/\s*#.*$/, '').trim())
    .filter(Boolean);

  it('has a start command and a test command, both npm scripts that exist', () => {
    const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts;
    expect(commands).toEqual(['npm install && npm start', 'npm install && npm test']);
    expect(scripts.start).toBeDefined();
    expect(scripts.test).toBeDefined();
  });

  it('.ci/run runs the README check and the test command taken from the README itself', () => {
    const ci = read('.ci/run');
    expect(ci).toMatch(/bash scripts\/readme-check\.sh/);
    expect(ci).toMatch(/awk '\/\^## Two commands\//);
    expect(ci).toMatch(/bash -c "\$test_cmd"/);
    const check = read('scripts/readme-check.sh');
    expect(check).toMatch(/awk '\/\^## Two commands\//);
    // It runs the start command exactly as written, through its start_hub function.
    expect(check).toMatch(/start_hub\(\) \{[^}]*bash -c "\$1"/);
    expect(check).toMatch(/start_hub "\$start_cmd"/);
  });

  // Under pipefail a reader that stops early (grep -q, grep -m1, head) can kill its writer with
  // SIGPIPE, and the script then ends with 141 on some runs and not others: CI once failed so
  // after 4 s, when the README grew past a pipe's buffer. Such pipelines read to the end instead.
  it('the CI scripts never pipe into a reader that stops early', () => {
    const scripts = [
      '.ci/run',
      'scripts/readme-check.sh',
      'scripts/mediasoup-worker/ensure.sh',
      'scripts/mediasoup-worker/build.sh',
    ];
    const earlyStop = /\|\s*(?:grep\s+(?:-\w*[qm]|--quiet|--max-count)|head\b)/;
    for (const file of scripts) {
      const text = read(file);
      expect(text, file).toMatch(/set -euo pipefail/);
      const lines = text.split('\n').filter((line) => !line.trimStart().startsWith('#'));
      expect(
        lines.filter((line) => earlyStop.test(line)),
        file,
      ).toEqual([]);
    }
  });

  it('sends nobody outside the repository', () => {
    for (const file of DOC_FILES) expect(read(file), file).not.toMatch(/\.\.\/shared\//);
  });
});
