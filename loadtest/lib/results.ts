// Where results go (loadtest/results/) and what every result records about the run.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: this file runs from dist/loadtest/lib/. */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
/** BENCH_RESULTS_DIR=/tmp/x for smoke runs that must not touch the committed results. */
export const RESULTS_DIR = process.env.BENCH_RESULTS_DIR
  ? resolve(process.env.BENCH_RESULTS_DIR)
  : join(REPO_ROOT, 'loadtest', 'results');

export function timestamp(d = new Date()): string {
  return d
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
}

export interface RunInfo {
  startedAt: string;
  git: { commit: string; dirty: boolean } | null;
  node: string;
  cpus: number;
  cpuModel: string;
  memGb: number;
  loadavgAtStart: number[];
}

export function runInfo(): RunInfo {
  let git: RunInfo['git'] = null;
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
    const dirty =
      execFileSync('git', ['status', '--porcelain', '--', 'src', 'rooms'], { cwd: REPO_ROOT, encoding: 'utf8' }).trim() !== '';
    git = { commit, dirty };
  } catch {
    git = null;
  }
  const c = cpus();
  return {
    startedAt: new Date().toISOString(),
    git,
    node: process.version,
    cpus: c.length,
    cpuModel: c[0]?.model ?? '?',
    memGb: Math.round(totalmem() / 2 ** 30),
    loadavgAtStart: loadavg().map((v) => Math.round(v * 100) / 100),
  };
}

/** Writes `<base>-<ts>.json`, `<base>-<ts>.md` and `<base>-latest.md`; returns the paths. */
export function writeResults(base: string, ts: string, json: unknown, markdown: string): string[] {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const j = join(RESULTS_DIR, `${base}-${ts}.json`);
  const m = join(RESULTS_DIR, `${base}-${ts}.md`);
  const latest = join(RESULTS_DIR, `${base}-latest.md`);
  writeFileSync(j, `${JSON.stringify(json, null, 2)}\n`);
  writeFileSync(m, markdown);
  copyFileSync(m, latest);
  return [j, m, latest].map((p) => relative(process.cwd(), p));
}

/** A Markdown table. */
export function table(header: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const line = (cells: readonly (string | number)[]) => `| ${cells.map(String).join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

export const fmt = (v: number, digits = 1): string =>
  Number.isFinite(v) ? v.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 }) : String(v);

export function runInfoMarkdown(info: RunInfo, extra: string[] = []): string {
  const git = info.git ? `${info.git.commit}${info.git.dirty ? ' (src/ or rooms/ modified)' : ''}` : 'unknown';
  return [
    `Run ${info.startedAt} · commit ${git} · Node ${info.node} · ${info.cpus} × ${info.cpuModel} · ${info.memGb} GiB`,
    `· load average at start ${info.loadavgAtStart.join(' / ')} (a shared, noisy machine)`,
    ...extra,
  ].join(' ');
}
