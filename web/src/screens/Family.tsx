// One family: its navigation and the tab shown. Loads the family (members, watches) and its live
// state (positions, presence, alerts) once, for every tab.
import { useEffect } from 'preact/hooks';
import { ErrorText, Loading } from '../components/ui.js';
import { familyStore, loadFamilyView } from '../family.js';
import { lazyScreen } from '../lazy.js';
import { familyLoaded, live, loadFamily } from '../live.js';
import { notify } from '../notices.js';
import { type FamilyTab, paths } from '../router.js';
import { useStore } from '../store.js';
import { describeError } from '../errors.js';
import { AddWatch } from './AddWatch.js';
import { Alerts } from './Alerts.js';
import { Chat } from './Chat.js';
import { People } from './People.js';
import { Watch } from './Watch.js';

// The map screens carry Leaflet (and h3-js): loaded when first opened.
const MapScreen = lazyScreen(() => import('./MapScreen.js'));
const History = lazyScreen(() => import('./History.js'));
const Places = lazyScreen(() => import('./Places.js'));

// Six sections fit a phone's bottom bar; adding a watch is a button on the map and family screens.
const TABS: { tab: FamilyTab; label: string }[] = [
  { tab: 'map', label: 'Map' },
  { tab: 'history', label: 'History' },
  { tab: 'places', label: 'Places' },
  { tab: 'chat', label: 'Chat' },
  { tab: 'alerts', label: 'Alerts' },
  { tab: 'people', label: 'Family' },
];

export function FamilyScreen({ fid, tab, did }: { fid: string; tab: FamilyTab; did?: string | undefined }) {
  const st = useStore(familyStore(fid));
  const openAlerts = [...useStore(live).alerts.values()].filter((a) => a.familyId === fid && a.ackedAt === null).length;
  useEffect(() => {
    void loadFamilyView(fid);
    if (!familyLoaded(fid))
      void loadFamily(fid).catch((err) => notify(`Live data could not be loaded: ${describeError(err)}`, 'alert'));
  }, [fid]);
  const view = st.view;
  if (!view) {
    return (
      <main id="main" class="page">
        <h1 tabIndex={-1}>Family</h1>
        {st.error ? <ErrorText error={st.error} /> : <Loading />}
      </main>
    );
  }
  const props = { fid, view, did };
  return (
    <div class="family">
      <nav class="tabs" aria-label={`${view.name}: sections`}>
        <ul>
          {TABS.map((t) => (
            <li key={t.tab}>
              <a href={paths.family(fid, t.tab)} aria-current={tab === t.tab ? 'page' : undefined}>
                {t.label}
                {t.tab === 'alerts' && openAlerts > 0 && (
                  <span class="count">
                    {' '}
                    ({openAlerts}
                    <span class="visually-hidden"> open</span>)
                  </span>
                )}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      <main id="main" class="page">
        {tab === 'map' && <MapScreen {...props} />}
        {tab === 'history' && <History {...props} />}
        {tab === 'places' && <Places {...props} />}
        {tab === 'chat' && <Chat {...props} />}
        {tab === 'alerts' && <Alerts {...props} />}
        {tab === 'people' && <People {...props} />}
        {tab === 'add' && <AddWatch {...props} />}
        {tab === 'watch' && did && <Watch {...props} did={did} />}
      </main>
    </div>
  );
}

export interface FamilyTabProps {
  fid: string;
  view: import('../../../src/contract/models.js').FamilyView;
  did?: string | undefined;
}
