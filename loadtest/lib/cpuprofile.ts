// Summarizes a V8 .cpuprofile (node --cpu-prof): self time per function and per package, and
// total (inclusive) time of the hot functions, optionally within time windows of the run.
import { readFileSync } from 'node:fs';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface FunctionTime {
  function: string;
  where: string;
  package: string;
  selfMs: number;
  /** Of the busy (non-idle) samples. */
  selfPct: number;
  totalPct: number;
}

export interface ProfileSummary {
  file: string;
  windowsS: { from: number; to: number }[];
  sampledMs: number;
  busyMs: number;
  idlePct: number;
  byPackage: { package: string; selfMs: number; selfPct: number }[];
  topSelf: FunctionTime[];
  topTotal: FunctionTime[];
}

/** Where the code lives: a package name, the hub's own folders, or the runtime. */
export function packageOf(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (!url) {
    if (functionName === '(garbage collector)') return 'GC';
    if (functionName === '(idle)' || functionName === '(program)' || functionName === '(root)') return functionName;
    return 'V8 builtins / native';
  }
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const parts = url.slice(nm + '/node_modules/'.length).split('/');
    return parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
  }
  if (url.startsWith('node:')) return 'node core';
  const m = /\/dist\/(src\/[^/]+|rooms|loadtest)\//.exec(url) ?? /\/dist\/(src)\/[^/]+\.js$/.exec(url);
  if (m) return `hub ${m[1]}`;
  return url.replace(/^file:\/\//, '');
}

function where(frame: CallFrame): string {
  if (!frame.url) return '';
  const short = frame.url
    .replace(/^file:\/\//, '')
    .replace(/^.*\/node_modules\//, '')
    .replace(/^.*\/dist\//, 'dist/');
  return `${short}:${frame.lineNumber + 1}`;
}

export function summarizeProfile(file: string, windowsS: { from: number; to: number }[] = [], top = 25): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const n of profile.nodes) {
    byId.set(n.id, n);
    for (const c of n.children ?? []) parent.set(c, n.id);
  }
  const keyOf = (n: ProfileNode) => `${n.callFrame.functionName || '(anonymous)'}\u0000${where(n.callFrame)}`;
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  const frames = new Map<string, CallFrame>();
  const pkgSelf = new Map<string, number>();
  let sampledUs = 0;
  let idleUs = 0;
  let t = profile.startTime;
  const inWindow = (us: number) => {
    if (windowsS.length === 0) return true;
    const s = (us - profile.startTime) / 1e6;
    return windowsS.some((w) => s >= w.from && s <= w.to);
  };
  for (let i = 0; i < profile.samples.length; i++) {
    const delta = profile.timeDeltas[i] ?? 0;
    t += delta;
    // The sample's weight is the time to the next sample (the usual approximation).
    const weight = profile.timeDeltas[i + 1] ?? delta;
    if (!inWindow(t)) continue;
    const node = byId.get(profile.samples[i]!);
    if (!node) continue;
    sampledUs += weight;
    const fn = node.callFrame.functionName;
    if (fn === '(idle)') {
      idleUs += weight;
      continue;
    }
    const k = keyOf(node);
    frames.set(k, node.callFrame);
    self.set(k, (self.get(k) ?? 0) + weight);
    const pkg = packageOf(node.callFrame);
    pkgSelf.set(pkg, (pkgSelf.get(pkg) ?? 0) + weight);
    // Inclusive: each function once per sample, however often it recurses.
    const seen = new Set<string>();
    for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
      const n = byId.get(id)!;
      const nk = keyOf(n);
      if (seen.has(nk)) continue;
      seen.add(nk);
      frames.set(nk, n.callFrame);
      total.set(nk, (total.get(nk) ?? 0) + weight);
    }
  }
  const busyUs = sampledUs - idleUs;
  const pct = (us: number) => Math.round((us / Math.max(1, busyUs)) * 1000) / 10;
  const ms = (us: number) => Math.round(us / 100) / 10;
  const view = (k: string): FunctionTime => {
    const f = frames.get(k)!;
    return {
      function: f.functionName || '(anonymous)',
      where: where(f),
      package: packageOf(f),
      selfMs: ms(self.get(k) ?? 0),
      selfPct: pct(self.get(k) ?? 0),
      totalPct: pct(total.get(k) ?? 0),
    };
  };
  const skipTotal = new Set(['(root)', '(program)']);
  return {
    file,
    windowsS,
    sampledMs: ms(sampledUs),
    busyMs: ms(busyUs),
    idlePct: Math.round((idleUs / Math.max(1, sampledUs)) * 1000) / 10,
    byPackage: [...pkgSelf].sort((a, b) => b[1] - a[1]).map(([p, us]) => ({ package: p, selfMs: ms(us), selfPct: pct(us) })),
    topSelf: [...self]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k]) => view(k)),
    topTotal: [...total]
      .filter(([k]) => !skipTotal.has(frames.get(k)!.functionName))
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k]) => view(k)),
  };
}

export function profileMarkdown(s: ProfileSummary, top = 20): string {
  const rows = (list: FunctionTime[], col: 'selfPct' | 'totalPct') =>
    list.slice(0, top).map((f) => `| ${f[col]}% | \`${f.function}\` | ${f.package} | ${f.where ? `\`${f.where}\`` : ''} |`);
  return [
    `Profile \`${s.file.replace(/^.*\//, '')}\`: ${Math.round(s.sampledMs / 1000)} s sampled${s.windowsS.length ? ` in ${s.windowsS.map((w) => `${w.from.toFixed(0)}–${w.to.toFixed(0)} s`).join(', ')}` : ''}, ${s.idlePct}% idle; percentages are of the busy time on the hub's main thread. V8 samples wall-clock time: a function that was in a system call (a socket write, an fsync) or was descheduled by the kernel when sampled counts as busy, so under CPU contention syscall-heavy functions such as \`writev\` weigh more than their CPU time.`,
    '',
    '**Self time by package**',
    '',
    '| self | package |',
    '| ---: | --- |',
    ...s.byPackage.slice(0, 15).map((p) => `| ${p.selfPct}% | ${p.package} |`),
    '',
    '**Top functions by self time**',
    '',
    '| self | function | package | where |',
    '| ---: | --- | --- | --- |',
    ...rows(s.topSelf, 'selfPct'),
    '',
    '**Top functions by total (inclusive) time**',
    '',
    '| total | function | package | where |',
    '| ---: | --- | --- | --- |',
    ...rows(s.topTotal, 'totalPct'),
    '',
  ].join('\n');
}
