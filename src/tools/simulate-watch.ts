// What the simulator's two kinds of watch share: its options and state, the IMEI and the AMR
// voice note they send, provisioning through the HTTP API, and the loop each watch walks.
import { randomInt } from 'node:crypto';
import { randomImei as makeImei } from '../contract/imei.js';

export interface SimulatorOptions {
  url: string;
  provisioningKey: string;
  watches: number;
  /** Time between two positions of a watch. */
  intervalMs: number;
  /** The middle of the walk. */
  lat: number;
  lng: number;
  /** Raise an SOS after this many positions (0: never). */
  sosAfter: number;
  /** Send a voice note every this many positions, once the family is known (0: never). */
  voiceEvery: number;
  /** 3G-protocol watches over TCP to this host and port (the hub's HUB_WATCH_TCP_PORT) instead of Socket.IO ones. */
  tcp?: { host: string; port: number } | undefined;
  log: (line: string) => void;
}

export interface SimulatedWatch {
  deviceId: string;
  bindingCode: string;
  imei: string;
  /** The ID a TCP watch writes in its frames (TCP mode only). */
  watchId?: string;
  /** Set once the watch learnt its family (from an alert's ack or a family message). */
  familyId: string | undefined;
  state: 'unbound' | 'waiting-consent' | 'walking';
  positions: number;
}

export interface Simulator {
  watches: SimulatedWatch[];
  stop(): void;
}

/** A random IMEI with a valid Luhn check digit (the hub checks it). */
export const randomImei = () => makeImei(() => randomInt(10));

/**
 * A small valid AMR-NB file: the "#!AMR\n" header and `seconds` × 50 frames of 12.2 kbit/s
 * (a one-byte header 0x3C and 31 bytes of low-energy noise each), what watches record.
 */
export function amrNote(seconds: number): Buffer {
  const frame = Buffer.alloc(32);
  frame[0] = 0x3c;
  let x = 0x2545f491;
  for (let i = 1; i < 32; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    frame[i] = (x >>> 16) & 0xff;
  }
  frame[31] = frame[31]! & 0xf0; // the 4 padding bits of a 244-bit frame
  return Buffer.concat([Buffer.from('#!AMR\n', 'latin1'), ...Array.from({ length: Math.round(seconds * 50) }, () => frame)]);
}

export async function provision(
  opts: SimulatorOptions,
  n: number,
  watchId?: string,
): Promise<{ deviceId: string; deviceToken: string; bindingCode: string; imei: string }> {
  const imei = randomImei();
  const res = await fetch(`${opts.url}/v1/devices/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-provisioning-key': opts.provisioningKey },
    body: JSON.stringify({ imei, model: `Simulated watch ${n}`, ...(watchId ? { watchId } : {}) }),
  });
  const body = (await res.json().catch(() => ({}))) as {
    deviceId?: string;
    deviceToken?: string;
    bindingCode?: string;
    error?: { message?: string };
  };
  if (res.status !== 201 || !body.deviceId || !body.deviceToken || !body.bindingCode) {
    throw new Error(`provisioning failed (HTTP ${res.status}): ${body.error?.message ?? 'no answer'}`);
  }
  return { deviceId: body.deviceId, deviceToken: body.deviceToken, bindingCode: body.bindingCode, imei };
}

/** Where the `n`th watch of `count` is after `step` steps: its own loop (about 400 m across, 20 m a step). */
export function walk(opts: SimulatorOptions, n: number, count: number, step: number): { lat: number; lng: number } {
  const angle0 = (2 * Math.PI * n) / count;
  const radiusDeg = 0.0018;
  const a = angle0 + step * 0.05;
  return {
    lat: opts.lat + radiusDeg * Math.sin(a) + 0.002 * Math.cos(angle0),
    lng: opts.lng + (radiusDeg * Math.cos(a)) / Math.cos((opts.lat * Math.PI) / 180) + 0.003 * Math.sin(angle0),
  };
}
