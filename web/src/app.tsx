// The app shell: which screen the session and the route call for, the header, the family
// navigation, and what must show on every screen (SOS banner, call panel, notices).
import { useEffect } from 'preact/hooks';
import { session, signOut } from './auth.js';
import { wireCalls } from './call.js';
import { CallPanel } from './components/CallPanel.js';
import { Notices } from './components/Notices.js';
import { SosBanner } from './components/SosBanner.js';
import { familyList, loadFamilies, wireFamilies } from './family.js';
import { wireLive } from './live.js';
import { forgetMedia } from './media.js';
import { go, paths, route, type Route } from './router.js';
import { Account } from './screens/Account.js';
import { SignIn } from './screens/SignIn.js';
import { Families } from './screens/Families.js';
import { FamilyScreen } from './screens/Family.js';
import { Invite } from './screens/Invite.js';
import { connection, currentSocket } from './socket.js';
import { useStore } from './store.js';

const PENDING_INVITE = 'kidwatch.invite';

const CONNECTION_TEXT = { online: 'Live', connecting: 'Reconnecting…', offline: 'Offline' } as const;

function Header() {
  const conn = useStore(connection);
  const s = useStore(session);
  return (
    <header class="top">
      <a class="brand" href={paths.home()}>
        kidwatch hub
      </a>
      {s.status === 'signedIn' && (
        <span class={`conn ${conn}`} role="status">
          <span aria-hidden="true">{conn === 'online' ? '●' : '○'} </span>
          {CONNECTION_TEXT[conn]}
        </span>
      )}
      {s.status === 'signedIn' && (
        <nav aria-label="Account">
          <a href={paths.account()} aria-current={route.get().name === 'account' ? 'page' : undefined}>
            {s.user.nickname}
          </a>
          <button type="button" class="link" onClick={() => void signOut()}>
            Sign out
          </button>
        </nav>
      )}
    </header>
  );
}

function SignedIn({ r }: { r: Route }) {
  const families = useStore(familyList);
  useEffect(() => {
    // The socket exists once signed in (socket.ts): listen to what it brings.
    if (!currentSocket()) return;
    wireLive();
    wireCalls();
    wireFamilies();
    void loadFamilies();
  }, []);
  useEffect(() => () => forgetMedia(), []);
  useEffect(() => {
    // An invite link opened before signing in: back to it once signed in.
    const pending = sessionStorage.getItem(PENDING_INVITE);
    sessionStorage.removeItem(PENDING_INVITE);
    if (pending && r.name !== 'invite') go(paths.invite(pending));
  }, []);
  let screen;
  switch (r.name) {
    case 'invite':
      screen = <Invite code={r.code} />;
      break;
    case 'account':
      screen = <Account />;
      break;
    case 'family':
      screen = <FamilyScreen fid={r.fid} tab={r.tab} did={r.did} />;
      break;
    case 'notfound':
      screen = (
        <main id="main" class="page">
          <h1>Not found</h1>
          <p>
            <a href={paths.home()}>Go to your families</a>
          </p>
        </main>
      );
      break;
    default:
      screen = <Families list={families} />;
  }
  return (
    <>
      <SosBanner />
      <CallPanel />
      {screen}
    </>
  );
}

export function App() {
  const s = useStore(session);
  const r = useStore(route);
  if (s.status === 'signedOut' && r.name === 'invite') sessionStorage.setItem(PENDING_INVITE, r.code);
  useEffect(() => {
    // Move focus to the new screen's heading, so keyboard and screen reader users land on it.
    requestAnimationFrame(() => document.querySelector<HTMLElement>('main h1')?.focus());
  }, [r, s.status]);
  return (
    <>
      <a
        class="skip"
        href="#main"
        onClick={(e) => {
          // The hash is the router's: move focus without changing it.
          e.preventDefault();
          document.querySelector<HTMLElement>('main h1')?.focus();
        }}
      >
        Skip to content
      </a>
      <Header />
      {s.status === 'loading' && (
        <main id="main" class="page">
          <h1 tabIndex={-1}>kidwatch hub</h1>
          <p role="status">Loading…</p>
        </main>
      )}
      {s.status === 'signedOut' && (
        <SignIn
          mode={r.name === 'signup' ? 'signup' : 'signin'}
          notice={s.notice}
          inviteCode={r.name === 'invite' ? r.code : undefined}
        />
      )}
      {s.status === 'signedIn' && <SignedIn r={r} />}
      <Notices />
    </>
  );
}
