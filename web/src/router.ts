// Hash routes (#/…): the hub serves one page, and a reload or a shared invite link
// (`/#/invite/<code>`) opens the right screen without any server-side routing.
import { Store } from './store.js';

export const FAMILY_TABS = ['map', 'history', 'places', 'chat', 'alerts', 'people', 'add', 'watch'] as const;
export type FamilyTab = (typeof FAMILY_TABS)[number];

export type Route =
  | { name: 'signin' }
  | { name: 'signup' }
  | { name: 'home' }
  | { name: 'account' }
  | { name: 'invite'; code: string }
  | { name: 'family'; fid: string; tab: FamilyTab; did?: string }
  | { name: 'notfound' };

export function parseRoute(hash: string): Route {
  const parts = hash
    .replace(/^#\/?/, '')
    .split('/')
    .filter(Boolean)
    .map((p) => {
      try {
        return decodeURIComponent(p);
      } catch {
        return p;
      }
    });
  const [a, b, c, d] = parts;
  if (!a) return { name: 'home' };
  if (a === 'signin' || a === 'signup' || a === 'account') return { name: a };
  if (a === 'invite' && b) return { name: 'invite', code: b };
  if (a === 'f' && b) {
    const tab = (c ?? 'map') as FamilyTab;
    if (!FAMILY_TABS.includes(tab)) return { name: 'notfound' };
    return d ? { name: 'family', fid: b, tab, did: d } : { name: 'family', fid: b, tab };
  }
  return { name: 'notfound' };
}

const enc = encodeURIComponent;
export const paths = {
  home: () => '#/',
  signin: () => '#/signin',
  signup: () => '#/signup',
  account: () => '#/account',
  invite: (code: string) => `#/invite/${enc(code)}`,
  family: (fid: string, tab: FamilyTab = 'map', did?: string) => `#/f/${enc(fid)}/${tab}${did ? `/${enc(did)}` : ''}`,
};

export const route = new Store<Route>(parseRoute(location.hash));
window.addEventListener('hashchange', () => route.set(parseRoute(location.hash)));

export function go(hash: string): void {
  if (location.hash === hash) route.set(parseRoute(hash));
  else location.hash = hash;
}
