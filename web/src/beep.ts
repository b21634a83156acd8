// The SOS sound: a two-tone beep every 1.5 s made with WebAudio (no audio file to fetch), until
// the alert is acknowledged. Browsers let an AudioContext start once the person has used the page.
let ctx: AudioContext | undefined;
let timer: ReturnType<typeof setInterval> | undefined;

function beepOnce(): void {
  if (!ctx) return;
  const now = ctx.currentTime;
  for (const [i, freq] of [880, 660].entries()) {
    const osc = ctx.createOscillator();
    const gain = ctx.createGain();
    osc.type = 'square';
    osc.frequency.value = freq;
    gain.gain.setValueAtTime(0.0001, now + i * 0.25);
    gain.gain.exponentialRampToValueAtTime(0.2, now + i * 0.25 + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, now + i * 0.25 + 0.22);
    osc.connect(gain).connect(ctx.destination);
    osc.start(now + i * 0.25);
    osc.stop(now + i * 0.25 + 0.24);
  }
}

export function startAlarm(): void {
  if (timer) return;
  ctx ??= new AudioContext();
  void ctx.resume().catch(() => undefined);
  beepOnce();
  timer = setInterval(beepOnce, 1500);
}

export function stopAlarm(): void {
  clearInterval(timer);
  timer = undefined;
}

export function alarmRunning(): boolean {
  return timer !== undefined;
}

/** A short ring for incoming calls. */
export function ringOnce(): void {
  ctx ??= new AudioContext();
  void ctx.resume().catch(() => undefined);
  beepOnce();
}
