// Wording for times, distances and battery levels.
const rtf = typeof Intl.RelativeTimeFormat === 'function' ? new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' }) : null;

export function ago(ts: number | null | undefined, now = Date.now()): string {
  if (ts === null || ts === undefined) return 'never';
  const s = Math.round((ts - now) / 1000);
  const abs = Math.abs(s);
  if (!rtf) return new Date(ts).toLocaleString();
  if (abs < 45) return rtf.format(0, 'second');
  if (abs < 3600) return rtf.format(Math.round(s / 60), 'minute');
  if (abs < 86_400) return rtf.format(Math.round(s / 3600), 'hour');
  return rtf.format(Math.round(s / 86_400), 'day');
}

export const time = (ts: number) =>
  new Date(ts).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
export const dateTime = (ts: number) => new Date(ts).toLocaleString([], { dateStyle: 'medium', timeStyle: 'short' });
export const metres = (m: number) => (m >= 1000 ? `${(m / 1000).toFixed(1)} km` : `${Math.round(m)} m`);
export const battery = (b: number | null | undefined) => (b === null || b === undefined ? 'battery unknown' : `battery ${b}%`);
export const coords = (lat: number, lng: number) => `${lat.toFixed(5)}, ${lng.toFixed(5)}`;
export const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} kB`;
export const duration = (ms: number) => {
  // Whole seconds gone by, as clocks show them (0:01 once a full second has passed).
  const s = Math.floor(ms / 1000);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
};
