// Short messages for the person using the app ("Saved", "Mia entered School"), read out by
// screen readers through a live region (components/Notices.tsx).
import { Store } from './store.js';

export interface Notice {
  id: number;
  text: string;
  /** 'alert' is announced at once (assertive); 'status' politely. */
  kind: 'status' | 'alert';
}

export const notices = new Store<readonly Notice[]>([]);
let next = 1;

export function notify(text: string, kind: Notice['kind'] = 'status', ms = 4500): void {
  const id = next++;
  // Two at most: older ones are read already (or were announced) and would cover the screen.
  notices.update((list) => [...list.slice(-1), { id, text, kind }]);
  setTimeout(() => dismiss(id), ms);
}

export function dismiss(id: number): void {
  notices.update((list) => list.filter((n) => n.id !== id));
}
