import { Redis, type RedisOptions } from "ioredis";

/**
 * Everything Sheriff keeps in Redis lives under one prefix, so tests and several
 * deployments can share a server. BullMQ gets the same prefix for its queues.
 */
export interface RedisHandle {
  redis: Redis;
  prefix: string;
  key(...parts: string[]): string;
}

export function connectRedis(url: string, prefix: string, options: RedisOptions = {}): RedisHandle {
  const redis = new Redis(url, { maxRetriesPerRequest: null, lazyConnect: false, ...options });
  return { redis, prefix, key: (...parts) => [prefix, ...parts].join(":") };
}
