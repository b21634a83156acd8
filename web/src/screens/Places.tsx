// Places (geofences): drawn on the map by clicking (a circle's centre, or a polygon's corners) or,
// from the keyboard, with "add the map centre"; saved through the geofence routes. Arrivals and
// departures (`geofence` events) are listed as they come.
import { useEffect, useMemo, useState } from 'preact/hooks';
import type { GeofenceView } from '../../../src/contract/models.js';
import { api, type GeofenceInput } from '../api.js';
import { ErrorText, Field, Section, useAction, useId } from '../components/ui.js';
import { canAct, childName } from '../family.js';
import { coords, metres, time } from '../format.js';
import { live, presenceKey } from '../live.js';
import { WatchLayer } from '../map/watches.js';
import { type Draft, FenceEditor, FenceLayer } from '../map/fences.js';
import { notify } from '../notices.js';
import { useStore } from '../store.js';
import type { FamilyTabProps } from './Family.js';
import { useMap } from './useMap.js';

const blank = (): Draft => ({ name: '', kind: 'circle', radius: 150, points: [] });

function toInput(d: Draft, deviceIds: string[]): GeofenceInput {
  const base = { name: d.name.trim(), kind: d.kind, deviceIds: deviceIds.length > 0 ? deviceIds : null };
  return d.kind === 'circle' ? { ...base, center: d.center!, radius: d.radius } : { ...base, polygon: d.points };
}

function fromView(g: GeofenceView): Draft {
  return g.kind === 'circle'
    ? { name: g.name, kind: 'circle', center: g.center!, radius: g.radius!, points: [] }
    : { name: g.name, kind: 'polygon', radius: 150, points: g.polygon!.map(([a, b]) => [a, b] as [number, number]) };
}

