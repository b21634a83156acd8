// Prometheus metrics of one hub. Each hub has its own registry (tests run several in one process).
// Labels never carry ids or personal data: event names come from the contract's fixed list.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Media } from './media/workers.js';

export class HubMetrics {
  readonly registry = new Registry();
  readonly connections = new Gauge({
    name: 'hub_socket_connections',
    help: 'Connected sockets on this node',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  readonly connectRejections = new Counter({
    name: 'hub_socket_connect_rejected_total',
    help: 'Socket handshakes refused',
    labelNames: ['code'] as const,
    registers: [this.registry],
  });
  readonly events = new Counter({
    name: 'hub_socket_events_total',
    help: 'Inbound socket events by name and outcome (ok, an error code, or no_ack)',
    labelNames: ['event', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly eventDuration = new Histogram({
    name: 'hub_socket_event_duration_seconds',
    help: 'Time from an inbound event to its ack',
    labelNames: ['event'] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  readonly httpDuration = new Histogram({
    name: 'hub_http_request_duration_seconds',
    help: 'HTTP request latency by route pattern and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });

  readonly retentionLastRun = new Gauge({
    name: 'hub_retention_last_run_timestamp_seconds',
    help: 'When the retention purge last finished',
    registers: [this.registry],
  });
  readonly mediaStored = new Counter({
    name: 'hub_media_stored_bytes_total',
    help: 'Bytes of voice notes and photos stored',
    registers: [this.registry],
  });
  readonly mediaRefused = new Counter({
    name: 'hub_media_refused_total',
    help: 'Voice notes and photos refused by the storage quota or the upload rate, by reason',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly retentionRemoved = new Counter({
    name: 'hub_retention_removed_total',
    help: 'Rows removed by the retention purge, by data class',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  /** Call and media gauges, read when scraped. */
  /** Voice conversions of this process's ffmpeg (shared by the hubs of one process). */
  observeAudio(audio: {
    load(): Record<'running' | 'waiting' | 'started', number>;
    failureCounts(): Record<string, number>;
  }): void {
    const registers = [this.registry];
    new Gauge({
      name: 'hub_audio_conversions',
      help: 'Voice conversions (ffmpeg): running and waiting now, started since the process began',
      labelNames: ['what'] as const,
      registers,
      collect() {
        for (const [what, n] of Object.entries(audio.load())) this.set({ what }, n);
      },
    });
    new Gauge({
      name: 'hub_audio_conversion_failures',
      help: 'Voice conversions refused or failed since the process began, by reason',
      labelNames: ['reason'] as const,
      registers,
      collect() {
        for (const [reason, n] of Object.entries(audio.failureCounts())) this.set({ reason }, n);
      },
    });
  }

  observeCalls(calls: { stats(): Record<'calls' | 'transports' | 'producers' | 'consumers', number> }, media: Media): void {
    const registers = [this.registry];
    new Gauge({
      name: 'hub_calls',
      help: 'Calls, transports, producers and consumers on this node',
      labelNames: ['what'] as const,
      registers,
      collect() {
        for (const [what, n] of Object.entries(calls.stats())) this.set({ what }, n);
      },
    });
    if (!media.available) return;
    const cpu = new Gauge({
      name: 'hub_media_worker_cpu_seconds',
      help: 'CPU time used by each mediasoup worker',
      labelNames: ['pid'] as const,
      registers,
    });
    new Gauge({
      name: 'hub_media_worker_rss_bytes',
      help: 'Peak resident memory of each mediasoup worker',
      labelNames: ['pid'] as const,
      registers,
      async collect() {
        for (const u of await media.usage()) {
          this.set({ pid: String(u.pid) }, u.rssBytes);
          cpu.set({ pid: String(u.pid) }, u.cpuSeconds);
        }
      },
    });
  }
}
