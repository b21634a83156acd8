// One watch: its state, a call, its health readings, its permissions (consent: each off until an
// owner turns it on, explained in plain words), commands and their status, the child's data
// export, and unbinding.
import { useEffect, useState } from 'preact/hooks';
import {
  WATCH_PERMISSION_NAMES,
  type CommandType,
  type CommandView,
  type Permissions,
  type WatchPermission,
} from '../../../src/contract/models.js';
import { api } from '../api.js';
import { startCall } from '../call.js';
import { conversation, syncConversation } from '../chat.js';
import { ErrorText, Field, OnlineBadge, Section, useAction, useId } from '../components/ui.js';
import { canAct, isOwner, loadFamilyView } from '../family.js';
import { ago, battery, coords, dateTime, duration } from '../format.js';
import { live, presenceKey, recordCommand } from '../live.js';
import { saveFile } from '../media.js';
import { notify } from '../notices.js';
import { go, paths } from '../router.js';
import { request } from '../socket.js';
import { useStore } from '../store.js';
import type { FamilyTabProps } from './Family.js';
import { HealthReadings } from './HealthReadings.js';

const PERMISSION_TEXT: Record<WatchPermission, { label: string; explain: string }> = {
  location: {
    label: 'Location',
    explain:
      'The watch may send where it is. The family sees it on the map and in the history; the hub keeps it for a limited time. Off: its positions are refused and not stored.',
  },
  camera: {
    label: 'Camera',
    explain:
      'The family may ask the watch to take a photo, and the watch may send photos to the chat and join video calls with its camera. Every remote photo is recorded in the audit log.',
  },
  microphone: {
    label: 'Microphone',
    explain: 'The watch may send voice notes to the chat and take part in calls (its microphone is live during a call).',
  },
  contacts: {
    label: 'Contacts',
    explain: 'The family may send the watch a contact list (names and phone numbers), stored encrypted on the hub.',
  },
  health: {
    label: 'Health',
    explain:
      'The watch may send health readings (heart rate, blood pressure, temperature, oxygen). They are kept for a limited time and are in the child’s data export. Off: readings are dropped, not stored.',
  },
};

const COMMAND_TEXT: Record<CommandType, string> = {
  locate: 'Locate now',
  find: 'Make it ring',
  photo: 'Take a photo',
  power_off: 'Switch off',
  set_interval: 'Report interval',
  set_contacts: 'Contacts',
  set_sos_numbers: 'SOS numbers',
  set_quiet_hours: 'Quiet hours',
  voice_reminder: 'Voice reminder',
};

const STATUS_TEXT: Record<CommandView['status'], string> = {
  queued: 'waiting for the watch to connect',
  sent: 'sent to the watch',
  done: 'done',
  failed: 'failed',
  rejected: 'refused by the watch',
  expired: 'expired',
};

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

function PermissionsForm({ fid, did, current, editable }: { fid: string; did: string; current: Permissions; editable: boolean }) {
  const [perms, setPerms] = useState<Permissions>(current);
  const [busy, error, run] = useAction();
  useEffect(() => setPerms(current), [JSON.stringify(current)]);
  const save = (e: Event) => {
    e.preventDefault();
    void run(async () => {
      await api.setPermissions(fid, did, perms);
      await loadFamilyView(fid);
      notify('Permissions saved.');
    });
  };
  return (
    <form onSubmit={save}>
      <fieldset disabled={!editable}>
        <legend>What this watch may do</legend>
        {WATCH_PERMISSION_NAMES.map((p) => (
          <div class="check" key={p}>
            <input
              id={`perm-${p}`}
              type="checkbox"
              checked={perms[p]}
              onChange={(e) => setPerms({ ...perms, [p]: (e.currentTarget as HTMLInputElement).checked })}
              aria-describedby={`perm-${p}-explain`}
            />
            <label for={`perm-${p}`}>
              {PERMISSION_TEXT[p].label} <span class="state">({perms[p] ? 'on' : 'off'})</span>
            </label>
            <p id={`perm-${p}-explain`} class="hint">
              {PERMISSION_TEXT[p].explain}
            </p>
          </div>
        ))}
      </fieldset>
      <ErrorText error={error} />
      {editable ? (
        <button type="submit" class="primary" disabled={busy}>
          {busy ? 'Saving…' : 'Save permissions'}
        </button>
      ) : (
        <p class="muted">Only an owner of the family can change these.</p>
      )}
    </form>
  );
}

