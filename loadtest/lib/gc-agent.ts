// Preloaded into a server under test by the memory benchmark (`node --expose-gc --import
// <this file> main.js`), so the hub itself needs no benchmark code: over the IPC channel the
// benchmark opened, `{type: 'bench:gc', id}` runs a full garbage collection (twice, so objects
// freed by finalizers of the first go too) and answers with process.memoryUsage() and whatever
// the server put in globalThis.__benchStats (the plain Socket.IO server reports its sockets).
// The channel is unref'd: it never keeps the server alive; when it closes (the benchmark was
// killed), the server gets a SIGTERM.
export interface GcRequest {
  type: 'bench:gc';
  id: number;
}

export interface GcReply {
  type: 'bench:gc';
  id: number;
  /** False when the server was started without --expose-gc: no collection was forced. */
  gcExposed: boolean;
  gcMs: number;
  memory: NodeJS.MemoryUsage;
  stats: Record<string, number> | null;
}

declare global {
  var __benchStats: (() => Record<string, number>) | undefined;
}

if (process.send) {
  process.on('message', (m: unknown) => {
    const req = m as Partial<GcRequest> | null;
    if (!req || req.type !== 'bench:gc' || typeof req.id !== 'number') return;
    const gc = (globalThis as { gc?: () => void }).gc;
    const t0 = performance.now();
    if (gc) {
      gc();
      gc();
    }
    const reply: GcReply = {
      type: 'bench:gc',
      id: req.id,
      gcExposed: typeof gc === 'function',
      gcMs: Math.round((performance.now() - t0) * 10) / 10,
      memory: process.memoryUsage(),
      stats: globalThis.__benchStats?.() ?? null,
    };
    process.send?.(reply);
  });
  // The benchmark gone (killed without stopping us): stop as on SIGTERM, so no server outlives its run.
  process.on('disconnect', () => process.kill(process.pid, 'SIGTERM'));
  process.channel?.unref();
}
