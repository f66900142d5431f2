// Configuration from the environment, validated once at start. A bad value throws a
// ConfigError naming the variable; main.ts prints that one line and exits with code 1.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import type { LoginThrottleSettings } from './auth/login-throttle.ts';

export class ConfigError extends Error {}

export interface Config {
  port: number;
  host: string;
  databaseUrl: string | null;
  /** How long opening a PostgreSQL connection may take before requests answer UNAVAILABLE. */
  databaseConnectTimeoutMs: number;
  dataDir: string;
  mediaDir: string;
  adminToken: string | null;
  jwtSecret: string;
  logLevel: string;
  nodeEnv: string;
  graphiql: boolean;
  redisUrl: string | null;
  /** Live events: events one subscriber may have buffered before its stream ends (RATE_LIMITED). */
  subscriptionBufferEvents: number;
  /** Live events: safety poll of the event log in case a wake-up was lost; 0 turns it off. */
  eventPollMs: number;
  /** WebSocket keep-alive ping interval. */
  wsKeepAliveMs: number;
  /**
   * How long a principal (permissions, groups, flags) and an API token are trusted from memory,
   * and how often open event streams re-check their credential; an access signal cuts it short.
   */
  accessRecheckMs: number;
  /** Prometheus timing of every resolver (costly on wide reads); operation-level metrics are always on. */
  metricsResolvers: boolean;
  /** Operations costing `cost` or more execute at most `concurrency` at a time (0: no limit). */
  heavyOperations: { cost: number; concurrency: number };
  /**
   * Whether V8 scavenges the young generation with helper threads (GC_PARALLEL_SCAVENGE). `auto`
   * turns them off on two CPUs or fewer, where they compete with the main thread and PostgreSQL.
   */
  parallelScavenge: boolean;
  /** Bearer token a /metrics scrape needs (METRICS_TOKEN); null: loopback only, and not at all in production. */
  metricsToken: string | null;
  /** Distinct operation names (and error paths) /metrics labels keep before counting the rest as `other`. */
  metricsOperationNames: number;
  maxSessionDataBytes: number;
  /** Object keys one session data patch may carry, counted at every level (MAX_PATCH_KEYS). */
  maxPatchKeys: number;
  maxUploadBytes: number;
  maxUploadFiles: number;
  maxBodyBytes: number;
  /** JSON values (session data, event data, any JSON argument) nest at most this deep. */
  maxJsonDepth: number;
  /** Operations one WebSocket may run at once (subscriptions included). */
  maxSubscriptionsPerSocket: number;
  /** WebSocket connections one client address may hold open. */
  maxSocketsPerClient: number;
  /** Whether MAX_SOCKETS_PER_CLIENT also counts loopback clients (this machine: a local proxy, a load test). */
  socketCapLoopback: boolean;
  maxAnnotationBytes: number;
  /** Labels one media item may carry (MAX_LABELS_PER_MEDIA); each is 1 to 200 characters. */
  maxLabelsPerMedia: number;
  /** Introspection (__schema, __type) allowed; off by default in production (INTROSPECTION). */
  introspection: boolean;
  accessTokenTtlSeconds: number;
  refreshTokenTtlSeconds: number;
  signedUrlTtlSeconds: number;
  /** Login throttling (src/auth/login-throttle.ts): failed logins counted per username and client address, and per address. */
  loginThrottle: LoginThrottleSettings;
  /** Origin prefixed to signed media URLs (PUBLIC_URL); null: the address the server listens on. */
  publicUrl: string | null;
  /** Origins whose pages may call the API and read media (CORS_ORIGINS): '*' (without credentials) or a list, empty for none. */
  corsOrigins: '*' | readonly string[];
  demo: boolean;
  /** S3-compatible media storage; null keeps media in MEDIA_DIR. */
  s3: S3Config | null;
  /** An upload still running after this long is abandoned: the sweeper removes its row and bytes. */
  uploadTimeoutMs: number;
  /** How often the sweeper runs (also once at start); 0 turns it off. */
  uploadSweepMs: number;
  /** How long SIGTERM/SIGINT waits for in-flight requests before closing what is left. */
  shutdownTimeoutMs: number;
  webhooks: WebhookConfig;
}