function Commands({ fid, did, cameraOn, contactsOn }: { fid: string; did: string; cameraOn: boolean; contactsOn: boolean }) {
  const [busy, error, run] = useAction();
  const [sos, setSos] = useState('');
  const [contacts, setContacts] = useState('');
  const [quiet, setQuiet] = useState({ start: '08:00', end: '15:30', days: [1, 2, 3, 4, 5] });
  const [interval, setIntervalS] = useState('60');
  const [reminder, setReminder] = useState('');
  const conv = useStore(conversation(fid));
  const ids = { contacts: useId('contacts'), start: useId('qs'), end: useId('qe'), reminder: useId('rem') };
  useEffect(() => void syncConversation(fid).catch(() => undefined), [fid]);
  const voiceNotes = conv.messages
    .filter((m) => m.kind === 'voice' && m.media)
    .slice(-10)
    .reverse();

  const send = (type: CommandType, params?: Record<string, unknown>) =>
    void run(async () => {
      const { command } = await request('command:send', { deviceId: did, type, ...(params ? { params } : {}) });
      recordCommand(command);
      notify(`${COMMAND_TEXT[type]}: ${STATUS_TEXT[command.status]}.`);
    });
  const lines = (s: string) =>
    s
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean);

  return (
    <>
      <div class="row wrap">
        <button type="button" class="secondary" onClick={() => send('locate')} disabled={busy}>
          Locate now
        </button>
        <button type="button" class="secondary" onClick={() => send('find')} disabled={busy}>
          Make it ring
        </button>
        <button
          type="button"
          class="secondary"
          onClick={() => send('photo')}
          disabled={busy || !cameraOn}
          aria-describedby={cameraOn ? undefined : 'photo-off'}
        >
          Take a photo
        </button>
      </div>
      {!cameraOn && (
        <p id="photo-off" class="hint">
          A photo needs the camera permission.
        </p>
      )}
      <ErrorText error={error} />
      <form
        onSubmit={(e) => {
          e.preventDefault();
          send('set_sos_numbers', { numbers: lines(sos.replace(/,/g, '\n')) });
        }}
      >
        <Field
          label="SOS numbers (up to 5, comma separated)"
          value={sos}
          onValue={setSos}
          inputMode="tel"
          placeholder="+33 6 12 34 56 78, +33 6 98 76 54 32"
          required
        />
        <button type="submit" class="secondary" disabled={busy}>
          Send SOS numbers
        </button>
      </form>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          const list = lines(contacts).map((l) => {
            const i = l.lastIndexOf(',');
            return { name: l.slice(0, i).trim(), phone: l.slice(i + 1).trim() };
          });
          send('set_contacts', { contacts: list });
        }}
      >
        <div class="field">
          <label for={ids.contacts}>Contacts (one per line: name, phone)</label>
          <textarea
            id={ids.contacts}
            rows={3}
            value={contacts}
            onInput={(e) => setContacts((e.currentTarget as HTMLTextAreaElement).value)}
            placeholder={'Grandma, +33 6 11 22 33 44'}
          />
        </div>
        <button type="submit" class="secondary" disabled={busy || !contactsOn}>
          Send contacts
        </button>
        {!contactsOn && <p class="hint">Contacts need the contacts permission.</p>}
      </form>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          send('set_quiet_hours', { ranges: [{ days: quiet.days, start: quiet.start, end: quiet.end }] });
        }}
      >
        <fieldset>
          <legend>Quiet hours (school time: the watch stays silent)</legend>
          <div class="row wrap">
            <div class="field">
              <label for={ids.start}>From</label>
              <input
                id={ids.start}
                type="time"
                value={quiet.start}
                onInput={(e) => setQuiet({ ...quiet, start: (e.currentTarget as HTMLInputElement).value })}
              />
            </div>
            <div class="field">
              <label for={ids.end}>To</label>
              <input
                id={ids.end}
                type="time"
                value={quiet.end}
                onInput={(e) => setQuiet({ ...quiet, end: (e.currentTarget as HTMLInputElement).value })}
              />
            </div>
          </div>
          <div class="row wrap">
            {DAYS.map((d, i) => (
              <label key={d} class="inline">
                <input
                  type="checkbox"
                  checked={quiet.days.includes(i)}
                  onChange={(e) =>
                    setQuiet({
                      ...quiet,
                      days: (e.currentTarget as HTMLInputElement).checked
                        ? [...quiet.days, i].sort()
                        : quiet.days.filter((x) => x !== i),
                    })
                  }
                />{' '}
                {d}
              </label>
            ))}
          </div>
        </fieldset>
        <button type="submit" class="secondary" disabled={busy || quiet.days.length === 0}>
          Send quiet hours
        </button>
      </form>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          send('set_interval', { seconds: Number(interval) });
        }}
      >
        <Field
          label="Report interval in seconds (10 to 86400)"
          type="number"
          min={10}
          max={86400}
          value={interval}
          onValue={setIntervalS}
          required
        />
        <button type="submit" class="secondary" disabled={busy}>
          Send report interval
        </button>
      </form>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (reminder) send('voice_reminder', { mediaId: reminder });
        }}
      >
        <div class="field">
          <label for={ids.reminder}>Voice reminder: a voice note from the family chat</label>
          <select id={ids.reminder} value={reminder} onChange={(e) => setReminder((e.currentTarget as HTMLSelectElement).value)}>
            <option value="">Choose a voice note…</option>
            {voiceNotes.map((m) => (
              <option key={m.id} value={m.media!.id}>
                {dateTime(m.ts)} ({duration(m.media!.durationMs ?? 0)})
              </option>
            ))}
          </select>
        </div>
        <button type="submit" class="secondary" disabled={busy || !reminder}>
          Send the reminder
        </button>
      </form>
    </>
  );
}

