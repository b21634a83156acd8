// A watch's health readings, for owners and guardians: loaded only when asked for (each read is
// written to the family's audit log), newest first, a page at a time.
import { useState } from 'preact/hooks';
import type { HealthReadingView } from '../../../src/contract/models.js';
import { api } from '../api.js';
import { ErrorText, useAction } from '../components/ui.js';
import { dateTime } from '../format.js';

/** The values of one reading in plain words, those the watch sent only. */
function describe(r: HealthReadingView): string {
  const parts: string[] = [];
  if (r.heartRate !== undefined) parts.push(`heart rate ${r.heartRate} bpm`);
  if (r.systolic !== undefined && r.diastolic !== undefined) parts.push(`blood pressure ${r.systolic}/${r.diastolic} mmHg`);
  if (r.bodyTempC !== undefined) parts.push(`temperature ${r.bodyTempC} °C`);
  if (r.spo2 !== undefined) parts.push(`oxygen ${r.spo2}%`);
  return parts.join(', ');
}

export function HealthReadings({ fid, did, name }: { fid: string; did: string; name: string }) {
  const [readings, setReadings] = useState<HealthReadingView[] | null>(null);
  const [next, setNext] = useState<string | null>(null);
  const [busy, error, run] = useAction();
  const load = (cursor?: string) =>
    void run(async () => {
      const page = await api.health(fid, did, cursor);
      setReadings((shown) => [...(cursor ? (shown ?? []) : []), ...page.readings]);
      setNext(page.nextCursor);
    });
  return (
    <>
      <p class="muted">The last 7 days, newest first. Each time you look, it is noted in the family's audit log.</p>
      <button type="button" class="secondary" onClick={() => load()} disabled={busy}>
        {readings ? 'Refresh' : `Show ${name}'s readings`}
      </button>
      <ErrorText error={error} />
      {readings?.length === 0 && <p>No readings in the last 7 days.</p>}
      {readings && readings.length > 0 && (
        <ul class="list" aria-label="Health readings">
          {readings.map((r, i) => (
            <li key={`${r.ts}-${i}`} data-health-reading>
              <span class="muted">{dateTime(r.ts)}</span>: {describe(r)}
            </li>
          ))}
        </ul>
      )}
      {next && (
        <button type="button" class="secondary" onClick={() => load(next)} disabled={busy}>
          Older readings
        </button>
      )}
    </>
  );
}
