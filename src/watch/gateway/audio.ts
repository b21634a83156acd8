// Voice for watches that play AMR-NB only. AMR-NB goes as it is; anything else is converted by
// src/media/audio-convert.ts (ffmpeg, an optional system tool). Where that module or ffmpeg is
// missing, or the conversion fails, the message is undeliverable to the watch (a clear mark for
// the family: `chat:undeliverable`), never sent as bytes the watch cannot play.
const AMR_NB = Buffer.from('#!AMR\n', 'latin1');

export type AmrResult = { ok: true; audio: Buffer } | { ok: false; reason: 'no_converter' | 'conversion_failed' };

type Converter = { convertAudio(input: Buffer, to: 'amr-nb'): Promise<Buffer> };

// Imported at run time, not at load: the hub starts (and the watch gateway runs) without it.
const CONVERTER = '../../media/audio-convert.js';
let converter: Promise<Converter | null> | undefined;

function loadConverter(): Promise<Converter | null> {
  converter ??= (import(CONVERTER) as Promise<Converter>).then(
    (m) => (typeof m.convertAudio === 'function' ? m : null),
    () => null,
  );
  return converter;
}

export const isAmrNb = (b: Buffer) => b.subarray(0, AMR_NB.length).equals(AMR_NB);

export async function toAmrNb(data: Buffer): Promise<AmrResult> {
  if (isAmrNb(data)) return { ok: true, audio: data };
  const c = await loadConverter();
  if (!c) return { ok: false, reason: 'no_converter' };
  try {
    const out = await c.convertAudio(data, 'amr-nb');
    return isAmrNb(out) ? { ok: true, audio: out } : { ok: false, reason: 'conversion_failed' };
  } catch {
    return { ok: false, reason: 'conversion_failed' };
  }
}
