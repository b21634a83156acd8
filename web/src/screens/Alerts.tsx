// The family's alerts, newest first: SOS, falls, a watch taken off, low battery, offline; open
// ones can be acknowledged by owners and guardians (the banner does it too).
import type { AlertView } from '../../../src/contract/models.js';
import { useAction, ErrorText } from '../components/ui.js';
import { canAct, childName, nameOf } from '../family.js';
import { battery, coords, dateTime } from '../format.js';
import { live, recordAlert } from '../live.js';
import { request } from '../socket.js';
import { useStore } from '../store.js';
import type { FamilyTabProps } from './Family.js';

const TYPE_TEXT: Record<AlertView['type'], string> = {
  sos: 'SOS',
  fall: 'Fall detected',
  removed: 'Watch taken off',
  low_battery: 'Low battery',
  offline: 'Watch went silent',
};

export function Alerts({ fid, view }: FamilyTabProps) {
  const alerts = [...useStore(live).alerts.values()].filter((a) => a.familyId === fid).sort((a, b) => b.ts - a.ts);
  const [busy, error, run] = useAction();
  const ack = (id: string) =>
    void run(async () => {
      recordAlert((await request('alert:ack', { id })).alert);
    });
  return (
    <>
      <h1 tabIndex={-1}>Alerts</h1>
      <ErrorText error={error} />
      {alerts.length === 0 && <p>No alerts.</p>}
      <ul class="list alerts" aria-label="Alerts">
        {alerts.map((a) => (
          <li key={a.id} class={a.ackedAt === null ? 'open' : 'done'} data-alert-id={a.id}>
            <p>
              <strong>
                {TYPE_TEXT[a.type]}: {childName(view, a.deviceId)}
              </strong>{' '}
              <span class="muted">{dateTime(a.ts)}</span>
            </p>
            <p>
              {a.lat !== undefined && a.lng !== undefined ? `Near ${coords(a.lat, a.lng)}. ` : ''}
              {a.type === 'low_battery' ? `${battery(a.battery)}. ` : ''}
              {a.ackedAt === null
                ? 'Not acknowledged yet.'
                : `Acknowledged by ${nameOf(view, { kind: 'user', id: a.ackedBy ?? '' })} at ${dateTime(a.ackedAt)}.`}
            </p>
            {a.ackedAt === null && canAct(view.role) && (
              <button type="button" class="danger" onClick={() => ack(a.id)} disabled={busy}>
                Acknowledge
              </button>
            )}
          </li>
        ))}
      </ul>
    </>
  );
}
