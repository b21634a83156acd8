// The gateway's Prometheus metrics, on the hub's registry. Labels are fixed words (frame kinds,
// close reasons), never a watch ID or an address.
import { Counter, Gauge, type Registry } from 'prom-client';

export type CloseReason =
  | 'unknown_id'
  | 'id_changed'
  | 'replaced'
  | 'frame_rate'
  | 'byte_rate'
  | 'backlog'
  | 'idle'
  | 'hello_timeout'
  | 'too_many_from_address'
  | 'draining'
  | 'peer_closed'
  | 'error';

export class GatewayMetrics {
  readonly connections: Gauge<'listener'>;
  readonly frames: Counter<'kind' | 'outcome'>;
  readonly closed: Counter<'reason'>;
  readonly unknownIds: Counter;
  readonly replaced: Counter;
  readonly flaps: Counter;
  readonly undeliverable: Counter<'reason'>;
  readonly garbageBytes: Counter;
  readonly oversizeFrames: Counter;

  constructor(registry: Registry) {
    const registers = [registry];
    this.connections = new Gauge({
      name: 'hub_watch_connections',
      help: 'Open TCP watch connections on this node, by listener (tcp, tls)',
      labelNames: ['listener'] as const,
      registers,
    });
    this.frames = new Counter({
      name: 'hub_watch_frames_total',
      help: 'Frames from TCP watches by kind and outcome (ok, refused, bad, consent)',
      labelNames: ['kind', 'outcome'] as const,
      registers,
    });
    this.closed = new Counter({
      name: 'hub_watch_closed_total',
      help: 'TCP watch connections closed, by reason',
      labelNames: ['reason'] as const,
      registers,
    });
    this.unknownIds = new Counter({
      name: 'hub_watch_unknown_id_total',
      help: 'Connections closed because their first frame named no registered watch',
      registers,
    });
    this.replaced = new Counter({
      name: 'hub_watch_replaced_total',
      help: 'Watch connections replaced by a newer one for the same watch',
      registers,
    });
    this.flaps = new Counter({
      name: 'hub_watch_flaps_total',
      help: 'Times a watch was replaced HUB_WATCH_FLAP_REPLACEMENTS times within HUB_WATCH_FLAP_WINDOW_S',
      registers,
    });
    this.undeliverable = new Counter({
      name: 'hub_watch_undeliverable_total',
      help: 'Family messages a TCP watch could not be given, by reason',
      labelNames: ['reason'] as const,
      registers,
    });
    this.garbageBytes = new Counter({
      name: 'hub_watch_garbage_bytes_total',
      help: 'Bytes from TCP watches outside any frame (skipped)',
      registers,
    });
    this.oversizeFrames = new Counter({
      name: 'hub_watch_oversize_frames_total',
      help: 'Frames over HUB_WATCH_MAX_FRAME_BYTES (dropped)',
      registers,
    });
  }
}
