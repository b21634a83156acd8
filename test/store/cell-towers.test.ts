// The OpenCellID import (plain and gzipped, bad rows counted and skipped, repeat imports update)
// and tower lookups, against SQLite and PostgreSQL.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { distanceMeters } from '../../src/geo/geometry.js';
import { locateFromTowers } from '../../src/positioning/cell-locator.js';
import { CellTowerIndex } from '../../src/positioning/cell-tower-index.js';
import { cellsField } from '../../src/positioning/observations.js';
import type { CellTowerKey } from '../../src/store/cell-towers.js';
import type { Store } from '../../src/store/store.js';
import { type ImportSummary, MAX_LINE_BYTES, importCellTowers, openInput } from '../../src/tools/cells-import.js';
import { STORE_KINDS, useFreshStore } from '../helpers/databases.js';

const HEADER = 'radio,mcc,net,area,cell,unit,lon,lat,range,samples,changeable,created,updated,averageSignal';
type Field = number | string;
const line = (
  radio: string,
  mcc: Field,
  net: Field,
  area: Field,
  cell: Field,
  lon: Field,
  lat: Field,
  range: Field,
  updated: Field,
) => `${radio},${mcc},${net},${area},${cell},0,${lon},${lat},${range},25,1,1459813000,${updated},0`;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hub-cells-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function importText(store: Store, name: string, text: string, gzip = false, batchSize?: number): Promise<ImportSummary> {
  const path = join(dir, name);
  await writeFile(path, gzip ? gzipSync(text) : text);
  return importCellTowers(await openInput(path), store.cellTowers, { batchSize, clock: () => 1_700_000_000_000 });
}

