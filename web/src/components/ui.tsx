// Small building blocks every screen uses: labelled fields, error text that screen readers
// announce, and an action hook that tracks "busy" and the error of a button's work.
import type { ComponentChildren, InputHTMLAttributes } from 'preact';
import { useCallback, useState } from 'preact/hooks';
import { describeError } from '../errors.js';

let ids = 0;
export const useId = (prefix: string) => useState(() => `${prefix}-${++ids}`)[0];

type InputProps = Omit<InputHTMLAttributes<HTMLInputElement>, 'id' | 'value'> & {
  label: string;
  hint?: string;
  value: string;
  onValue: (v: string) => void;
};

/** A text input with its label above it (and an optional hint tied with aria-describedby). */
export function Field({ label, hint, value, onValue, ...rest }: InputProps) {
  const id = useId('f');
  return (
    <div class="field">
      <label for={id}>{label}</label>
      <input
        id={id}
        value={value}
        onInput={(e) => onValue((e.currentTarget as HTMLInputElement).value)}
        aria-describedby={hint ? `${id}-hint` : undefined}
        {...rest}
      />
      {hint && (
        <p id={`${id}-hint`} class="hint">
          {hint}
        </p>
      )}
    </div>
  );
}

export function ErrorText({ error }: { error: string | undefined | null }) {
  if (!error) return null;
  return (
    <p class="error" role="alert">
      <span aria-hidden="true">⚠ </span>
      {error}
    </p>
  );
}

/** Runs an async action once at a time; keeps its error for display. */
export function useAction(): [boolean, string | undefined, (fn: () => Promise<unknown>) => Promise<void>, () => void] {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const run = useCallback(async (fn: () => Promise<unknown>) => {
    setBusy(true);
    setError(undefined);
    try {
      await fn();
    } catch (err) {
      setError(describeError(err));
    } finally {
      setBusy(false);
    }
  }, []);
  return [busy, error, run, () => setError(undefined)];
}

export function Section({ title, children, id }: { title: string; children: ComponentChildren; id?: string }) {
  const hid = useId('h');
  return (
    <section class="card" aria-labelledby={hid} id={id}>
      <h2 id={hid}>{title}</h2>
      {children}
    </section>
  );
}

/** Online state in words and a shape, never by colour alone. */
export function OnlineBadge({ online }: { online: boolean }) {
  return <span class={`badge ${online ? 'on' : 'off'}`}>{online ? '● Online' : '○ Offline'}</span>;
}

export function Loading({ what = 'Loading' }: { what?: string }) {
  return (
    <p role="status" class="loading">
      {what}…
    </p>
  );
}
