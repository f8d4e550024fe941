import { createProbot, type Probot } from "probot";

/**
 * The environment Probot is built from, less REDIS_URL: given one, Probot clusters its request
 * throttling in that Redis (Bottleneck, keys outside SHERIFF_PREFIX, shared by every deployment on
 * the server), and a client the cluster dropped after an event-loop stall is never registered again,
 * so every later token request fails. Without it Probot throttles and retries in this process.
 */
export function probotEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { REDIS_URL: _redisUrl, ...rest } = env;
  return rest;
}

/** The app's Probot from the environment (APP_ID, PRIVATE_KEY, WEBHOOK_SECRET, GHE_HOST, LOG_LEVEL...). */
export function createSheriffProbot(env: NodeJS.ProcessEnv = process.env): Probot {
  return createProbot({ env: probotEnv(env) });
}