/** Event delivery to webhooks (src/webhooks/). */
export interface WebhookConfig {
  /** Attempts at one event before the endpoint is paused. */
  maxAttempts: number;
  /** Bound of one attempt: connect, request, answer. */
  timeoutMs: number;
  /** Delay before the first retry; each further retry waits 4 times longer (at most an hour), with jitter. */
  backoffMs: number;
  /** How long an instance owns an endpoint without renewing; a crashed instance's endpoints move on after it. */
  leaseMs: number;
  /** Allow private, loopback and link-local receivers (tests, on-premise). */
  allowPrivate: boolean;
  /** Key material the webhook secrets are encrypted with (JWT_SECRET unless set). */
  secretKey: string;
  /** Days the delivery log is kept; 0 keeps it forever. */
  deliveryRetentionDays: number;
}

export interface S3Config {
  /** null: AWS S3 itself (the SDK resolves the endpoint from the region). */
  endpoint: string | null;
  bucket: string;
  region: string;
  /** null: the SDK's default credential chain (environment, profile, instance role). */
  credentials: { accessKeyId: string; secretAccessKey: string } | null;
  forcePathStyle: boolean;
}

type Env = Record<string, string | undefined>;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function integer(env: Env, name: string, fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be an integer between ${min} and ${max}, got "${raw}"`);
  }
  return value;
}

function flag(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (['true', '1', 'yes'].includes(raw.toLowerCase())) return true;
  if (['false', '0', 'no'].includes(raw.toLowerCase())) return false;
  throw new ConfigError(`${name} must be true or false, got "${raw}"`);
}

/** A flag that may also be `auto` (the default), which means `auto`'s value. */
function autoFlag(env: Env, name: string, auto: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '' || raw.toLowerCase() === 'auto') return auto;
  if (['true', '1', 'yes'].includes(raw.toLowerCase())) return true;
  if (['false', '0', 'no'].includes(raw.toLowerCase())) return false;
  throw new ConfigError(`${name} must be auto, true or false, got "${raw}"`);
}

function url(env: Env, name: string, protocols: string[]): string | null {
  const raw = env[name];
  if (raw === undefined || raw === '') return null;
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new ConfigError(`${name} must be a URL (${protocols.join(', ')}), got "${raw}"`);
  }
  if (!protocols.includes(parsed.protocol)) {
    throw new ConfigError(`${name} must use ${protocols.join(' or ')}, got "${parsed.protocol}"`);
  }
  return raw;
}

/** `*`, `none`, or comma-separated origins (`https://app.example.com`), each normalised. */
function corsOrigins(env: Env, production: boolean): '*' | readonly string[] {
  const raw = env.CORS_ORIGINS?.trim();
  if (!raw) return production ? [] : '*';
  if (raw === '*') return '*';
  if (raw === 'none') return [];
  return raw.split(',').map((entry) => {
    const origin = entry.trim();
    let parsed: URL | null = null;
    try {
      parsed = new URL(origin);
    } catch {
      // reported below
    }
    if (!parsed || !['http:', 'https:'].includes(parsed.protocol) || parsed.origin !== origin.replace(/\/$/, '')) {
      throw new ConfigError(`CORS_ORIGINS must be *, none or comma-separated origins like https://app.example.com, got "${origin}"`);
    }
    return parsed.origin;
  });
}

/** Embedded mode keeps a generated JWT secret in DATA_DIR so tokens survive restarts. */
function embeddedJwtSecret(dataDir: string): string {
  const file = join(dataDir, 'jwt-secret');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(dataDir, { recursive: true });
  const secret = randomBytes(32).toString('base64url');
  writeFileSync(file, secret, { mode: 0o600 });
  return secret;
}

/** S3_BUCKET chooses the S3 driver; S3_ENDPOINT points it at an S3-compatible server. */
function s3Config(env: Env): S3Config | null {
  const endpoint = url(env, 'S3_ENDPOINT', ['http:', 'https:']);
  const bucket = env.S3_BUCKET || null;
  const accessKeyId = env.S3_ACCESS_KEY_ID || null;
  const secretAccessKey = env.S3_SECRET_ACCESS_KEY || null;
  if (!bucket) {
    const stray = ['S3_ENDPOINT', 'S3_ACCESS_KEY_ID', 'S3_SECRET_ACCESS_KEY'].find((name) => env[name]);
    if (stray) throw new ConfigError(`S3_BUCKET is required when ${stray} is set`);
    return null;
  }
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
    throw new ConfigError(`S3_BUCKET must be a valid bucket name (3-63 lowercase letters, digits, dots, hyphens), got "${bucket}"`);
  }
  if (!accessKeyId !== !secretAccessKey) {
    throw new ConfigError('S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY must be set together');
  }
  const region = env.S3_REGION || 'us-east-1';
  if (!/^[a-z0-9-]+$/.test(region)) throw new ConfigError(`S3_REGION must look like us-east-1, got "${region}"`);
  return {
    endpoint,
    bucket,
    region,
    credentials: accessKeyId && secretAccessKey ? { accessKeyId, secretAccessKey } : null,
    forcePathStyle: flag(env, 'S3_FORCE_PATH_STYLE', endpoint !== null),
  };
}

