// A tiny observable value and the hook that re-renders a component when it changes. Enough for
// this app's shared state (session, live positions, alerts, calls) without a state library.
import { useEffect, useReducer, useRef } from 'preact/hooks';

export interface Readable<T> {
  get(): T;
  subscribe(listener: (value: T) => void): () => void;
}

export class Store<T> implements Readable<T> {
  private listeners = new Set<(value: T) => void>();
  constructor(private value: T) {}

  get(): T {
    return this.value;
  }

  set(value: T): void {
    if (Object.is(value, this.value)) return;
    this.value = value;
    for (const l of [...this.listeners]) l(value);
  }

  update(fn: (value: T) => T): void {
    this.set(fn(this.value));
  }

  subscribe(listener: (value: T) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

/** The store's current value; the component re-renders on every change. */
export function useStore<T>(store: Readable<T>): T {
  const [, force] = useReducer((n: number) => n + 1, 0);
  const value = store.get();
  const rendered = useRef(value);
  rendered.current = value;
  useEffect(() => {
    const off = store.subscribe(() => force(undefined));
    // Effects run after paint: a change between this render and the subscription would be missed.
    if (!Object.is(store.get(), rendered.current)) force(undefined);
    return off;
  }, [store]);
  return value;
}
