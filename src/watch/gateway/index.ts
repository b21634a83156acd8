// The TCP watch gateway: listeners (plain TCP, optional TLS), the watches connected to this node
// (newest connection per watch wins, here and across nodes), and the relay that brings commands
// and family messages emitted on any node to the connection that holds the watch. A transport:
// everything a watch does goes through the use cases in src/services.ts.
import type { Server } from 'node:net';
import type { Config } from '../../config.js';
import type { WatchRelayMessage } from '../../contract/events.js';
import type { Services } from '../../services.js';
import { WatchConnection, type GatewayContext } from './connection.js';
import { deliverCommand, deliverMessage, replayUnread } from './downlink.js';
import { listen, type ListenerSpec } from './listener.js';
import { GatewayMetrics } from './metrics.js';
import { handleUplink } from './uplink.js';

export interface WatchPorts {
  tcp: number | null;
  tls: number | null;
}

export interface WatchGateway {
  /** Starts the configured listeners; `ephemeral` binds port 0 instead of the configured ports (tests). */
  listen(host: string, ephemeral: boolean): Promise<WatchPorts>;
  readonly ports: WatchPorts;
  /** Watches connected to this node. */
  readonly size: number;
  /** Stops accepting and closes every watch connection (they reconnect to another node). */
  drain(): Promise<void>;
  close(): Promise<void>;
}

/** Unregistered IDs remembered, so a scanner costs no store read per connection. */
const UNKNOWN_CACHE = 10_000;
const UNKNOWN_TTL_MS = 60_000;

export function createWatchGateway(services: Services, config: Config): WatchGateway {
  const logger = services.logger.child({ component: 'watch-gateway' });
  const metrics = new GatewayMetrics(services.metrics.registry);
  const live = new Map<string, WatchConnection>();
  const replacements = new Map<string, number[]>();
  const all = new Set<WatchConnection>();
  const unknown = new Map<string, number>();
  const servers: Server[] = [];
  const ports: WatchPorts = { tcp: null, tls: null };
  const w = config.watch;

  const noteReplacement = (deviceId: string) => {
    metrics.replaced.inc();
    const now = Date.now();
    const recent = (replacements.get(deviceId) ?? []).filter((t) => t > now - w.flapWindowMs);
    recent.push(now);
    replacements.set(deviceId, recent);
    if (recent.length >= w.flapReplacements) {
      metrics.flaps.inc();
      logger.warn(
        { deviceId, replacements: recent.length, windowS: w.flapWindowMs / 1000 },
        'watch connection flapping: two devices using one watch ID, or a watch reconnecting in a loop',
      );
      replacements.set(deviceId, []);
    }
    if (replacements.size > 10_000) replacements.clear();
  };

  const ctx: GatewayContext = {
    services,
    config: w,
    maxFutureMs: config.location.maxFutureS * 1000,
    lowBatteryPercent: config.location.lowBatteryPercent,
    metrics,
    logger,
    async identify(watchId) {
      const seen = unknown.get(watchId);
      if (seen !== undefined && seen > Date.now()) return undefined;
      const id = await services.provisioning.watchOf(watchId);
      if (!id) {
        if (unknown.size >= UNKNOWN_CACHE) unknown.clear();
        unknown.set(watchId, Date.now() + UNKNOWN_TTL_MS);
      } else unknown.delete(watchId);
      return id;
    },
    claimed(conn) {
      if (conn.isClosed) return;
      const id = conn.deviceId!;
      const older = live.get(id);
      live.set(id, conn);
      if (older && older !== conn) {
        noteReplacement(id);
        older.close('replaced');
      }
      // Any other node holding an older connection lets it go.
      services.backplane.relayToWatches({ type: 'claim', deviceId: id, node: services.backplane.nodeId, connection: conn.id });
      // Queued now, before any message the relay can bring to this connection.
      replayUnread(conn);
    },
    handleFrame: handleUplink,
    released(conn) {
      if (conn.deviceId && live.get(conn.deviceId) === conn) live.delete(conn.deviceId);
    },
  };

  services.backplane.onWatchRelay((msg: WatchRelayMessage) => {
    if (msg.type === 'command') {
      const conn = live.get(msg.deviceId);
      if (conn) deliverCommand(conn, msg.command);
    } else if (msg.type === 'chat') {
      for (const conn of live.values()) if (conn.familyId === msg.familyId) deliverMessage(conn, msg.message);
    } else {
      const conn = live.get(msg.deviceId);
      if (conn && conn.id !== msg.connection) {
        noteReplacement(msg.deviceId);
        conn.close('replaced');
      }
    }
  });

  const perAddress = new Map<string, number>();
  const accept: ListenerSpec['onSocket'] = (socket, listener) => {
    const ip = socket.remoteAddress ?? 'unknown';
    const held = perAddress.get(ip) ?? 0;
    if (held >= w.maxConnectionsPerIp) {
      metrics.closed.inc({ reason: 'too_many_from_address' });
      socket.destroy();
      return;
    }
    perAddress.set(ip, held + 1);
    const conn = new WatchConnection(socket, ctx, listener);
    all.add(conn);
    conn.whenClosed(() => {
      all.delete(conn);
      const n = (perAddress.get(ip) ?? 1) - 1;
      if (n <= 0) perAddress.delete(ip);
      else perAddress.set(ip, n);
    });
  };

  let drained: Promise<void> | undefined;
  return {
    ports,
    get size() {
      return live.size;
    },
    async listen(host, ephemeral) {
      // A listen error names the variable to change (main.ts explains it in one line).
      const named = (variable: string, port: number) => (err: unknown) => {
        throw Object.assign(err as Error, { watchVariable: variable, watchPort: port });
      };
      if (w.tcpPort !== 0) {
        const port = ephemeral ? 0 : w.tcpPort;
        const s = await listen({ kind: 'tcp', host, port, onSocket: accept }).catch(named('HUB_WATCH_TCP_PORT', port));
        servers.push(s.server);
        ports.tcp = s.port;
      }
      if (w.tls) {
        const port = ephemeral ? 0 : w.tls.port;
        const s = await listen({ kind: 'tls', host, port, tls: w.tls, onSocket: accept }).catch(
          named('HUB_WATCH_TLS_PORT', port),
        );
        servers.push(s.server);
        ports.tls = s.port;
      }
      if (servers.length > 0) logger.info({ tcp: ports.tcp, tls: ports.tls }, 'watch gateway listening');
      return { ...ports };
    },
    drain: () =>
      (drained ??= (async () => {
        for (const s of servers) s.close();
        const open = [...all];
        // What they sent is handled (briefly), then they are let go: their next connection goes to another node.
        const handled = () =>
          Promise.race([Promise.all(open.map((c) => c.idle())), new Promise((r) => setTimeout(r, 2000).unref())]);
        await handled();
        for (const c of open) c.close('draining');
        // Closing queues each watch's going offline behind its frames: told before the node goes on closing.
        await handled();
      })()),
    async close() {
      await this.drain();
      await Promise.all(servers.map((s) => new Promise<void>((resolve) => (s.listening ? s.close(() => resolve()) : resolve()))));
    },
  };
}