function webhookConfig(env: Env, jwtSecret: string): WebhookConfig {
  const timeoutMs = integer(env, 'WEBHOOK_TIMEOUT_MS', 10_000, 100, 5 * 60_000);
  const leaseMs = integer(env, 'WEBHOOK_LEASE_MS', 30_000, 1000, 60 * 60_000);
  // The owner renews its lease before an attempt that could outlast it, so it must fit one attempt and a renewal.
  if (leaseMs < timeoutMs + 2000) {
    throw new ConfigError(`WEBHOOK_LEASE_MS must be at least WEBHOOK_TIMEOUT_MS + 2000 (${timeoutMs + 2000}), got "${leaseMs}"`);
  }
  const secretKey = env.WEBHOOK_SECRET_KEY || jwtSecret;
  if (secretKey.length < 32) throw new ConfigError('WEBHOOK_SECRET_KEY must be at least 32 characters');
  return {
    maxAttempts: integer(env, 'WEBHOOK_MAX_ATTEMPTS', 10, 1, 100),
    timeoutMs,
    backoffMs: integer(env, 'WEBHOOK_BACKOFF_MS', 1000, 1, 60 * 60_000),
    leaseMs,
    allowPrivate: flag(env, 'WEBHOOK_ALLOW_PRIVATE', false),
    secretKey,
    deliveryRetentionDays: integer(env, 'WEBHOOK_DELIVERY_RETENTION_DAYS', 7, 0, 3650),
  };
}

