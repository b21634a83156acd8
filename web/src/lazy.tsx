// Screens loaded on first use (the map screens carry Leaflet), so the first screen stays small.
import type { ComponentType } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ErrorText, Loading } from './components/ui.js';

export function lazyScreen<P extends object>(load: () => Promise<{ default: ComponentType<P> }>): ComponentType<P> {
  let loaded: ComponentType<P> | undefined;
  let pending: Promise<void> | undefined;
  return function Lazy(props: P) {
    const [, setTick] = useState(0);
    const [error, setError] = useState<string>();
    useEffect(() => {
      if (loaded) return;
      pending ??= load().then((m) => {
        loaded = m.default;
      });
      pending.then(
        () => setTick((n) => n + 1),
        () => {
          pending = undefined;
          setError('This screen could not be loaded. Check the connection and reload.');
        },
      );
    }, []);
    if (error) return <ErrorText error={error} />;
    if (!loaded) return <Loading />;
    const C = loaded;
    return <C {...props} />;
  };
}