export default function Places({ fid, view }: FamilyTabProps) {
  const [ref, hub] = useMap();
  const [fences, setFences] = useState<GeofenceView[]>([]);
  const [draft, setDraft] = useState<Draft | null>(null);
  const [editing, setEditing] = useState<string | null>(null);
  const [deviceIds, setDeviceIds] = useState<string[]>([]);
  const [busy, error, run, clearError] = useAction();
  const st = useStore(live);
  const crossings = st.crossings.filter((c) => c.familyId === fid);
  const actor = canAct(view.role);
  const ids = { kind: useId('kind'), radius: useId('radius') };

  const layer = useMemo(() => (hub ? new FenceLayer(hub.map) : undefined), [hub]);
  // The children are shown too, so a place can be drawn where they go.
  const watchLayer = useMemo(() => (hub ? new WatchLayer(hub.map) : undefined), [hub]);
  useEffect(() =>
    watchLayer?.update(
      view.devices.map((d) => ({
        id: d.id,
        name: d.childName ?? d.model,
        position: st.positions.get(d.id),
        online: st.presence.get(presenceKey('device', d.id))?.online ?? false,
      })),
    ),
  );
  const reload = () => api.geofences(fid).then((r) => setFences(r.geofences));
  useEffect(() => void reload().catch(() => undefined), [fid]);
  useEffect(() => {
    layer?.show(fences.filter((f) => f.id !== editing));
    if (hub && fences.length > 0 && !draft) {
      const g = fences[0]!;
      const at = g.center ? [g.center.lat, g.center.lng] : g.polygon?.[0];
      if (at && hub.map.getZoom() < 5 && st.positions.size === 0) hub.map.setView(at as [number, number], 15);
    }
  }, [layer, fences, editing]);

  // The editor lives while a draft is open; map clicks add points to it.
  const [editor, setEditor] = useState<FenceEditor>();
  useEffect(() => {
    if (!hub || !draft) return;
    const e = new FenceEditor(hub.map, (lat, lng) => addPoint(lat, lng));
    setEditor(e);
    return () => {
      e.destroy();
      setEditor(undefined);
    };
  }, [hub, draft === null]);
  useEffect(() => {
    if (editor && draft) editor.show(draft);
  }, [editor, draft]);

  const addPoint = (lat: number, lng: number) =>
    setDraft((d) =>
      d === null ? d : d.kind === 'circle' ? { ...d, center: { lat, lng } } : { ...d, points: [...d.points, [lat, lng]] },
    );

  const startNew = () => {
    clearError();
    setEditing(null);
    setDeviceIds([]);
    setDraft(blank());
  };
  const startEdit = (g: GeofenceView) => {
    clearError();
    setEditing(g.id);
    setDeviceIds(g.deviceIds ?? []);
    setDraft(fromView(g));
  };
  const cancel = () => {
    setDraft(null);
    setEditing(null);
  };
  const ready =
    draft && draft.name.trim() !== '' && (draft.kind === 'circle' ? draft.center !== undefined : draft.points.length >= 3);
  const save = (e: Event) => {
    e.preventDefault();
    if (!draft || !ready) return;
    void run(async () => {
      const input = toInput(draft, deviceIds);
      if (editing) await api.updateGeofence(fid, editing, input);
      else await api.createGeofence(fid, input);
      notify(`Place "${input.name}" saved.`);
      cancel();
      await reload();
    });
  };
  const remove = (g: GeofenceView) => {
    if (!confirm(`Delete the place "${g.name}"?`)) return;
    void run(async () => {
      await api.deleteGeofence(fid, g.id);
      notify(`Place "${g.name}" deleted.`);
      await reload();
    });
  };
  const fenceName = (id: string) => fences.find((f) => f.id === id)?.name ?? 'a place';

  return (
    <>
      <h1 tabIndex={-1}>Places</h1>
      <p class="muted">Places are areas such as home or school. The family is told when a child arrives or leaves.</p>
      <div class="map-layout">
        <div class="map-wrap">
          <div ref={ref} class="map" role="region" aria-label="Map of the family's places" data-ready={hub ? 'true' : 'false'} />
          {draft && <div class="crosshair" aria-hidden="true" />}
        </div>
        <div class="side">
          {draft ? (
            <form class="card" onSubmit={save} aria-label={editing ? 'Edit place' : 'New place'}>
              <h2>{editing ? 'Edit place' : 'New place'}</h2>
              <Field label="Name" value={draft.name} onValue={(name) => setDraft({ ...draft, name })} required maxLength={80} />
              <fieldset>
                <legend>Shape</legend>
                {(['circle', 'polygon'] as const).map((k) => (
                  <label key={k} class="inline">
                    <input
                      type="radio"
                      name={ids.kind}
                      value={k}
                      checked={draft.kind === k}
                      onChange={() => setDraft({ ...draft, kind: k })}
                    />{' '}
                    {k === 'circle' ? 'Circle' : 'Polygon'}
                  </label>
                ))}
              </fieldset>
              {draft.kind === 'circle' ? (
                <>
                  <p class="hint">Click the map to put the centre, or move the map and use its centre.</p>
                  <p data-draft-center>
                    {draft.center ? `Centre: ${coords(draft.center.lat, draft.center.lng)}` : 'No centre yet.'}
                  </p>
                  <label for={ids.radius}>Radius: {metres(draft.radius)}</label>
                  <input
                    id={ids.radius}
                    type="range"
                    min={10}
                    max={2000}
                    step={10}
                    value={draft.radius}
                    aria-valuetext={metres(draft.radius)}
                    onInput={(e) => setDraft({ ...draft, radius: Number((e.currentTarget as HTMLInputElement).value) })}
                  />
                </>
              ) : (
                <>
                  <p class="hint">Click the map at each corner (at least 3), or move the map and add its centre.</p>
                  <p data-draft-points={draft.points.length}>{draft.points.length} corners.</p>
                </>
              )}
              <div class="row wrap">
                <button
                  type="button"
                  class="secondary"
                  onClick={() => editor && addPoint(editor.centre().lat, editor.centre().lng)}
                >
                  {draft.kind === 'circle' ? 'Use the map centre' : 'Add the map centre'}
                </button>
                {draft.kind === 'polygon' && draft.points.length > 0 && (
                  <button
                    type="button"
                    class="secondary"
                    onClick={() => setDraft({ ...draft, points: draft.points.slice(0, -1) })}
                  >
                    Undo last corner
                  </button>
                )}
              </div>
              {view.devices.length > 1 && (
                <fieldset>
                  <legend>Watches (none ticked: every watch)</legend>
                  {view.devices.map((d) => (
                    <label key={d.id} class="inline">
                      <input
                        type="checkbox"
                        checked={deviceIds.includes(d.id)}
                        onChange={(e) =>
                          setDeviceIds(
                            (e.currentTarget as HTMLInputElement).checked
                              ? [...deviceIds, d.id]
                              : deviceIds.filter((x) => x !== d.id),
                          )
                        }
                      />{' '}
                      {d.childName ?? d.model}
                    </label>
                  ))}
                </fieldset>
              )}
              <ErrorText error={error} />
              <div class="row">
                <button type="submit" class="primary" disabled={busy || !ready}>
                  {busy ? 'Saving…' : 'Save place'}
                </button>
                <button type="button" class="secondary" onClick={cancel}>
                  Cancel
                </button>
              </div>
            </form>
          ) : (
            actor && (
              <button type="button" class="primary" onClick={startNew}>
                New place
              </button>
            )
          )}
          {!draft && <ErrorText error={error} />}
          <Section title="The family's places">
            {fences.length === 0 && <p>No places yet.</p>}
            <ul class="list" aria-label="Places">
              {fences.map((g) => (
                <li key={g.id}>
                  <strong>{g.name}</strong>{' '}
                  <span class="muted">
                    {g.kind === 'circle' ? `circle, ${metres(g.radius ?? 0)}` : `polygon, ${g.polygon?.length ?? 0} corners`}
                    {g.deviceIds ? `, for ${g.deviceIds.map((d) => childName(view, d)).join(', ')}` : ', every watch'}
                  </span>
                  {actor && (
                    <div class="row">
                      <button type="button" class="secondary" onClick={() => startEdit(g)} aria-label={`Edit ${g.name}`}>
                        Edit
                      </button>
                      <button type="button" class="danger" onClick={() => remove(g)} aria-label={`Delete ${g.name}`}>
                        Delete
                      </button>
                    </div>
                  )}
                </li>
              ))}
            </ul>
          </Section>
          <Section title="Arrivals and departures">
            {crossings.length === 0 && <p>None since you opened the app.</p>}
            <ul class="list crossings" aria-label="Arrivals and departures" aria-live="polite">
              {crossings.map((c) => (
                <li key={`${c.geofenceId}-${c.deviceId}-${c.ts}`} data-transition={c.transition}>
                  <span aria-hidden="true">{c.transition === 'enter' ? '→ ' : '← '}</span>
                  {childName(view, c.deviceId)} {c.transition === 'enter' ? 'arrived at' : 'left'} {fenceName(c.geofenceId)} at{' '}
                  {time(c.ts)}
                </li>
              ))}
            </ul>
          </Section>
        </div>
      </div>
    </>
  );
}
