// Reads a watch's QR code with the camera (getUserMedia) and jsQR. Loaded only when the person
// asks to scan. The code is read from frames drawn to a canvas that is never shown.
import jsQR from 'jsqr';

/** The binding code inside what a watch's QR code holds: the bare code, or a link carrying it. */
export function bindingCodeFrom(text: string): string {
  const t = text.trim();
  try {
    const u = new URL(t);
    const q = u.searchParams.get('code') ?? u.searchParams.get('bindingCode');
    if (q) return q;
    const last = (u.hash || u.pathname).split('/').filter(Boolean).at(-1);
    if (last) return decodeURIComponent(last);
  } catch {
    // Not a URL: the code itself.
  }
  return t;
}

export class QrScanner {
  private stream: MediaStream | undefined;
  private raf = 0;
  private stopped = false;

  constructor(
    private readonly video: HTMLVideoElement,
    private readonly onCode: (code: string) => void,
  ) {}

  async start(): Promise<void> {
    this.stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' }, audio: false });
    this.video.srcObject = this.stream;
    await this.video.play();
    const canvas = document.createElement('canvas');
    const ctx = canvas.getContext('2d', { willReadFrequently: true });
    const tick = () => {
      if (this.stopped || !ctx) return;
      const w = this.video.videoWidth;
      const h = this.video.videoHeight;
      if (w > 0 && h > 0) {
        // A smaller frame decodes faster and QR codes stay readable.
        const scale = Math.min(1, 640 / Math.max(w, h));
        canvas.width = Math.round(w * scale);
        canvas.height = Math.round(h * scale);
        ctx.drawImage(this.video, 0, 0, canvas.width, canvas.height);
        const img = ctx.getImageData(0, 0, canvas.width, canvas.height);
        const found = jsQR(img.data, img.width, img.height, { inversionAttempts: 'dontInvert' });
        if (found?.data) {
          this.stop();
          this.onCode(bindingCodeFrom(found.data));
          return;
        }
      }
      this.raf = requestAnimationFrame(tick);
    };
    this.raf = requestAnimationFrame(tick);
  }

  stop(): void {
    this.stopped = true;
    cancelAnimationFrame(this.raf);
    this.stream?.getTracks().forEach((t) => t.stop());
    this.video.srcObject = null;
  }
}
