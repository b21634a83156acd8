// The call on screen: an incoming call to answer, a call ringing out, or the call in progress with
// its timer, data counters (from WebRTC statistics), mute and hang-up.
import { useEffect, useRef, useState } from 'preact/hooks';
import { acceptCall, call, declineCall, hangUp, setMuted } from '../call.js';
import { familyStore, nameOf } from '../family.js';
import { duration, kb } from '../format.js';
import { useStore } from '../store.js';

const ENDED: Record<string, string> = {
  hangup: 'hung up',
  declined: 'declined',
  missed: 'no answer',
  timeout: 'too long',
  disconnected: 'connection lost',
  media_failure: 'the media server failed',
  failed: 'could not connect',
};

function MediaEl({
  stream,
  kind,
  muted,
  label,
}: {
  stream: MediaStream | undefined;
  kind: 'audio' | 'video';
  muted?: boolean;
  label: string;
}) {
  const ref = useRef<HTMLVideoElement & HTMLAudioElement>(null);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    el.srcObject = stream ?? null;
    if (stream) void el.play().catch(() => undefined);
  }, [stream, stream?.getTracks().length]);
  return kind === 'video' ? (
    <video ref={ref} autoplay playsInline muted={muted} aria-label={label} class="call-video" />
  ) : (
    <audio ref={ref} autoplay aria-label={label} />
  );
}

export function CallPanel() {
  const c = useStore(call);
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    if (c?.state !== 'active') return;
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, [c?.state]);
  const fam = useStore(familyStore(c?.familyId ?? '-'));
  if (!c) return null;
  const who = nameOf(fam.view, c.peer);
  const kind = c.video ? 'Video call' : 'Voice call';
  // Named by its heading: "Voice call from …" while it rings in, "… with …" otherwise.
  return (
    <section class="call" aria-labelledby="call-title" aria-live="polite">
      <h2 id="call-title">
        {kind} {c.direction === 'incoming' && c.state === 'ringing' ? 'from' : 'with'} {who}
      </h2>
      <p class="call-state" data-state={c.state}>
        {c.state === 'ringing' && (c.direction === 'incoming' ? 'Incoming call…' : 'Ringing…')}
        {c.state === 'connecting' && 'Connecting…'}
        {c.state === 'active' && <>In call {c.startedAt ? duration(now - c.startedAt) : ''}</>}
        {c.state === 'ended' && <>Call ended{c.reason ? ` (${ENDED[c.reason] ?? c.reason})` : ''}</>}
      </p>
      {c.error && <p class="error">{c.error}</p>}
      {c.state === 'active' && (
        <p class="call-stats">
          Sent <span data-bytes-sent={c.stats.sent}>{kb(c.stats.sent)}</span>, received{' '}
          <span data-bytes-received={c.stats.received}>{kb(c.stats.received)}</span>
        </p>
      )}
      {c.video && c.state === 'active' && (
        <div class="videos">
          <MediaEl stream={c.remoteStream} kind="video" label={`${who}'s video`} />
          <MediaEl stream={c.localStream} kind="video" muted label="Your video" />
        </div>
      )}
      {!c.video && <MediaEl stream={c.remoteStream} kind="audio" label={`${who}'s voice`} />}
      <div class="row">
        {c.direction === 'incoming' && c.state === 'ringing' && (
          <>
            <button type="button" class="primary" onClick={() => void acceptCall()}>
              Answer
            </button>
            <button type="button" class="danger" onClick={() => void declineCall()}>
              Decline
            </button>
          </>
        )}
        {c.state !== 'ended' && !(c.direction === 'incoming' && c.state === 'ringing') && (
          <>
            {c.state === 'active' && (
              <button type="button" class="secondary" aria-pressed={c.muted} onClick={() => setMuted(!c.muted)}>
                {c.muted ? 'Unmute microphone' : 'Mute microphone'}
              </button>
            )}
            <button type="button" class="danger" onClick={() => void hangUp()}>
              Hang up
            </button>
          </>
        )}
      </div>
    </section>
  );
}
