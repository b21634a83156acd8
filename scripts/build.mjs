// Builds the hub into dist/: TypeScript (src, rooms) and, when present, the parents' web app
// (web/, with Vite). `--if-stale` skips the build when no input changed since the last one, so
// `npm start` costs no compile on every start; the fingerprint of the inputs (path, size, mtime)
// is kept in dist/.build-stamp after a successful build.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = join(import.meta.dirname, '..');
const STAMP = join(root, 'dist', '.build-stamp');
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

const print = existsSync(STAMP) ? readFileSync(STAMP, 'utf8').trim() : '';
const current = fingerprint();
if (process.argv.includes('--if-stale') && print === current) process.exit(0);

const bin = (name) => join(root, 'node_modules', '.bin', name);
if (!existsSync(bin('tsc'))) {
  process.stderr.write('build failed: TypeScript is not installed; run `npm install` first\n');
  process.exit(1);
}
process.stderr.write(print ? 'sources changed: building dist/ …\n' : 'building dist/ (first start) …\n');
run(bin('tsc'), ['-p', 'tsconfig.build.json']);
if (existsSync(join(root, 'web', 'vite.config.ts')))
  run(bin('vite'), ['build', '--config', 'web/vite.config.ts', '--logLevel', 'warn']);
writeFileSync(STAMP, `${current}\n`);
