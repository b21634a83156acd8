// Voice for watches that play AMR-NB only. AMR-NB goes as it is; anything else is converted by the
// hub's audio converter (src/media/audio-convert.ts: ffmpeg, an optional system tool). Where ffmpeg
// is missing or the conversion fails, the message is undeliverable to the watch (a clear mark for
// the family: `chat:undeliverable`), never sent as bytes the watch cannot play.
import type { AudioConverter } from '../../media/audio-convert.js';
import { AudioConversionError } from '../../media/audio-convert.js';

const AMR_NB = Buffer.from('#!AMR\n', 'latin1');

export type AmrResult = { ok: true; audio: Buffer } | { ok: false; reason: 'no_converter' | 'conversion_failed' };

export const isAmrNb = (b: Buffer) => b.subarray(0, AMR_NB.length).equals(AMR_NB);

export async function toAmrNb(converter: AudioConverter, data: Buffer): Promise<AmrResult> {
  if (isAmrNb(data)) return { ok: true, audio: data };
  try {
    const out = await converter.convert(data, 'amr-nb');
    return isAmrNb(out) ? { ok: true, audio: out } : { ok: false, reason: 'conversion_failed' };
  } catch (err) {
    const unavailable = err instanceof AudioConversionError && err.reason === 'unavailable';
    return { ok: false, reason: unavailable ? 'no_converter' : 'conversion_failed' };
  }
}
