// Open SOS (and fall, watch-removed) alerts: a banner on every screen and a repeating beep until
// an owner or guardian acknowledges. Viewers cannot acknowledge; they may silence their own device.
import { useEffect, useState } from 'preact/hooks';
import type { AlertView } from '../../../src/contract/models.js';
import { startAlarm, stopAlarm } from '../beep.js';
import { describeError } from '../errors.js';
import { canAct, childName, familyList, familyStore, loadFamilyView } from '../family.js';
import { coords, time } from '../format.js';
import { live, recordAlert, URGENT_ALERTS } from '../live.js';
import { notify } from '../notices.js';
import { paths } from '../router.js';
import { request } from '../socket.js';
import { useStore } from '../store.js';

const WHAT: Record<string, string> = { sos: 'SOS', fall: 'Fall detected', removed: 'Watch taken off' };

function OpenAlert({ alert, silenced, onSilence }: { alert: AlertView; silenced: boolean; onSilence: () => void }) {
  const fam = useStore(familyStore(alert.familyId));
  const role = useStore(familyList).families?.find((f) => f.id === alert.familyId)?.role;
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    if (!fam.view) void loadFamilyView(alert.familyId);
  }, [alert.familyId, fam.view]);
  const ack = async () => {
    setBusy(true);
    try {
      const r = await request('alert:ack', { id: alert.id });
      recordAlert(r.alert);
      notify('Alert acknowledged.');
    } catch (err) {
      notify(`Could not acknowledge: ${describeError(err)}`, 'alert');
    } finally {
      setBusy(false);
    }
  };
  return (
    <div class="sos-alert">
      <p>
        <strong>
          <span aria-hidden="true">⚠ </span>
          {WHAT[alert.type] ?? alert.type}: {childName(fam.view, alert.deviceId)}
        </strong>{' '}
        at {time(alert.ts)}
        {alert.lat !== undefined && alert.lng !== undefined && <> near {coords(alert.lat, alert.lng)}</>}
        {alert.notifyCount > 1 && <> (sent {alert.notifyCount} times)</>}
      </p>
      <div class="row">
        <a class="button secondary" href={paths.family(alert.familyId, 'map', alert.deviceId)}>
          Show on map
        </a>
        {canAct(role) ? (
          <button type="button" class="danger" onClick={ack} disabled={busy}>
            {busy ? 'Acknowledging…' : 'Acknowledge'}
          </button>
        ) : (
          <>
            <span>An owner or guardian must acknowledge it.</span>
            {!silenced && (
              <button type="button" class="secondary" onClick={onSilence}>
                Silence this device
              </button>
            )}
          </>
        )}
      </div>
    </div>
  );
}

export function SosBanner() {
  const s = useStore(live);
  const [silenced, setSilenced] = useState<ReadonlySet<string>>(new Set());
  const open = [...s.alerts.values()].filter((a) => URGENT_ALERTS.has(a.type) && a.ackedAt === null).sort((a, b) => b.ts - a.ts);
  const loud = open.some((a) => !silenced.has(a.id));
  useEffect(() => {
    if (loud) startAlarm();
    else stopAlarm();
  }, [loud]);
  useEffect(() => () => stopAlarm(), []);
  if (open.length === 0) return null;
  return (
    <div class="sos" role="alert" aria-label="Emergency alerts" data-alarm={loud ? 'on' : 'off'}>
      {open.map((a) => (
        <OpenAlert
          key={a.id}
          alert={a}
          silenced={silenced.has(a.id)}
          onSilence={() => setSilenced(new Set([...silenced, a.id]))}
        />
      ))}
    </div>
  );
}