describe.each(STORE_KINDS)('cell towers (%s)', (kind) => {
  let store: Store;
  useFreshStore(kind, (s) => (store = s));

  it('imports a CSV: good rows stored, bad ones counted by reason, header and blank lines ignored', async () => {
    const text = [
      HEADER,
      line('LTE', 262, 2, 40100, 26843545, 13.404954, 52.520008, 1200, 1700000000),
      line('LTE', 262, 2, 40100, 26843546, 13.41, 52.53, 800, 1700000000),
      line('GSM', 262, 1, 1234, 5678, 13.39, 52.51, 2500, 1700000000),
      line('NR', 310, 260, 70000, 2 ** 35, -122.4, 37.77, 300, 1700000000),
      '',
      'LTE,262,2,40100,1,0,13.4,52.5,1200,57,1,1,2', // field_count
      line('WIMAX', 262, 2, 40100, 1, 13.4, 52.5, 1200, 1700000000), // radio
      line('GSM', 262, 1, 1234, 99999, 13.4, 52.5, 1200, 1700000000), // identifiers (16-bit GSM cid)
      line('LTE', 262, 2, 40100, 7, 0, 0, 1200, 1700000000), // position
      line('LTE', 262, 2, 40100, 8, 13.4, 52.5, 900000, 1700000000), // range
      line('LTE', 262, 2, 40100, 26843546, 13.42, 52.54, 700, 1700000500), // duplicate: the newer wins
    ].join('\r\n');
    const s = await importText(store, 'first.csv', text + '\r\n');
    expect(s).toMatchObject({ read: 10, imported: 4, updated: 0, skipped: 6 });
    expect(s.reasons).toMatchObject({
      field_count: 1,
      radio: 1,
      identifiers: 1,
      position: 1,
      range: 1,
      duplicate_in_file: 1,
      older_than_stored: 0,
    });
    expect(await store.cellTowers.count()).toBe(4);

    const [row] = await store.cellTowers.find([{ mcc: 262, mnc: 2, lac: 40100, cid: 26843546 }]);
    expect(row).toEqual({
      mcc: 262,
      net: 2,
      area: 40100,
      cell: 26843546,
      radio: 'lte',
      lat: 52.54,
      lng: 13.42,
      range_m: 700,
      samples: 25,
      changeable: 1,
      created_at: 1459813000_000,
      updated_at: 1700000500_000,
      average_signal: null,
      imported_at: 1_700_000_000_000,
    });
    const [nr] = await store.cellTowers.find([{ mcc: 310, mnc: 260, lac: 70000, cid: 2 ** 35 }]);
    expect(nr?.cell).toBe(2 ** 35);
  });

  it('a repeat import (gzipped, in small batches) updates stored towers, adds new ones and keeps newer stored rows', async () => {
    const text = [
      HEADER,
      line('LTE', 262, 2, 40100, 26843545, 13.404954, 52.520008, 1500, 1700100000), // newer: updates
      line('GSM', 262, 1, 1234, 5678, 13.0, 52.0, 9999, 1600000000), // older than stored: skipped
      line('LTE', 262, 3, 500, 1, 13.5, 52.6, 600, 1700100000), // new
      line('LTE', 262, 3, 500, 2, 13.5, 52.6, 600, 1700100000), // new
      line('LTE', 262, 3, 500, 1, 13.6, 52.7, 650, 1700100001), // duplicate across a batch boundary: updates
    ].join('\n');
    const s = await importText(store, 'diff.csv.gz', text, true, 2);
    expect(s).toMatchObject({ read: 5, imported: 2, updated: 2, skipped: 1 });
    expect(s.reasons.older_than_stored).toBe(1);
    const rows = await store.cellTowers.find([
      { mcc: 262, mnc: 2, lac: 40100, cid: 26843545 },
      { mcc: 262, mnc: 1, lac: 1234, cid: 5678 },
      { mcc: 262, mnc: 3, lac: 500, cid: 1 },
    ]);
    const by = new Map(rows.map((r) => [r.cell, r]));
    expect(by.get(26843545)?.range_m).toBe(1500);
    expect(by.get(5678)?.range_m).toBe(2500);
    expect(by.get(1)).toMatchObject({ lat: 52.7, range_m: 650 });
    expect(await store.cellTowers.count()).toBe(6);
  });

  it('imports a few thousand rows across batches, and the same file again as updates only', async () => {
    const lines = [HEADER];
    for (let i = 0; i < 2500; i++)
      lines.push(line('UMTS', 204, 8, 100 + (i % 7), 1_000_000 + i, (4.9 + i * 1e-4).toFixed(6), 52.37, 900, 1700000000));
    const gz = lines.join('\n');
    const first = await importText(store, 'bulk.csv.gz', gz, true);
    expect(first).toMatchObject({ read: 2500, imported: 2500, updated: 0, skipped: 0 });
    const again = await importText(store, 'bulk-again.csv', gz);
    expect(again).toMatchObject({ read: 2500, imported: 0, updated: 2500, skipped: 0 });
  });

  it('refuses a file whose lines are far too long for OpenCellID', async () => {
    const path = join(dir, 'binary.bin');
    await writeFile(path, Buffer.alloc(MAX_LINE_BYTES + 10, 0x41));
    await expect(importCellTowers(await openInput(path), store.cellTowers)).rejects.toThrow(/longer than/);
  });

  it('locates through the tower index: one query for the cold cells, none when warm', async () => {
    let queries = 0;
    const counted = {
      find: (keys: readonly CellTowerKey[]) => {
        queries++;
        return store.cellTowers.find(keys);
      },
    };
    const index = new CellTowerIndex(counted);
    const heard = cellsField.parse([
      { mcc: 262, mnc: 2, lac: 40100, cid: 26843545, rssi: -70, radio: 'lte' },
      { mcc: 262, mnc: 2, lac: 40100, cid: 26843546, rssi: -95, radio: 'lte' },
      { mcc: 262, mnc: 9, lac: 1, cid: 1, radio: 'lte' }, // not in the table
    ]);
    expect(index.lookupWarm(heard)).toBeUndefined();
    const towers = await index.lookup(heard);
    expect(queries).toBe(1);
    expect(towers).toHaveLength(2);
    const est = locateFromTowers(towers)!;
    expect(distanceMeters(est, { lat: 52.52, lng: 13.405 })).toBeLessThan(3000);
    expect(est.acc).toBeGreaterThan(500);
    for (let i = 0; i < 100; i++) expect(index.lookupWarm(heard)).toEqual(towers);
    await index.lookup(heard);
    expect(queries).toBe(1);
  });

  it('without a radio, uses a cell only when its ids name one radio’s cell', async () => {
    await importText(
      store,
      'twins.csv',
      [line('GSM', 228, 1, 10, 20, 8.5, 47.3, 1000, 1700000000), line('UMTS', 228, 1, 10, 20, 7.4, 46.9, 1000, 1700000000)].join(
        '\n',
      ),
    );
    const index = new CellTowerIndex(store.cellTowers);
    expect(await index.lookup(cellsField.parse([{ mcc: 228, mnc: 1, lac: 10, cid: 20 }]))).toEqual([]);
    const [umts] = await index.lookup(cellsField.parse([{ mcc: 228, mnc: 1, lac: 10, cid: 20, radio: 'umts' }]));
    expect(umts).toMatchObject({ lat: 46.9, radio: 'umts' });
    const [only] = await index.lookup(cellsField.parse([{ mcc: 262, mnc: 1, lac: 1234, cid: 5678 }]));
    expect(only).toMatchObject({ radio: 'gsm' });
  });
});
