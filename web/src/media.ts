// Chat media, fetched with the bearer token and shown through blob: URLs: a token never goes in
// a URL, and the CSP needs no outside media source. AMR voice notes (what most watches record)
// cannot be played by browsers: they are asked for as Ogg (`?format=ogg`, the hub converts with
// ffmpeg); a 503 answer (no ffmpeg on the hub), or bytes the browser cannot play anyway, mean
// "not playable here".
import type { MediaView } from '../../src/contract/models.js';
import { authFetch } from './auth.js';
import { errorOf } from './http.js';

export type MediaResult =
  { ok: true; url: string; mime: string } | { ok: false; reason: 'unplayable' | 'error'; message: string };

const cache = new Map<string, Promise<MediaResult>>();

const canPlay = (mime: string) => {
  const probe = document.createElement('audio');
  return probe.canPlayType(mime) !== '';
};

async function load(media: MediaView): Promise<MediaResult> {
  const isAmr = media.mime === 'audio/amr';
  const res = await authFetch(isAmr ? `${media.url}?format=ogg` : media.url);
  if (isAmr && res.status === 503) {
    return { ok: false, reason: 'unplayable', message: 'This voice note cannot be played here.' };
  }
  if (!res.ok) {
    const err = await errorOf(res);
    return { ok: false, reason: 'error', message: err.message };
  }
  const blob = await res.blob();
  const mime = (res.headers.get('content-type') ?? media.mime).split(';')[0]!.trim();
  if (mime.startsWith('audio/') && !canPlay(mime)) {
    return { ok: false, reason: 'unplayable', message: 'This voice note cannot be played here.' };
  }
  return { ok: true, url: URL.createObjectURL(blob), mime };
}

/** The media as a blob: URL (fetched once per media id while the page lives). */
export function mediaUrl(media: MediaView): Promise<MediaResult> {
  let p = cache.get(media.id);
  if (!p) {
    p = load(media).catch((err: unknown) => ({ ok: false as const, reason: 'error' as const, message: String(err) }));
    cache.set(media.id, p);
  }
  return p;
}

/** Signing out drops every fetched media from memory. */
export function forgetMedia(): void {
  for (const p of cache.values()) void p.then((r) => r.ok && URL.revokeObjectURL(r.url));
  cache.clear();
}

/** Saves bytes as a file through a temporary blob: URL and a download link. */
export function saveFile(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
