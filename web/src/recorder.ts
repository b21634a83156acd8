// Voice notes recorded in the browser with MediaRecorder, in a type the hub accepts for voice
// (audio/webm or audio/ogg, Opus). The hub cannot read the duration of these from the bytes, so
// it is measured here and sent along.

export interface Recording {
  data: ArrayBuffer;
  /** Without codec parameters: the hub keeps the bare type. */
  mime: 'audio/webm' | 'audio/ogg';
  durationMs: number;
}

const CANDIDATES = ['audio/webm;codecs=opus', 'audio/ogg;codecs=opus', 'audio/webm', 'audio/ogg'] as const;

export function recordingSupported(): boolean {
  return typeof MediaRecorder === 'function' && CANDIDATES.some((t) => MediaRecorder.isTypeSupported(t));
}

export class VoiceRecorder {
  private recorder: MediaRecorder | undefined;
  private stream: MediaStream | undefined;
  private chunks: Blob[] = [];
  private startedAt = 0;

  async start(): Promise<void> {
    const type = CANDIDATES.find((t) => MediaRecorder.isTypeSupported(t));
    if (!type) throw new Error('This browser cannot record voice notes.');
    this.stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    this.recorder = new MediaRecorder(this.stream, { mimeType: type });
    this.chunks = [];
    this.recorder.addEventListener('dataavailable', (e) => {
      if (e.data.size > 0) this.chunks.push(e.data);
    });
    this.startedAt = performance.now();
    this.recorder.start();
  }

  get elapsedMs(): number {
    return this.recorder ? performance.now() - this.startedAt : 0;
  }

  /** Stops and returns the note; the microphone is released. */
  async stop(): Promise<Recording> {
    const r = this.recorder;
    if (!r) throw new Error('not recording');
    const stopped = new Promise<void>((resolve) => r.addEventListener('stop', () => resolve(), { once: true }));
    r.stop();
    await stopped;
    const durationMs = Math.max(1, Math.round(performance.now() - this.startedAt));
    this.release();
    const mime = r.mimeType.startsWith('audio/ogg') ? 'audio/ogg' : 'audio/webm';
    return { data: await new Blob(this.chunks, { type: mime }).arrayBuffer(), mime, durationMs };
  }

  cancel(): void {
    if (this.recorder?.state === 'recording') this.recorder.stop();
    this.release();
  }

  private release(): void {
    this.stream?.getTracks().forEach((t) => t.stop());
    this.stream = undefined;
    this.recorder = undefined;
  }
}
