import type { Logger } from 'pino';

/** Runs a job every `ms`, never two runs at once, logging failures; returns stop. */
export function every(ms: number, name: string, logger: Logger, job: () => Promise<unknown> | unknown): () => void {
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    Promise.resolve()
      .then(job)
      .catch((err: unknown) => logger.error({ err, job: name }, 'job failed'))
      .finally(() => (running = false));
  }, ms);
  timer.unref();
  return () => clearInterval(timer);
}
