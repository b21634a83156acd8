// node dist/loadtest/profile-summary.js <file.cpuprofile> [--from S --to S] [--top N] [--json]
// Prints the self-time and total-time leaders of a V8 CPU profile (node --cpu-prof).
import { choice, num, parseArgs } from './lib/args.js';
import { profileMarkdown, summarizeProfile } from './lib/cpuprofile.js';

const [file, ...rest] = process.argv.slice(2);
if (!file || file.startsWith('--')) {
  process.stderr.write(
    'usage: node dist/loadtest/profile-summary.js <file.cpuprofile> [--from S --to S] [--top N] [--format md|json]\n',
  );
  process.exit(2);
}
const args = parseArgs(rest, ['from', 'to', 'top', 'format']);
const from = num(args, 'from', NaN);
const to = num(args, 'to', NaN);
const top = num(args, 'top', 25, 1, 500);
const windows =
  Number.isFinite(from) || Number.isFinite(to)
    ? [{ from: Number.isFinite(from) ? from : 0, to: Number.isFinite(to) ? to : Infinity }]
    : [];
const summary = summarizeProfile(file, windows, top);
process.stdout.write(
  choice(args, 'format', ['md', 'json'], 'md') === 'json'
    ? `${JSON.stringify(summary, null, 2)}\n`
    : profileMarkdown(summary, top),
);
