// What a connection is waiting for the watch to echo: each delivered downlink frame has an answer
// key (`CR`, `PHB2`, `TK`); an echo is matched to the OLDEST delivered frame with its key, and a
// downlink sent as several frames (PHB + PHB2, SOS1…SOS3) is complete once all of them are echoed.
// Bounded: a watch that never echoes cannot make the hub hold more than `max` entries.

export interface Awaited {
  /** The command this downlink carries out, or null for a family message (MESSAGE, TK). */
  commandId: string | null;
  commandType: string | null;
  /** The family message it carries (MESSAGE, TK): its echo moves the watch's read position. */
  message?: { conversationId: string; seq: number };
  /** Answer keys still to come. */
  keys: string[];
  ok: boolean;
}

export class EchoTracker {
  private readonly queues = new Map<string, Awaited[]>();
  private readonly commands = new Set<string>();
  private count = 0;

  constructor(private readonly max = 256) {}

  /** A command already delivered on this connection (and not echoed yet): a redelivery is not sent twice. */
  has(commandId: string): boolean {
    return this.commands.has(commandId);
  }

  add(a: Awaited): void {
    if (a.keys.length === 0) return;
    if (this.count >= this.max) this.dropOldest();
    if (a.commandId) this.commands.add(a.commandId);
    for (const k of a.keys) {
      let q = this.queues.get(k);
      if (!q) this.queues.set(k, (q = []));
      q.push(a);
    }
    this.count++;
  }

  /** An echo with this key: the entry it completes (every frame echoed), or null. */
  echo(key: string, ok: boolean): Awaited | null {
    const q = this.queues.get(key);
    const a = q?.shift();
    if (!a) return null;
    if (q!.length === 0) this.queues.delete(key);
    const i = a.keys.indexOf(key);
    if (i >= 0) a.keys.splice(i, 1);
    if (!ok) a.ok = false;
    if (a.keys.length > 0) return null;
    this.count--;
    if (a.commandId) this.commands.delete(a.commandId);
    return a;
  }

  private dropOldest(): void {
    // The oldest entry of the longest queue: good enough to stay bounded.
    let longest: Awaited[] | undefined;
    for (const q of this.queues.values()) if (!longest || q.length > longest.length) longest = q;
    const a = longest?.[0];
    if (!a) return;
    for (const k of a.keys) {
      const q = this.queues.get(k);
      const i = q?.indexOf(a) ?? -1;
      if (i >= 0) q!.splice(i, 1);
      if (q?.length === 0) this.queues.delete(k);
    }
    if (a.commandId) this.commands.delete(a.commandId);
    this.count--;
  }
}
