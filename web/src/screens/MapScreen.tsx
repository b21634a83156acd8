// The live map: every watch of the family with its position, accuracy, H3 cell, battery, last
// seen and online state, following `location` and `presence` events; the family's places; and
// the latest fence crossings. The same facts are listed as text beside the map.
import { useEffect, useMemo, useState } from 'preact/hooks';
import type { GeofenceView } from '../../../src/contract/models.js';
import { api } from '../api.js';
import { OnlineBadge } from '../components/ui.js';
import { canAct, childName } from '../family.js';
import { ago, battery, coords, metres, time } from '../format.js';
import { live, presenceKey, recordCommand } from '../live.js';
import { FenceLayer } from '../map/fences.js';
import { WatchLayer, type WatchOnMap } from '../map/watches.js';
import { notify } from '../notices.js';
import { paths } from '../router.js';
import { request } from '../socket.js';
import { useStore } from '../store.js';
import { describeError } from '../errors.js';
import type { FamilyTabProps } from './Family.js';
import { useMap } from './useMap.js';

export default function MapScreen({ fid, view, did }: FamilyTabProps) {
  const [ref, hub] = useMap();
  const st = useStore(live);
  const [fences, setFences] = useState<GeofenceView[]>([]);
  const [, tick] = useState(0);
  const layers = useMemo(() => (hub ? { watches: new WatchLayer(hub.map), fences: new FenceLayer(hub.map) } : undefined), [hub]);

  const watches: WatchOnMap[] = view.devices.map((d) => ({
    id: d.id,
    name: d.childName ?? d.model,
    position: st.positions.get(d.id),
    online: st.presence.get(presenceKey('device', d.id))?.online ?? false,
  }));

  useEffect(() => {
    void api.geofences(fid).then(
      (r) => setFences(r.geofences),
      () => undefined,
    );
    // "seen 2 minutes ago" keeps moving.
    const t = setInterval(() => tick((n) => n + 1), 30_000);
    return () => clearInterval(t);
  }, [fid]);
  useEffect(() => layers?.watches.update(watches));
  useEffect(() => layers?.fences.show(fences), [layers, fences]);
  useEffect(() => {
    if (layers && did) layers.watches.fit(did);
  }, [layers, did]);

  const locate = async (deviceId: string) => {
    try {
      const { command } = await request('command:send', { deviceId, type: 'locate' });
      recordCommand(command);
      notify(
        command.status === 'sent'
          ? 'Asked the watch for its position.'
          : 'The watch is offline: it will be asked when it connects.',
      );
    } catch (err) {
      notify(`Could not ask for a position: ${describeError(err)}`, 'alert');
    }
  };

  const crossings = st.crossings.filter((c) => c.familyId === fid).slice(0, 5);
  const fenceName = (id: string) => fences.find((f) => f.id === id)?.name ?? 'a place';

  return (
    <>
      <h1 tabIndex={-1}>{view.name}: live map</h1>
      <div class="map-layout">
        <div ref={ref} class="map" role="region" aria-label="Map of the watches' positions" data-ready={hub ? 'true' : 'false'} />
        <div class="side">
          <h2>Watches</h2>
          {view.devices.length === 0 && (
            <p>No watch yet. {canAct(view.role) && <a href={paths.family(fid, 'add')}>Add a watch</a>}</p>
          )}
          <ul class="list watches" aria-label="Watches">
            {watches.map((w) => {
              const dev = view.devices.find((d) => d.id === w.id)!;
              const p = w.position;
              return (
                <li key={w.id} data-watch-id={w.id}>
                  <h3>{w.name}</h3>
                  <p>
                    <OnlineBadge online={w.online} /> · {p ? battery(p.battery) : 'no position yet'}
                  </p>
                  {p ? (
                    <p class="position">
                      <span data-coords>{coords(p.lat, p.lng)}</span> ±{metres(p.acc)} ({p.source}), seen {ago(p.ts)} at{' '}
                      {time(p.ts)}
                    </p>
                  ) : (
                    !dev.permissions.location && (
                      <p class="muted">
                        Location is off for this watch.{' '}
                        {view.role === 'owner' && <a href={paths.family(fid, 'watch', w.id)}>Turn it on in its permissions</a>}
                      </p>
                    )
                  )}
                  <div class="row">
                    {p && (
                      <button type="button" class="secondary" onClick={() => layers?.watches.fit(w.id)}>
                        Show {w.name} on the map
                      </button>
                    )}
                    {canAct(view.role) && (
                      <button type="button" class="secondary" onClick={() => void locate(w.id)}>
                        Locate now
                      </button>
                    )}
                    <a class="button secondary" href={paths.family(fid, 'watch', w.id)}>
                      {view.role === 'viewer' ? 'Details' : 'Settings and commands'}
                    </a>
                  </div>
                </li>
              );
            })}
          </ul>
          {canAct(view.role) && view.devices.length > 0 && (
            <p>
              <a class="button secondary" href={paths.family(fid, 'add')}>
                Add a watch
              </a>
            </p>
          )}
          {crossings.length > 0 && (
            <>
              <h2>Recent arrivals and departures</h2>
              <ul class="list crossings" aria-label="Recent arrivals and departures">
                {crossings.map((c) => (
                  <li key={`${c.geofenceId}-${c.deviceId}-${c.ts}`}>
                    {childName(view, c.deviceId)} {c.transition === 'enter' ? 'arrived at' : 'left'} {fenceName(c.geofenceId)} at{' '}
                    {time(c.ts)}
                  </li>
                ))}
              </ul>
            </>
          )}
        </div>
      </div>
    </>
  );
}
