// Offline detection from the store: when each bound watch was last heard from (any location
// report, accepted or refused for consent, a sign of life included) is written to the store at
// most once per `writeEveryMs` per watch and node, and a sweep on every node raises one `offline`
// alert per silence, claimed in the store. So a watch that went silent while the hub was down, or
// across a restart, is still reported, and a watch with location off is reported too, without a
// position. The writes of the watches heard within `flushMs` go to the store together, in one
// statement: written one by one, every watch's write (an fsync each on SQLite, on the event
// loop) stalled the node every few seconds, up to 280 ms at 200 watches on a busy disk.
import type { DeviceDirectory } from '../store/device-directory.js';
import type { Store } from '../store/store.js';
import type { AlertService } from './alerts.js';
import type { LatestPositions } from './latest.js';

const SWEEP_BATCH = 500;
/** Watches whose last write this node remembers; beyond it the oldest are forgotten (and written again). */
const MAX_REMEMBERED = 100_000;
/** Written at once when this many watches wait, without waiting for `flushMs`. */
const FLUSH_ROWS = 1_000;

export class WatchLiveness {
  private readonly written = new Map<string, number>();
  /** Heard and not written yet: the newest hearing of each watch. */
  private readonly pending = new Map<string, { familyId: string; at: number }>();
  private flushTimer: NodeJS.Timeout | undefined;
  /** The last write started; writes run one after another, so they land in the order heard. */
  private writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly deps: {
      store: Store;
      devices: DeviceDirectory;
      latest: LatestPositions;
      alerts: AlertService;
      clock: () => number;
      onError: (err: unknown, what: string) => void;
    },
    private readonly opts: { silenceMs: number; writeEveryMs: number; flushMs: number },
  ) {}

  /** The watch was heard at `at`; written unless this node wrote it very recently. Never throws. */
  heard(deviceId: string, familyId: string, at: number): void {
    const last = this.written.get(deviceId);
    if (last !== undefined && at - last < this.opts.writeEveryMs && at >= last) return;
    this.written.delete(deviceId);
    this.written.set(deviceId, at);
    if (this.written.size > MAX_REMEMBERED) this.written.delete(this.written.keys().next().value!);
    this.pending.set(deviceId, { familyId, at });
    if (this.pending.size >= FLUSH_ROWS) void this.flush();
    else if (!this.flushTimer) {
      this.flushTimer = setTimeout(() => void this.flush(), this.opts.flushMs);
      this.flushTimer.unref();
    }
  }

  /** Writes what was heard and not written yet; resolves once it (and every earlier write) is done. Never throws. */
  flush(): Promise<void> {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    if (this.pending.size === 0) return this.writing;
    const batch = [...this.pending].map(([deviceId, e]) => ({ deviceId, ...e }));
    this.pending.clear();
    this.writing = this.writing.then(() =>
      this.deps.store.liveness.heardMany(batch).catch((err: unknown) => {
        // Written again when next heard.
        for (const e of batch) if (this.written.get(e.deviceId) === e.at) this.written.delete(e.deviceId);
        this.deps.onError(err, 'recording watches heard');
      }),
    );
    return this.writing;
  }

  /** Raises `offline` for each watch silent for the silence window, once per silence; returns how many. */
  async sweep(): Promise<number> {
    // A watch heard a moment ago and not written yet would look silent.
    await this.flush();
    const now = this.deps.clock();
    let raised = 0;
    for (const row of await this.deps.store.liveness.silentSince(now - this.opts.silenceMs, SWEEP_BATCH)) {
      const device = await this.deps.devices.get(row.device_id);
      if (device?.familyId !== row.family_id) {
        // Unbound, or bound elsewhere since: not this family's silence.
        if (!device?.familyId) await this.deps.store.liveness.forget(row.device_id);
        continue;
      }
      if (!(await this.deps.store.liveness.claimOffline(row.device_id, row.heard_at))) continue;
      // The last position only while the family may see it; with location off, none.
      const latest = device.permissions.location
        ? await this.deps.latest.get(row.device_id, row.family_id, device.sharingSince)
        : undefined;
      await this.deps.alerts.raise({
        familyId: row.family_id,
        deviceId: row.device_id,
        type: 'offline',
        ts: now,
        ...(latest ? { lat: latest.event.lat, lng: latest.event.lng } : {}),
      });
      raised++;
    }
    return raised;
  }

  /** The watch left its family (told on every node): what this node has not written of it is dropped. */
  drop(deviceId: string): void {
    this.written.delete(deviceId);
    this.pending.delete(deviceId);
  }

  /** The watch left its family: nothing to watch for any more. */
  async forget(deviceId: string): Promise<void> {
    this.drop(deviceId);
    // A write that holds the watch lands first, then the row goes.
    await this.writing;
    await this.deps.store.liveness.forget(deviceId);
  }
}
