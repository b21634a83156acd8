// Uplink encoders: frames as a watch writes them. The watch simulator speaks through these, and the
// tests use them for encode→decode round trips; the hub itself never sends them.
import { escapeBinary } from './escape.js';
import { buildFrame, isWatchAddress } from './header.js';
import { replyContentFor } from './replies.js';
import { formatDateTime } from './text.js';
import type { EncodedFrame, EncodeResult, PositionInput, Uplink, WatchAddress } from './types.js';

const bitSet = (word: number, n: number) => (Math.floor(word / 2 ** n) % 2 === 1 ? word : word + 2 ** n);

/** The status word for a position: the given raw word with the alert bits the PROTOCOL names set. */
export function statusWord(p: Pick<PositionInput, 'status' | 'alerts' | 'lowBattery'>): number {
  let w = p.status ?? 0;
  for (const a of p.alerts ?? []) w = bitSet(w, a === 'sos' ? 16 : a === 'removed' ? 20 : 21);
  if (p.lowBattery) w = bitSet(w, 0);
  return w;
}

function positionFields(p: PositionInput): string {
  const [date, time] = formatDateTime(p.ts);
  const hasFix = p.valid && p.lat !== undefined && p.lng !== undefined;
  const lat = hasFix ? p.lat! : 0;
  const lng = hasFix ? p.lng! : 0;
  const r = (n: number | undefined) => String(Math.round(n ?? 0));
  const head = [
    date,
    time,
    p.valid ? 'A' : 'V',
    Math.abs(lat).toFixed(6),
    lat < 0 ? 'S' : 'N',
    Math.abs(lng).toFixed(6),
    lng < 0 ? 'W' : 'E',
    (p.speedKmh ?? 0).toFixed(2),
    (p.course ?? 0).toFixed(1),
    (p.altitude ?? 0).toFixed(1),
    r(p.satellites),
    r(p.signal ?? 100),
    r(p.battery ?? 100),
    r(p.steps),
    r(p.tumbles),
    statusWord(p).toString(16).toUpperCase().padStart(8, '0'),
  ];
  const cells = p.cells ?? [];
  const wifi = p.wifi ?? [];
  // Cells in the common layout (one mcc/mnc for the list, the serving cell's); none: a bare 0 and
  // the Wi-Fi count straight after it, as 3G watches write it.
  const net: (string | number)[] =
    cells.length > 0
      ? [cells.length, p.ta ?? 1, cells[0]!.mcc, cells[0]!.mnc, ...cells.flatMap((c) => [c.lac, c.cid, c.rssi ?? ''])]
      : [0];
  net.push(wifi.length, ...wifi.flatMap((w) => [w.ssid ?? '', w.mac, w.rssi ?? 0]));
  return [...head, ...net].join(',');
}

function yyMMddHHmmss(ts: number | undefined): string {
  if (ts === undefined) return '000000000000';
  const [date, time] = formatDateTime(ts);
  return date.slice(4, 6) + date.slice(2, 4) + date.slice(0, 2) + time;
}

function contentOf(u: Uplink): { type: string; content: Buffer | string }[] | string {
  const bin = (prefix: string, data: Buffer) => Buffer.concat([Buffer.from(prefix, 'latin1'), escapeBinary(data)]);
  switch (u.type) {
    case 'init':
      return [{ type: 'INIT', content: ['INIT', ...(u.fields ?? [])].join(',') }];
    case 'heartbeat': {
      const any = u.steps !== undefined || u.rollovers !== undefined || u.battery !== undefined;
      const content = any ? `LK,${u.steps ?? 0},${u.rollovers ?? 0},${u.battery ?? 0}` : 'LK';
      return [{ type: 'LK', content }];
    }
    case 'position':
    case 'alarm': {
      const type = u.frameType ?? (u.type === 'alarm' ? 'AL' : 'UD');
      return [{ type, content: `${type},${positionFields(u.position)}` }];
    }
    case 'health': {
      const r = u.reading;
      const t = u.frameType;
      const fields: Record<typeof t, (string | number)[]> = {
        heart: [r.heartRate ?? 0],
        PULSE: [r.heartRate ?? 0],
        BLOOD: [r.systolic ?? 0, r.diastolic ?? 0],
        bphrt: [r.systolic ?? 0, r.diastolic ?? 0, r.heartRate ?? 0],
        TEMP: [(r.bodyTempC ?? 0).toFixed(2)],
        btemp2: r.bodyTempC === undefined ? [0, 0] : [1, r.bodyTempC.toFixed(2)],
        oxygen: [0, r.spo2 ?? 0],
      };
      return [{ type: t, content: [t, ...fields[t]].join(',') }];
    }
    case 'voice_query':
      return [{ type: u.frameType, content: u.frameType }];
    case 'voice': {
      const type = u.frameType ?? 'TK';
      if (u.audio.length === 0) return 'a voice message needs audio';
      const prefix = type === 'TK2' && u.target !== undefined ? `TK2,${u.target},` : `${type},`;
      return [{ type, content: bin(prefix, u.audio) }];
    }
    case 'voice_chunks': {
      const size = u.chunkSize;
      if (!Number.isInteger(size) || size < 1) return 'chunkSize must be a positive integer';
      if (u.audio.length === 0) return 'a voice message needs audio';
      const session = u.session ?? 'voice_1';
      if (!/^[0-9A-Za-z_-]{1,64}$/.test(session)) return 'the session is 1-64 letters, digits, _ or -';
      const total = Math.ceil(u.audio.length / size);
      const out: { type: string; content: Buffer }[] = [];
      for (let i = 0; i < total; i++) {
        out.push({
          type: 'JXTK',
          content: bin(`JXTK,0,${session},${i + 1},${total},`, u.audio.subarray(i * size, (i + 1) * size)),
        });
      }
      return out;
    }
    case 'image': {
      if (u.image.length === 0) return 'an image needs bytes';
      const imageType = u.imageType ?? '5';
      if (!/^[0-9A-Za-z]{1,8}$/.test(imageType)) return 'the image type is 1-8 letters or digits';
      return [{ type: 'img', content: bin(`img,${imageType},${yyMMddHHmmss(u.takenAt)},`, u.image) }];
    }
    case 'echo': {
      const type = u.content.split(',')[0] ?? '';
      return [{ type, content: u.content }];
    }
  }
}

/** Encodes what a watch sends. Never throws. */
export function encodeUplink(from: WatchAddress, u: Uplink): EncodeResult {
  try {
    if (!isWatchAddress(from))
      return { ok: false, error: { code: 'BAD_PARAMS', message: 'not a watch address (maker, id, index)' } };
    const parts = contentOf(u);
    if (typeof parts === 'string') return { ok: false, error: { code: 'BAD_PARAMS', message: parts } };
    const frames: EncodedFrame[] = [];
    for (const { type, content } of parts) {
      const bytes = buildFrame(from, typeof content === 'string' ? Buffer.from(content, 'utf8') : content);
      if (bytes === null) return { ok: false, error: { code: 'TOO_LARGE', message: `${type} does not fit a frame`, type } };
      const reply = replyContentFor(type);
      frames.push({ bytes, answer: reply === null ? null : reply.split(',')[0]! });
    }
    return { ok: true, frames };
  } catch (err) {
    return { ok: false, error: { code: 'BAD_PARAMS', message: `unencodable: ${(err as Error).message}` } };
  }
}
