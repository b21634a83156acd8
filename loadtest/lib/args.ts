// A tiny command-line parser: `--name value`, `--name=value` and bare `--flag` (true).
export type Args = Map<string, string>;

export function parseArgs(argv: readonly string[], known: readonly string[]): Args {
  const out: Args = new Map();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) throw new Error(`unexpected argument "${a}"`);
    const eq = a.indexOf('=');
    const name = eq >= 0 ? a.slice(2, eq) : a.slice(2);
    if (!known.includes(name)) throw new Error(`unknown option --${name} (known: ${known.map((k) => `--${k}`).join(' ')})`);
    if (eq >= 0) out.set(name, a.slice(eq + 1));
    else if (i + 1 < argv.length && !argv[i + 1]!.startsWith('--')) out.set(name, argv[++i]!);
    else out.set(name, 'true');
  }
  return out;
}

export function num(args: Args, name: string, dflt: number, min = -Infinity, max = Infinity): number {
  const raw = args.get(name);
  if (raw === undefined) return dflt;
  const v = Number(raw);
  if (!Number.isFinite(v) || v < min || v > max) throw new Error(`--${name} must be a number in [${min}, ${max}], got "${raw}"`);
  return v;
}

export function choice<T extends string>(args: Args, name: string, options: readonly T[], dflt: T): T {
  const raw = args.get(name) ?? dflt;
  if (!(options as readonly string[]).includes(raw))
    throw new Error(`--${name} must be one of ${options.join(', ')}, got "${raw}"`);
  return raw as T;
}

export const flag = (args: Args, name: string): boolean => args.get(name) === 'true';
