// Calls: the signaling state (ringing, active, ended) lives here, in the main bundle, so an
// incoming call rings at once; the media side (mediasoup-client, call-media.ts) is loaded only
// when a call starts or is answered.
import type { Principal } from '../../src/contract/models.js';
import { session } from './auth.js';
import { ringOnce } from './beep.js';
import { familyOf } from './family.js';
import { describeError } from './errors.js';
import { notify } from './notices.js';
import { currentSocket, request } from './socket.js';
import { Store } from './store.js';
import type { CallMedia } from './call-media.js';

export interface CallView {
  callId: string;
  familyId: string | undefined;
  peer: Principal;
  video: boolean;
  direction: 'outgoing' | 'incoming';
  state: 'ringing' | 'connecting' | 'active' | 'ended';
  reason?: string;
  muted: boolean;
  startedAt?: number;
  stats: { sent: number; received: number };
  localStream?: MediaStream;
  remoteStream?: MediaStream;
  error?: string;
}

export const call = new Store<CallView | null>(null);

let media: CallMedia | undefined;
let rtpCapabilities: object | undefined;
let pendingProducers: string[] = [];
let ringer: ReturnType<typeof setInterval> | undefined;
let statsTimer: ReturnType<typeof setInterval> | undefined;

const loadMedia = () => import('./call-media.js');

function patch(p: Partial<CallView>): void {
  const c = call.get();
  if (c) call.set({ ...c, ...p });
}

function stopRinging(): void {
  clearInterval(ringer);
  ringer = undefined;
}

function cleanup(reason?: string): void {
  stopRinging();
  clearInterval(statsTimer);
  statsTimer = undefined;
  media?.close();
  media = undefined;
  rtpCapabilities = undefined;
  pendingProducers = [];
  const c = call.get();
  if (!c) return;
  const { localStream: _l, remoteStream: _r, ...rest } = c;
  call.set({ ...rest, state: 'ended', ...(reason ? { reason } : {}) });
  // The ended state stays on screen a moment, so the person sees why.
  const id = c.callId;
  setTimeout(() => call.get()?.callId === id && call.get()?.state === 'ended' && call.set(null), 4000);
}

/** Sets up the transports, produces the microphone (and camera), consumes the others. */
async function startMedia(): Promise<void> {
  const c = call.get();
  if (!c || !rtpCapabilities || media) return;
  patch({ state: 'connecting' });
  try {
    const { CallMedia } = await loadMedia();
    media = new CallMedia(c.callId, c.video, (remote) => patch({ remoteStream: remote }));
    await media.load(rtpCapabilities);
    const local = await media.start();
    patch({ localStream: local, state: 'active', startedAt: Date.now() });
    for (const id of pendingProducers.splice(0)) await media.consume(id);
    statsTimer = setInterval(() => {
      void media?.stats().then((stats) => patch({ stats }));
    }, 1000);
  } catch (err) {
    patch({ error: describeError(err) });
    await hangUp();
  }
}

export async function startCall(familyId: string, peer: Principal, video: boolean): Promise<void> {
  if (call.get() && call.get()!.state !== 'ended') throw new Error('You are already in a call.');
  const r = await request('call:start', { familyId, invitees: [peer], video });
  rtpCapabilities = r.rtpCapabilities;
  call.set({
    callId: r.callId,
    familyId,
    peer,
    video,
    direction: 'outgoing',
    state: 'ringing',
    muted: false,
    stats: { sent: 0, received: 0 },
  });
  void loadMedia(); // fetch the media code while it rings
}

export async function acceptCall(): Promise<void> {
  const c = call.get();
  if (!c || c.direction !== 'incoming' || c.state !== 'ringing') return;
  stopRinging();
  try {
    const r = await request('call:accept', { callId: c.callId });
    rtpCapabilities = r.rtpCapabilities;
    await startMedia();
  } catch (err) {
    notify(`The call could not be answered: ${describeError(err)}`, 'alert');
    cleanup('failed');
  }
}

export async function declineCall(): Promise<void> {
  const c = call.get();
  if (!c) return;
  stopRinging();
  await request('call:decline', { callId: c.callId }).catch(() => undefined);
  cleanup('declined');
}

export async function hangUp(): Promise<void> {
  const c = call.get();
  if (!c || c.state === 'ended') return;
  await request('call:hangup', { callId: c.callId }).catch(() => undefined);
  cleanup('hangup');
}

export function setMuted(muted: boolean): void {
  media?.setMuted(muted);
  patch({ muted });
}

let wiredTo: ReturnType<typeof currentSocket> = null;
export function wireCalls(): void {
  const s = currentSocket();
  if (!s || wiredTo === s) return;
  wiredTo = s;
  s.on('call:ring', (e) => {
    const current = call.get();
    if (current && current.state !== 'ended') return; // the hub does not ring busy people; be safe
    call.set({
      callId: e.callId,
      familyId: familyOf(e.from),
      peer: e.from,
      video: e.video,
      direction: 'incoming',
      state: 'ringing',
      muted: false,
      stats: { sent: 0, received: 0 },
    });
    ringOnce();
    ringer = setInterval(ringOnce, 2500);
    void loadMedia();
  });
  s.on('call:state', (e) => {
    const c = call.get();
    if (!c || c.callId !== e.callId) return;
    if (e.state === 'active' && c.direction === 'outgoing') void startMedia();
    if (e.state === 'ended') cleanup(e.reason);
  });
  s.on('call:producer', (e) => {
    const c = call.get();
    if (!c || c.callId !== e.callId) return;
    if (media?.ready) void media.consume(e.producerId);
    else pendingProducers.push(e.producerId);
  });
}

session.subscribe((st) => {
  if (st.status === 'signedIn') return;
  cleanup();
  call.set(null);
  wiredTo = null;
});
