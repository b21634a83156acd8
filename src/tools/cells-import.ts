// `npm run cells:import -- <file.csv[.gz]>`: loads an OpenCellID cell export into the store named
// by DATABASE_URL / HUB_DATA_DIR (as the hub reads them). Streams the file (gzip recognised by
// its magic bytes, whatever the name) line by line in bounded memory, upserts in batches, prints
// progress on stderr and a summary on stdout. Importing again (a newer dump, the hourly diffs)
// updates the stored towers; a row older than the stored one is skipped.
import { open } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { type Readable, Transform, type TransformCallback } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { createGunzip } from 'node:zlib';
import { loadConfig } from '../config.js';
import { SKIP_REASONS, type SkipReason, type TowerRecord, isHeader, parseTowerLine } from '../positioning/opencellid.js';
import { type CellTowerRow, MAX_UPSERT_BATCH, type UpsertCounts } from '../store/cell-towers.js';
import { openStore } from '../store/store.js';

export interface ImportSummary {
  /** Data lines read (the header and blank lines are not counted). */
  read: number;
  imported: number;
  updated: number;
  skipped: number;
  reasons: Record<SkipReason, number>;
  ms: number;
}

export interface ImportOptions {
  batchSize?: number;
  clock?: () => number;
  /** Called every `progressEvery` lines and at the end. */
  onProgress?: (s: ImportSummary) => void;
  progressEvery?: number;
}

/** A line longer than this is not OpenCellID (the longest real ones are about 100 bytes). */
export const MAX_LINE_BYTES = 64 * 1024;

/** The file as a byte stream, gunzipped when it starts with the gzip magic bytes. */
export async function openInput(path: string): Promise<Readable> {
  const fh = await open(path, 'r');
  let magic: Buffer;
  try {
    const { buffer, bytesRead } = await fh.read(Buffer.alloc(2), 0, 2, 0);
    magic = buffer.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
  const file = createReadStream(path);
  if (magic[0] !== 0x1f || magic[1] !== 0x8b) return file;
  const gunzip = createGunzip();
  file.on('error', (err) => gunzip.destroy(err));
  return file.pipe(gunzip);
}

/** Fails the stream on a line longer than `max`, which readline would otherwise buffer whole. */
function lineLengthGuard(max: number): Transform {
  let sinceNewline = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, done: TransformCallback) {
      const tooLong = () => done(new Error(`a line is longer than ${max} bytes: this is not an OpenCellID CSV`));
      let start = 0;
      for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, start)) {
        if (sinceNewline + (i - start) > max) return tooLong();
        sinceNewline = 0;
        start = i + 1;
      }
      sinceNewline += chunk.length - start;
      if (sinceNewline > max) return tooLong();
      done(null, chunk);
    },
  });
}

export async function importCellTowers(
  input: Readable,
  repo: { upsert(rows: readonly CellTowerRow[]): Promise<UpsertCounts> },
  opts: ImportOptions = {},
): Promise<ImportSummary> {
  const batchSize = Math.min(opts.batchSize ?? MAX_UPSERT_BATCH, MAX_UPSERT_BATCH);
  const clock = opts.clock ?? Date.now;
  const progressEvery = opts.progressEvery ?? 250_000;
  const started = clock();
  const s: ImportSummary = {
    read: 0,
    imported: 0,
    updated: 0,
    skipped: 0,
    reasons: Object.fromEntries(SKIP_REASONS.map((r) => [r, 0])) as Record<SkipReason, number>,
    ms: 0,
  };
  const skip = (reason: SkipReason, n = 1) => {
    s.skipped += n;
    s.reasons[reason] += n;
  };
  // One batch, deduplicated: PostgreSQL refuses to upsert one row twice in a statement.
  let batch = new Map<string, CellTowerRow>();
  const flush = async () => {
    if (batch.size === 0) return;
    const rows = [...batch.values()];
    batch = new Map();
    const r = await repo.upsert(rows);
    s.imported += r.inserted;
    s.updated += r.updated;
    skip('older_than_stored', r.older);
  };

  const guarded = input.pipe(lineLengthGuard(MAX_LINE_BYTES));
  input.on('error', (err) => guarded.destroy(err));
  const lines = createInterface({ input: guarded, crlfDelay: Infinity });
  let first = true;
  // The async iterator pauses the stream while a batch is written: memory stays bounded.
  for await (const line of lines) {
    if (first) {
      first = false;
      if (isHeader(line)) continue;
    }
    if (line.trim() === '') continue;
    s.read++;
    const parsed = parseTowerLine(line);
    if (!parsed.ok) skip(parsed.reason);
    else {
      const row = toRow(parsed.tower, started);
      const key = `${row.mcc}:${row.net}:${row.area}:${row.cell}:${row.radio}`;
      const seen = batch.get(key);
      if (seen) skip('duplicate_in_file');
      if (!seen || seen.updated_at <= row.updated_at) batch.set(key, row);
      if (batch.size >= batchSize) await flush();
    }
    if (s.read % progressEvery === 0) opts.onProgress?.({ ...s, ms: clock() - started });
  }
  await flush();
  s.ms = clock() - started;
  opts.onProgress?.({ ...s });
  return s;
}

function toRow(t: TowerRecord, importedAt: number): CellTowerRow {
  return {
    mcc: t.mcc,
    net: t.net,
    area: t.area,
    cell: t.cell,
    radio: t.radio,
    lat: t.lat,
    lng: t.lng,
    range_m: t.rangeM,
    samples: t.samples,
    changeable: t.changeable,
    created_at: t.createdAt,
    updated_at: t.updatedAt,
    average_signal: t.averageSignal,
    imported_at: importedAt,
  };
}

export function formatSummary(s: ImportSummary): string {
  const reasons = SKIP_REASONS.filter((r) => s.reasons[r] > 0).map((r) => `  ${r}: ${s.reasons[r]}`);
  return [
    `rows read: ${s.read}`,
    `imported (new): ${s.imported}`,
    `updated: ${s.updated}`,
    `skipped: ${s.skipped}`,
    ...reasons,
    `took ${(s.ms / 1000).toFixed(1)} s`,
  ].join('\n');
}

async function main(argv: string[]): Promise<number> {
  const path = argv[0];
  if (!path || argv.length > 1) {
    process.stderr.write('usage: npm run cells:import -- <cell_towers.csv[.gz]>\n');
    return 2;
  }
  const config = loadConfig();
  const input = await openInput(path);
  const store = await openStore(config.databaseUrl);
  try {
    const summary = await importCellTowers(input, store.cellTowers, {
      onProgress: (p) =>
        process.stderr.write(
          `cells:import: ${p.read} rows read, ${p.imported} imported, ${p.updated} updated, ${p.skipped} skipped ` +
            `(${Math.round(p.read / Math.max(1, p.ms / 1000))} rows/s)\n`,
        ),
    });
    process.stdout.write(formatSummary(summary) + '\n');
    return 0;
  } finally {
    await store.close();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (err: Error) => {
      // A missing file or a bad setting is the user's to fix: the message says it, a stack does not.
      process.stderr.write(`cells:import: ${err.message}\n`);
      process.exitCode = 1;
    },
  );
}