export function loadConfig(env: Env = process.env): Config {
  const nodeEnv = env.NODE_ENV || 'development';
  const production = nodeEnv === 'production';
  const databaseUrl = url(env, 'DATABASE_URL', ['postgres:', 'postgresql:']);
  const dataDir = resolve(env.DATA_DIR || './.data');
  const logLevel = env.LOG_LEVEL || 'info';
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got "${logLevel}"`);
  }
  const demo = flag(env, 'DEMO', !databaseUrl && !production);
  // The demo hands out an admin token: it stays on this machine unless HOST says otherwise.
  const host = env.HOST || (demo ? '127.0.0.1' : '0.0.0.0');
  let jwtSecret = env.JWT_SECRET || '';
  if (jwtSecret && jwtSecret.length < 32) {
    throw new ConfigError('JWT_SECRET must be at least 32 characters');
  }
  if (!jwtSecret) {
    if (production) throw new ConfigError('JWT_SECRET is required when NODE_ENV=production');
    jwtSecret = databaseUrl ? randomBytes(32).toString('base64url') : embeddedJwtSecret(dataDir);
  }
  const metricsToken = env.METRICS_TOKEN || null;
  if (metricsToken !== null && metricsToken.length < 16) {
    throw new ConfigError('METRICS_TOKEN must be at least 16 characters');
  }
  const adminToken = env.ADMIN_TOKEN || null;
  if (adminToken !== null && adminToken.length < 16) {
    throw new ConfigError('ADMIN_TOKEN must be at least 16 characters');
  }
  const accessTokenTtlSeconds = integer(env, 'ACCESS_TOKEN_TTL', 15 * 60, 1);
  const refreshTokenTtlSeconds = integer(env, 'REFRESH_TOKEN_TTL', 30 * 24 * 3600, 1);
  // A revoked login is remembered while its refresh tokens have not expired: its access tokens must not outlive them.
  if (refreshTokenTtlSeconds < accessTokenTtlSeconds) {
    throw new ConfigError(`REFRESH_TOKEN_TTL must be at least ACCESS_TOKEN_TTL (${accessTokenTtlSeconds}), got "${refreshTokenTtlSeconds}"`);
  }
  return {
    port: integer(env, 'PORT', 4000, 0, 65535),
    host,
    databaseUrl,
    databaseConnectTimeoutMs: integer(env, 'DATABASE_CONNECT_TIMEOUT_MS', 5_000, 100, 120_000),
    dataDir,
    mediaDir: resolve(env.MEDIA_DIR || join(dataDir, 'media')),
    adminToken,
    jwtSecret,
    logLevel,
    nodeEnv,
    graphiql: flag(env, 'GRAPHIQL', !production),
    redisUrl: url(env, 'REDIS_URL', ['redis:', 'rediss:']),
    subscriptionBufferEvents: integer(env, 'SUBSCRIPTION_BUFFER_EVENTS', 1000, 1),
    eventPollMs: integer(env, 'EVENT_POLL_MS', 5000, 0),
    wsKeepAliveMs: integer(env, 'WS_KEEPALIVE_MS', 12_000, 0),
    accessRecheckMs: integer(env, 'ACCESS_RECHECK_MS', 10_000, 100, 3_600_000),
    metricsResolvers: flag(env, 'METRICS_RESOLVERS', false),
    heavyOperations: {
      cost: integer(env, 'HEAVY_OPERATION_COST', 1000, 1),
      concurrency: integer(env, 'HEAVY_OPERATION_CONCURRENCY', 4, 0, 10_000),
    },
    parallelScavenge: autoFlag(env, 'GC_PARALLEL_SCAVENGE', availableParallelism() > 2),
    metricsToken,
    metricsOperationNames: integer(env, 'METRICS_OPERATION_NAMES', 100, 0, 10_000),
    maxSessionDataBytes: integer(env, 'MAX_SESSION_DATA_BYTES', 1024 * 1024, 1),
    maxPatchKeys: integer(env, 'MAX_PATCH_KEYS', 10_000, 1),
    maxUploadBytes: integer(env, 'MAX_UPLOAD_BYTES', 2 * 1024 * 1024 * 1024, 1),
    maxUploadFiles: integer(env, 'MAX_UPLOAD_FILES', 1, 1, 100),
    maxBodyBytes: integer(env, 'MAX_BODY_BYTES', 2 * 1024 * 1024, 1024),
    maxJsonDepth: integer(env, 'MAX_JSON_DEPTH', 64, 1, 1000),
    maxSubscriptionsPerSocket: integer(env, 'MAX_SUBSCRIPTIONS_PER_SOCKET', 100, 1),
    maxSocketsPerClient: integer(env, 'MAX_SOCKETS_PER_CLIENT', 100, 1),
    socketCapLoopback: flag(env, 'SOCKET_CAP_LOOPBACK', false),
    maxAnnotationBytes: integer(env, 'MAX_ANNOTATION_BYTES', 256 * 1024, 1),
    maxLabelsPerMedia: integer(env, 'MAX_LABELS_PER_MEDIA', 100, 1, 10_000),
    introspection: flag(env, 'INTROSPECTION', !production),
    accessTokenTtlSeconds,
    refreshTokenTtlSeconds,
    signedUrlTtlSeconds: integer(env, 'SIGNED_URL_TTL', 15 * 60, 1),
    loginThrottle: {
      maxFailures: integer(env, 'LOGIN_MAX_FAILURES', 5, 1, 1_000_000),
      failureWindowSeconds: integer(env, 'LOGIN_FAILURE_WINDOW', 15 * 60, 1, 365 * 24 * 3600),
      maxFailuresPerAddress: integer(env, 'LOGIN_MAX_FAILURES_PER_ADDRESS', 100, 1, 1_000_000),
      addressWindowSeconds: 24 * 3600,
    },
    publicUrl: url(env, 'PUBLIC_URL', ['http:', 'https:'])?.replace(/\/+$/, '') ?? null,
    corsOrigins: corsOrigins(env, production),
    demo,
    s3: s3Config(env),
    uploadTimeoutMs: integer(env, 'UPLOAD_TIMEOUT_MS', 60 * 60_000, 1),
    uploadSweepMs: integer(env, 'UPLOAD_SWEEP_MS', 5 * 60_000, 0),
    shutdownTimeoutMs: integer(env, 'SHUTDOWN_TIMEOUT_MS', 10_000, 0, 10 * 60_000),
    webhooks: webhookConfig(env, jwtSecret),
  };
}
