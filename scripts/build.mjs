// Builds the hub into dist/: TypeScript (src, rooms) and, when present, the parents' web app
// (web/, with Vite). `--if-stale` skips the build when no input changed since the last one, so
// `npm start` costs no compile on every start; the fingerprint of the inputs (path, size, mtime)
// is kept in dist/.build-stamp after a successful build.
//
// The web build needs Vite's bundler, whose native binding is an optional dependency: after
// `npm install --omit=optional` (or where the binding for this platform could not install) it
// cannot load. The hub does not need it, so the build then goes on without the web app, says so in
// one line, and leaves the reason in dist/web-unbuilt.txt for the hub to answer at `/`. The stamp
// remembers the web app is missing, so the next start tries the web build again (and only that).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = join(import.meta.dirname, '..');
const STAMP = join(root, 'dist', '.build-stamp');
const UNBUILT = join(root, 'dist', 'web-unbuilt.txt');
const WEB_MISSING = ' web-missing';
const INPUTS = [
  'src',
  'rooms',
  'web',
  'tsconfig.json',
  'tsconfig.build.json',
  'package.json',
  'package-lock.json',
  'scripts/build.mjs',
];

function* files(path) {
  if (!existsSync(path)) return;
  const st = statSync(path);
  if (!st.isDirectory()) {
    yield [path, st];
    return;
  }
  for (const name of readdirSync(path).sort()) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    yield* files(join(path, name));
  }
}

function fingerprint() {
  const hash = createHash('sha256');
  for (const input of INPUTS) {
    for (const [path, st] of files(join(root, input))) hash.update(`${relative(root, path)}:${st.size}:${st.mtimeMs}\n`);
  }
  return hash.digest('hex');
}

function run(command, args) {
  const r = spawnSync(command, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    process.stderr.write(`build failed: ${command} ${args.join(' ')} exited ${r.status ?? r.signal}\n`);
    process.exit(r.status ?? 1);
  }
}

/** Why Vite cannot run here (the first sentence of the import's error), or null when it can. */
function viteUnavailable() {
  const probe = "try { await import('vite') } catch (e) { process.stderr.write(String(e?.message ?? e)); process.exit(1) }";
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', probe], { cwd: root, encoding: 'utf8' });
  if (r.status === 0) return null;
  const message = `${r.stderr}`.trim().split('\n')[0] || `exit ${r.status ?? r.signal}`;
  return message.split(/(?<=[a-z])\.\s/)[0].replace(/\.$/, '');
}

function buildWeb() {
  if (!existsSync(join(root, 'web', 'vite.config.ts'))) return true;
  const reason = viteUnavailable();
  if (reason === null) {
    run(bin('vite'), ['build', '--config', 'web/vite.config.ts', '--logLevel', 'warn']);
    rmSync(UNBUILT, { force: true });
    return true;
  }
  // A web app from older sources would not match this hub: better none, with the reason.
  rmSync(join(root, 'dist', 'web'), { recursive: true, force: true });
  const why = `Vite cannot load (${reason}); install the optional dependencies with \`npm install\`, then restart`;
  writeFileSync(UNBUILT, `${why}\n`);
  process.stderr.write(`the parents' web app is not built: ${why}. The hub starts without it.\n`);
  return false;
}

const stamp = existsSync(STAMP) ? readFileSync(STAMP, 'utf8').trim() : '';
const print = stamp.replace(WEB_MISSING, '');
const current = fingerprint();
const bin = (name) => join(root, 'node_modules', '.bin', name);
if (process.argv.includes('--if-stale') && print === current) {
  if (stamp === print) process.exit(0);
  // Up to date but for the web app, which could not be built last time: try that again.
  if (buildWeb()) writeFileSync(STAMP, `${current}\n`);
  process.exit(0);
}

if (!existsSync(bin('tsc'))) {
  process.stderr.write('build failed: TypeScript is not installed; run `npm install` first\n');
  process.exit(1);
}
process.stderr.write(print ? 'sources changed: building dist/ …\n' : 'building dist/ (first start) …\n');
run(bin('tsc'), ['-p', 'tsconfig.build.json']);
const web = buildWeb();
writeFileSync(STAMP, `${current}${web ? '' : WEB_MISSING}\n`);
