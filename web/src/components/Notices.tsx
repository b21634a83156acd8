// Toasts, in two live regions: polite for confirmations, assertive for urgent news.
import { dismiss, notices } from '../notices.js';
import { useStore } from '../store.js';

export function Notices() {
  const list = useStore(notices);
  const shown = (kind: 'status' | 'alert') =>
    list
      .filter((n) => n.kind === kind)
      .map((n) => (
        <div class={`notice ${kind}`} key={n.id}>
          <span>{n.text}</span>
          <button type="button" class="link" onClick={() => dismiss(n.id)} aria-label={`Dismiss: ${n.text}`}>
            ✕
          </button>
        </div>
      ));
  return (
    <div class="notices">
      <div role="status" aria-live="polite">
        {shown('status')}
      </div>
      <div role="alert" aria-live="assertive">
        {shown('alert')}
      </div>
    </div>
  );
}
