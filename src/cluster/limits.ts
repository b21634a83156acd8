// Rate limiters whose counters every node shares in a cluster (Redis), so a client cannot get a
// fresh budget by landing on another node; on a single node they live in memory.
import { type RateLimiterAbstract, RateLimiterMemory, RateLimiterRedis } from 'rate-limiter-flexible';
import type { RedisClientType } from 'redis';

export interface LimiterOptions {
  /** Names the budget (e.g. "login-account"), so limiters never share keys. */
  keyPrefix: string;
  points: number;
  durationS: number;
}

export type LimiterFactory = (o: LimiterOptions) => RateLimiterAbstract;

export const memoryLimiters: LimiterFactory = (o) =>
  new RateLimiterMemory({ keyPrefix: o.keyPrefix, points: o.points, duration: o.durationS });

/** Counters in Redis; while Redis is unreachable each node falls back to its own memory. */
export function redisLimiters(client: RedisClientType): LimiterFactory {
  return (o) =>
    new RateLimiterRedis({
      storeClient: client,
      useRedisPackage: true,
      keyPrefix: `hub:rl:${o.keyPrefix}`,
      points: o.points,
      duration: o.durationS,
      insuranceLimiter: memoryLimiters(o),
    });
}
