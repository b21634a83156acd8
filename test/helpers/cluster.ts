// Shared set-up of the cluster tests: an empty Redis database per scenario, the environment of one
// hub node, and a cluster of two in-process hubs.
import { createClient } from 'redis';
import { freshDatabaseUrl } from './databases.js';
import { PROVISIONING_KEY, startHub, type TestHub } from './hub.js';

/** A Redis database of its own for a test file, so files running at once do not meet. */
export const redisUrl = (db: number) => `${process.env.HUB_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'}/${db}`;

export async function emptyRedis(url: string): Promise<void> {
  const redis = createClient({ url });
  await redis.connect();
  await redis.flushDb();
  await redis.quit();
}

/** The environment of one cluster node; `extra` adds or overrides variables. */
export function nodeEnv(
  id: string,
  databaseUrl: string,
  redis: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    HUB_NODE_ID: id,
    DATABASE_URL: databaseUrl,
    REDIS_URL: redis,
    HUB_NODE_HEARTBEAT_MS: '1000',
    HUB_JWT_SECRET: 'cluster-test-secret-0123456789-0123456789',
    HUB_FIELD_KEY: Buffer.alloc(32, 3).toString('base64'),
    HUB_PROVISIONING_KEY: PROVISIONING_KEY,
    HUB_DATA_DIR: `/tmp/hub-cluster-${id}-${process.pid}`,
    HUB_SOCKET_RATE_POINTS: '10000',
    HUB_BUDGET_SCALE: '1000',
    MEDIASOUP_WORKERS: '0',
    HUB_LOG_LEVEL: 'info',
    ...extra,
  };
}

export interface TwoHubs {
  a: TestHub;
  b: TestHub;
  /** Closes both hubs and drops their database. */
  stop(): Promise<void>;
}

/**
 * Two hubs in this process, one cluster: the Redis backplane on database `redisDb` (emptied first,
 * a database of the calling file's own) and one fresh PostgreSQL database. Nodes are named
 * `<name>-a` and `<name>-b`; `env(node)` adds variables for one of them.
 */
export async function startTwoHubs(
  redisDb: number,
  name: string,
  env: (node: 'a' | 'b') => Record<string, string> = () => ({}),
): Promise<TwoHubs> {
  const redis = redisUrl(redisDb);
  await emptyRedis(redis);
  const db = await freshDatabaseUrl('postgres');
  const start = (node: 'a' | 'b') =>
    startHub({
      databaseUrl: db.url,
      redisUrl: redis,
      env: { HUB_NODE_ID: `${name}-${node}`, HUB_NODE_HEARTBEAT_MS: '1000', HUB_SOCKET_RATE_POINTS: '10000', ...env(node) },
    });
  const a = await start('a');
  const b = await start('b');
  return {
    a,
    b,
    async stop() {
      await a.close();
      await b.close();
      await db.drop();
    },
  };
}
