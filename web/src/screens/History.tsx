// A watch's history as a path, with a time slider and playback (location:history, paged).
// Owners can also delete it: the period shown, or all of it (DELETE …/devices/:did/history).
import { useEffect, useMemo, useState } from 'preact/hooks';
import type { StoredFix } from '../../../src/contract/models.js';
import { api } from '../api.js';
import { ErrorText, useAction, useId } from '../components/ui.js';
import { isOwner } from '../family.js';
import { battery, coords, dateTime, metres, time } from '../format.js';
import { notify } from '../notices.js';
import { PathLayer } from '../map/path.js';
import { request } from '../socket.js';
import type { FamilyTabProps } from './Family.js';
import { useMap } from './useMap.js';

const MAX_PAGES = 10;
const toLocalInput = (ts: number) => {
  const d = new Date(ts);
  d.setMinutes(d.getMinutes() - d.getTimezoneOffset());
  return d.toISOString().slice(0, 16);
};

interface Range {
  deviceId: string;
  from: number;
  to: number;
}

export default function History({ fid, view, did }: FamilyTabProps) {
  const [ref, hub] = useMap();
  const layer = useMemo(() => (hub ? new PathLayer(hub.map) : undefined), [hub]);
  const [deviceId, setDeviceId] = useState(did ?? view.devices[0]?.id ?? '');
  const [from, setFrom] = useState(toLocalInput(Date.now() - 86_400_000));
  const [to, setTo] = useState(toLocalInput(Date.now() + 60_000));
  const [fixes, setFixes] = useState<StoredFix[] | null>(null);
  /** The watch and period the fixes shown were read for (what "Delete this period" deletes). */
  const [shown, setShown] = useState<Range | null>(null);
  const [index, setIndex] = useState(0);
  const [playing, setPlaying] = useState(false);
  const [busy, error, run] = useAction();
  const ids = { watch: useId('w'), from: useId('from'), to: useId('to'), slider: useId('s') };

  const owner = isOwner(view.role);
  const child = view.devices.find((d) => d.id === deviceId)?.childName ?? 'the watch';

  const fetchHistory = async (range: Range) => {
    const all: StoredFix[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < MAX_PAGES; page++) {
      const r = await request('location:history', { ...range, limit: 1000, ...(cursor ? { cursor } : {}) });
      all.push(...r.fixes);
      if (!r.nextCursor) break;
      cursor = r.nextCursor;
    }
    setPlaying(false);
    setFixes(all);
    setShown(range);
    setIndex(Math.max(0, all.length - 1));
  };
  const load = () => void run(() => fetchHistory({ deviceId, from: new Date(from).getTime(), to: new Date(to).getTime() }));

  /** Deletes the period shown (`period`) or, without it, all of the family's history of the watch. */
  const deleteHistory = (period: Range | null) => {
    if (!shown) return;
    const what = period
      ? `the history of ${child} from ${dateTime(period.from)} to ${dateTime(period.to)}`
      : `all of ${child}'s history`;
    if (!confirm(`Delete ${what}? This cannot be undone.`)) return;
    const target = shown;
    void run(async () => {
      const r = await api.deleteHistory(fid, target.deviceId, period ? { from: period.from, to: period.to } : {});
      await fetchHistory(target);
      notify(`Deleted ${r.deleted} location record${r.deleted === 1 ? '' : 's'} of ${child}.`);
    });
  };

  useEffect(() => {
    if (deviceId) load();
  }, [deviceId]);
  useEffect(() => layer?.show(fixes ?? []), [layer, fixes]);
  useEffect(() => layer?.at(fixes?.[index]), [layer, fixes, index]);
  useEffect(() => {
    if (!playing || !fixes) return;
    const t = setInterval(() => {
      setIndex((i) => {
        if (i >= fixes.length - 1) {
          setPlaying(false);
          return i;
        }
        return i + 1;
      });
    }, 500);
    return () => clearInterval(t);
  }, [playing, fixes]);

  const fix = fixes?.[index];
  return (
    <>
      <h1 tabIndex={-1}>History of {child}</h1>
      <form
        class="card row wrap"
        onSubmit={(e) => {
          e.preventDefault();
          load();
        }}
      >
        {view.devices.length > 1 && (
          <div class="field">
            <label for={ids.watch}>Watch</label>
            <select id={ids.watch} value={deviceId} onChange={(e) => setDeviceId((e.currentTarget as HTMLSelectElement).value)}>
              {view.devices.map((d) => (
                <option key={d.id} value={d.id}>
                  {d.childName ?? d.model}
                </option>
              ))}
            </select>
          </div>
        )}
        <div class="field">
          <label for={ids.from}>From</label>
          <input
            id={ids.from}
            type="datetime-local"
            value={from}
            onInput={(e) => setFrom((e.currentTarget as HTMLInputElement).value)}
          />
        </div>
        <div class="field">
          <label for={ids.to}>To</label>
          <input
            id={ids.to}
            type="datetime-local"
            value={to}
            onInput={(e) => setTo((e.currentTarget as HTMLInputElement).value)}
          />
        </div>
        <button type="submit" class="secondary" disabled={busy || !deviceId}>
          {busy ? 'Loading…' : 'Show'}
        </button>
      </form>
      <ErrorText error={error} />
      <div ref={ref} class="map" role="region" aria-label={`Map of ${child}'s path`} data-ready={hub ? 'true' : 'false'} />
      {fixes && fixes.length === 0 && <p role="status">No positions in this period.</p>}
      {fixes && fixes.length > 0 && (
        <div class="card playback">
          <label for={ids.slider}>
            Time: <strong>{fix ? dateTime(fix.ts) : ''}</strong>
          </label>
          <input
            id={ids.slider}
            type="range"
            min={0}
            max={fixes.length - 1}
            value={index}
            aria-valuetext={fix ? `${time(fix.ts)}, position ${index + 1} of ${fixes.length}` : undefined}
            onInput={(e) => {
              setPlaying(false);
              setIndex(Number((e.currentTarget as HTMLInputElement).value));
            }}
          />
          <div class="row">
            <button type="button" class="secondary" onClick={() => setIndex(Math.max(0, index - 1))} disabled={index === 0}>
              Previous
            </button>
            <button
              type="button"
              class="primary"
              aria-pressed={playing}
              onClick={() => {
                if (!playing && index >= fixes.length - 1) setIndex(0);
                setPlaying(!playing);
              }}
            >
              {playing ? 'Pause' : 'Play'}
            </button>
            <button
              type="button"
              class="secondary"
              onClick={() => setIndex(Math.min(fixes.length - 1, index + 1))}
              disabled={index >= fixes.length - 1}
            >
              Next
            </button>
          </div>
          {fix && (
            <p aria-live="polite" class="position" data-history-index={index}>
              {index + 1} of {fixes.length}: {coords(fix.lat, fix.lng)} ±{metres(fix.acc)}, {battery(fix.battery)}
              {fix.speed !== undefined && <>, {Math.round(fix.speed * 3.6)} km/h</>}
            </p>
          )}
        </div>
      )}
      {owner && shown && shown.deviceId === deviceId && (
        <div class="card row wrap" role="group" aria-label={`Delete ${child}'s history`}>
          <button type="button" class="danger" onClick={() => deleteHistory(shown)} disabled={busy}>
            Delete this period
          </button>
          <button type="button" class="danger" onClick={() => deleteHistory(null)} disabled={busy}>
            Delete all history
          </button>
        </div>
      )}
    </>
  );
}