export function Watch({ fid, view, did }: FamilyTabProps & { did: string }) {
  const dev = view.devices.find((d) => d.id === did);
  const st = useStore(live);
  const [busy, error, run] = useAction();
  if (!dev) {
    return (
      <>
        <h1 tabIndex={-1}>Watch not found</h1>
        <p>
          This watch is not in {view.name}. <a href={paths.family(fid)}>Back to the map</a>
        </p>
      </>
    );
  }
  const name = dev.childName ?? dev.model;
  const pos = st.positions.get(did);
  const online = st.presence.get(presenceKey('device', did))?.online ?? false;
  const commands = [...st.commands.values()].filter((c) => c.deviceId === did).sort((a, b) => b.createdAt - a.createdAt);
  const actor = canAct(view.role);
  const owner = isOwner(view.role);

  const call = (video: boolean) => void run(() => startCall(fid, { kind: 'device', id: did }, video));
  const exportData = () =>
    void run(async () => {
      const blob = await api.download(api.childExportPath(fid, did));
      saveFile(blob, `${name.replace(/[^\p{L}\p{N}_-]+/gu, '_')}-data.json`);
      notify(`${name}'s data was downloaded.`);
    });
  const unbind = () => {
    if (!confirm(`Remove ${name}'s watch from ${view.name}? Its history stays until it is deleted by the retention limits.`))
      return;
    void run(async () => {
      await api.unbindWatch(fid, did);
      await loadFamilyView(fid);
      go(paths.family(fid));
    });
  };

  return (
    <>
      <h1 tabIndex={-1}>{name}'s watch</h1>
      <p>
        <OnlineBadge online={online} /> · {dev.model} ·{' '}
        {pos ? (
          <>
            {battery(pos.battery)} · {coords(pos.lat, pos.lng)} · seen {ago(pos.ts)}
          </>
        ) : (
          'no position yet'
        )}
      </p>
      <p class="row">
        <a class="button secondary" href={paths.family(fid, 'map', did)}>
          Show on the map
        </a>
        <a class="button secondary" href={paths.family(fid, 'history', did)}>
          History
        </a>
      </p>
      <ErrorText error={error} />
      {actor && (
        <Section title="Call">
          {dev.permissions.microphone ? (
            <div class="row">
              <button type="button" class="primary" onClick={() => call(false)} disabled={busy}>
                Voice call
              </button>
              <button type="button" class="secondary" onClick={() => call(true)} disabled={busy || !dev.permissions.camera}>
                Video call
              </button>
            </div>
          ) : (
            <p class="muted">Calls need the microphone permission{owner ? ' (below)' : ''}.</p>
          )}
        </Section>
      )}
      {actor && (
        <Section title="Health readings">
          {dev.permissions.health ? null : (
            <p class="muted">The watch sends none while the health permission is off{owner ? ' (below)' : ''}.</p>
          )}
          <HealthReadings fid={fid} did={did} name={name} />
        </Section>
      )}
      <Section title="Permissions">
        <PermissionsForm fid={fid} did={did} current={dev.permissions} editable={owner} />
      </Section>
      {actor && (
        <Section title="Commands">
          <Commands fid={fid} did={did} cameraOn={dev.permissions.camera} contactsOn={dev.permissions.contacts} />
        </Section>
      )}
      <Section title="Sent commands">
        {commands.length === 0 && <p>None since you opened the app.</p>}
        <ul class="list commands" aria-label="Sent commands" aria-live="polite">
          {commands.map((c) => (
            <li key={c.id} data-command-type={c.type} data-status={c.status}>
              <strong>{COMMAND_TEXT[c.type]}</strong>: {STATUS_TEXT[c.status]}{' '}
              <span class="muted">({dateTime(c.updatedAt)})</span>
              {c.result && (
                <span class="muted">
                  {' '}
                  ·{' '}
                  {Object.entries(c.result)
                    .map(([k, v]) => `${k}: ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
                    .join(', ')}
                </span>
              )}
            </li>
          ))}
        </ul>
      </Section>
      {owner && (
        <Section title="Data and removal">
          <p>Everything the hub holds about {name}'s watch: positions, messages, alerts, commands, consents.</p>
          <div class="row wrap">
            <button type="button" class="secondary" onClick={exportData} disabled={busy}>
              Download {name}'s data
            </button>
            <button type="button" class="danger" onClick={unbind} disabled={busy}>
              Remove this watch from the family
            </button>
          </div>
        </Section>
      )}
    </>
  );
}
