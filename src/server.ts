// buildServer(deps) -> { start, stop }: one HTTP server for GraphQL (Yoga), health checks,
// and the transports later issues add. Tests start it on port 0.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import { sql } from 'drizzle-orm';
import { NoSchemaIntrospectionCustomRule } from 'graphql';
import { createYoga, type YogaServerInstance } from 'graphql-yoga';
import type { Logger } from 'pino';
import { usePrometheus } from '@graphql-yoga/plugin-prometheus';
import { Authenticator } from './access/authenticate.ts';
import { AccessRegistry } from './access/registry.ts';
import { createLoginThrottle } from './auth/login-throttle.ts';
import type { Config } from './config.ts';
import type { DatabaseHandle } from './db/client.ts';
import { usePublishAfterCommit } from './events/after-commit.ts';
import { EventHub } from './events/hub.ts';
import type { Context } from './graphql/context.ts';
import { maskError, unavailableError, useSpecErrorCodes, useUnavailableStatus } from './graphql/errors.ts';
import { isDatabaseUnavailable, RETRY_AFTER_SECONDS } from './db/unavailable.ts';
import { Admission, admitted, HeavyOperations, useHeavyOperations } from './graphql/admission.ts';
import { edgeLimits, OPERATION_LIMITS, useEdgeValidation } from './graphql/edge-validation.ts';
import { useSharedEventExecution } from './graphql/events/shared-execution.ts';
import { schema } from './graphql/index.ts';
import { makeContext, type ContextBase } from './graphql/make-context.ts';
import { MEDIA_CONTENT_PATH, handleMediaDownload } from './http/downloads.ts';
import { answerClientError } from './http/client-error.ts';
import { useCompression } from './http/compression.ts';
import { handleCors } from './http/cors.ts';
import { graphiqlOptions } from './http/graphiql.ts';
import { GRAPHIQL_ASSET_PREFIX, renderGraphiQLPage, serveGraphiQLAsset } from './http/graphiql-page.ts';
import { countingUploads, createLogger, createMetrics, useOperationName, withRequestScope } from './http/observability.ts';
import { refuseSimplePostWithoutCsrfHeader } from './http/csrf.ts';
import { boundMetricLabels, metricsAccess } from './http/metrics.ts';
import { readBoundedBody } from './http/body-limit.ts';
import { sendJson } from './http/respond.ts';
import { createGraphQLWebSocket, PREBUILT_CONTEXT, type GraphQLWebSocket } from './http/ws.ts';
import { handleMultipartGraphQL, isMultipart, useUploadedOperations } from './http/uploads.ts';
import type { Services } from './services.ts';
import { createStorage } from './storage/index.ts';
import { webhookLag } from './domain/webhooks.ts';
import { backgroundDatabase } from './events/background-db.ts';
import { webhookEventSerialiser } from './graphql/webhooks/payload.ts';
import { WebhookDeliverer } from './webhooks/deliverer.ts';
import { UploadSweeper } from './domain/upload-sweep.ts';
import { createWebhookMetrics } from './webhooks/metrics.ts';

export interface ServerDeps {
  config: Config;
  database: DatabaseHandle;
  logger?: Logger;
  /** Demo mode: GraphiQL opens with this token in its Authorization header. */
  graphiqlToken?: string | null;
}

export interface RunningServer {
  url: string;
  port: number;
}

export interface GatewayServer {
  start(port?: number, host?: string): Promise<RunningServer>;
  /**
   * Graceful stop: refuse new connections, let in-flight requests (uploads, downloads,
   * queries) finish for up to `timeoutMs` (SHUTDOWN_TIMEOUT_MS), run the `onShutdown`
   * closers in order (WebSockets: close code 1001; the event listener), then end what is left.
   */
  stop(options?: { timeoutMs?: number }): Promise<void>;
  /** Registers a closer that stop() runs after the HTTP requests drained, in registration order. */
  onShutdown(closer: () => Promise<void> | void): void;
  yoga: YogaServerInstance<Record<string, unknown>, Context>;
  services: Services;
  base: ContextBase;
}

export { OPERATION_LIMITS } from './graphql/edge-validation.ts';

export async function buildServer(deps: ServerDeps): Promise<GatewayServer> {
  const { config, database } = deps;
  const logger = deps.logger ?? createLogger(config.logLevel);
  const metrics = createMetrics();
  const access = new AccessRegistry({ recheckMs: config.accessRecheckMs, logger });
  // Webhook delivery wakes whenever the hub has read new events; bodies are serialised by the schema.
  const webhooks = new WebhookDeliverer({
    database,
    logger,
    config: config.webhooks,
    metrics: createWebhookMetrics(metrics.registry, () => webhookLag(backgroundDatabase(database), null)),
    serialiser: (owner) => serialiseEvents(owner),
  });
  const events = new EventHub({
    database,
    access,
    logger,
    metrics,
    redisUrl: config.redisUrl,
    bufferSize: config.subscriptionBufferEvents,
    pollIntervalMs: config.eventPollMs,
    onRead: (rows) => webhooks.eventsRead(rows),
  });
  const auth = new Authenticator(config, access, () => events.database, logger);
  const login = createLoginThrottle(config, database, logger);
  const services: Services = {
    logger,
    metrics,
    access,
    auth,
    loginThrottle: login.throttle,
    events,
    webhooks,
    storage: countingUploads(createStorage(config), metrics),
  };
  const base: ContextBase = { db: database.db, config, services };
  // Abandoned uploads and unreferenced objects (src/domain/upload-sweep.ts).
  const sweeper = new UploadSweeper(
    { database, db: backgroundDatabase(database), storage: services.storage, uploadTimeoutMs: config.uploadTimeoutMs, logger },
    config.uploadSweepMs,
  );
  const serialiseEvents = webhookEventSerialiser({ ...base, db: backgroundDatabase(database) });

  // Heavy operations take turns (src/graphql/admission.ts).
  const heavyOperations = new HeavyOperations();
  const admission = config.heavyOperations.concurrency > 0 ? new Admission(config.heavyOperations.concurrency, metrics.heavyOperations) : null;

  const yoga = createYoga<Record<string, unknown>, Context>({
    schema,
    graphqlEndpoint: '/graphql',
    landingPage: false,
    graphiql: config.graphiql
      ? graphiqlOptions({ token: deps.graphiqlToken, db: database.db, production: config.nodeEnv === 'production' })
      : false,
    // GraphiQL's assets are served by the gateway itself, not a CDN: it works offline.
    renderGraphiQL: renderGraphiQLPage,
    // CORS_ORIGINS, for every route, in handle() (src/http/cors.ts).
    cors: false,
    multipart: false,
    // The body is read and bounded (MAX_BODY_BYTES) before Yoga sees it (src/http/body-limit.ts):
    // Yoga's own bound would pipe the buffered body through a stream once more.
    maxRequestBodySize: false,
    logging: false,
    maskedErrors: { maskError: (error) => maskError(error, (original) => logger.error({ err: original }, 'unexpected error')) },
    // WebSocket operations arrive with their context already built (src/http/ws.ts).
    context: (initial) =>
      (initial as Record<string, unknown>)[PREBUILT_CONTEXT] as Context ??
      makeContext(base, {
        authorization: initial.request.headers.get('authorization'),
        clientTimestamp: initial.request.headers.get('x-client-timestamp'),
        requestId: initial.request.headers.get('x-request-id'),
        clientAddress: (initial as { req?: IncomingMessage }).req?.socket?.remoteAddress ?? null,
      }),
    plugins: [
      useSpecErrorCodes(),
      // INTROSPECTION (off in production): __schema and __type fail validation.
      ...(config.introspection ? [] : [{ onValidate: ({ addValidationRule }: { addValidationRule: (rule: typeof NoSchemaIntrospectionCustomRule) => void }) => addValidationRule(NoSchemaIntrospectionCustomRule) }]),
      useUnavailableStatus(),
      useCompression(),
      useUploadedOperations(),
      useOperationName(),
      usePublishAfterCommit(() => events),
      useSharedEventExecution(),
      usePrometheus({
        registry: metrics.registry,
        endpoint: '/metrics',
        metrics: {
          graphql_envelop_execute_resolver: config.metricsResolvers,
          // The schema deprecates nothing, and counting walks every document with TypeInfo.
          graphql_envelop_deprecated_field: false,
          // The same durations as graphql_envelop_request_duration, at a summary's cost per request.
          graphql_envelop_request_time_summary: false,
        },
      }),
      EnvelopArmorPlugin({
        maxDepth: { n: OPERATION_LIMITS.maxDepth },
        // Aliases of __typename count too (a thousand of them cost a thousand resolutions).
        maxAliases: { n: OPERATION_LIMITS.maxAliases, allowList: [] },
        // Tokens are counted before parsing, by useEdgeValidation's lexer scan.
        maxTokens: { enabled: false },
        maxDirectives: { n: OPERATION_LIMITS.maxDirectives },
        costLimit: { maxCost: OPERATION_LIMITS.maxCost },
        // "Did you mean …?" helps while developing; in production it would map the schema.
        blockFieldSuggestion: { enabled: config.nodeEnv === 'production' },
      }),
      // After graphql-armor: its parse function is replaced by one with the parser's maxTokens.
      useEdgeValidation(edgeLimits(config)),
      // Last: a refused operation never waits for a turn.
      ...(admission ? [useHeavyOperations({ heavy: heavyOperations, heavyCost: config.heavyOperations.cost })] : []),
    ],
  });

  // Operation names, URLs and error paths in /metrics labels come from clients: bounded.
  boundMetricLabels(metrics.registry, config.metricsOperationNames);

  async function ready(res: ServerResponse) {
    try {
      await database.db.execute(sql`select 1`);
      sendJson(res, 200, { status: 'ready' });
    } catch {
      res.setHeader('retry-after', String(RETRY_AFTER_SECONDS));
      sendJson(res, 503, { status: 'unavailable', reason: 'database unreachable' });
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/health') return sendJson(res, 200, { status: 'ok' });
    if (path === '/ready') return ready(res);
    if (path === '/metrics') {
      const access = metricsAccess({ token: config.metricsToken, production: config.nodeEnv === 'production' }, req);
      if (access === 'allowed') return yoga.requestListener(req, res);
      if (access === 'unauthorized') res.setHeader('www-authenticate', 'Bearer realm="metrics"');
      return sendJson(res, access === 'unauthorized' ? 401 : 404, { error: access === 'unauthorized' ? 'unauthorized' : 'not found' });
    }
    if (config.graphiql && path.startsWith(GRAPHIQL_ASSET_PREFIX)) return serveGraphiQLAsset(req, res, path);
    const media = MEDIA_CONTENT_PATH.exec(path ?? '');
    if (media && handleCors(config.corsOrigins, req, res, ['GET', 'HEAD'])) return;
    if (media) return handleMediaDownload(base, req, res, media[1]!);
    if (path === '/graphql' && handleCors(config.corsOrigins, req, res, ['GET', 'POST'])) return;
    if (path === '/graphql' && req.method === 'POST' && isMultipart(req)) return handleMultipartGraphQL(yoga, config, req, res);
    if (path === '/graphql' && refuseSimplePostWithoutCsrfHeader(req, res)) return;
    if (path === '/graphql') {
      if (!validHost(req.headers.host)) {
        return sendJson(res, 400, { errors: [{ message: 'Malformed Host header', extensions: { code: 'BAD_USER_INPUT', field: 'host' } }] });
      }
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        const body = await readBoundedBody(req, res, config.maxBodyBytes);
        if (!body) return;
        (req as IncomingMessage & { body?: Buffer }).body = body;
        if (admission && heavyOperations.knownHeavy(body)) return admitted(admission, res, () => yoga.requestListener(req, res));
      }
      return yoga.requestListener(req, res);
    }
    sendJson(res, 404, { error: 'not found' });
  }

  const sockets = new Set<Socket>();
  const closers: (() => Promise<void> | void)[] = [];
  let server: Server | null = null;
  let drain: DrainTracker | null = null;
  let webSocket: GraphQLWebSocket | null = null;

  return {
    yoga,
    services,
    base,
    onShutdown(closer) {
      closers.push(closer);
    },
    async start(port = config.port, host = config.host) {
      const tracker = new DrainTracker();
      drain = tracker;
      server = createServer((req, res) => {
        tracker.track(
          req,
          res,
          withRequestScope(logger, req, res, () => handle(req, res)).catch((error) => {
            if (isDatabaseUnavailable(error)) {
              // Downloads and the other handlers outside Yoga: the same UNAVAILABLE as the API.
              logger.warn({ err: error }, 'request failed: database unavailable');
              if (res.headersSent) return void res.destroy();
              res.setHeader('retry-after', String(RETRY_AFTER_SECONDS));
              return sendJson(res, 503, { errors: [unavailableError().toJSON()] });
            }
            logger.error({ err: error }, 'request failed');
            if (!res.headersSent) sendJson(res, 500, { errors: [{ message: 'Unexpected error.', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] });
            else res.destroy();
          }),
        );
      });
      await events.start();
      webhooks.start();
      sweeper.start();
      const ws = (webSocket = createGraphQLWebSocket({
        yoga,
        base,
        logger,
        keepAliveMs: config.wsKeepAliveMs,
        maxPayloadBytes: config.maxBodyBytes,
      }));
      server.on('upgrade', (req, socket, head) => {
        if ((req.url ?? '/').split('?')[0] === '/graphql') ws.handleUpgrade(req, socket, head);
        else socket.destroy();
      });
      server.on('clientError', answerClientError);
      server.on('connection', (socket) => {
        sockets.add(socket);
        socket.on('close', () => sockets.delete(socket));
      });
      await new Promise<void>((resolve) => server!.listen(port, host, resolve));
      const address = server.address() as AddressInfo;
      const shownHost = host === '0.0.0.0' || host === '::' ? 'localhost' : host.includes(':') ? `[${host}]` : host;
      const url = `http://${shownHost}:${address.port}`;
      // PUBLIC_URL unset: signed media URLs name the address this server listens on (known only
      // now, with PORT=0), so <img src> works on a page served from another origin.
      base.config = config.publicUrl ? config : { ...config, publicUrl: url };
      return { port: address.port, url };
    },
    async stop({ timeoutMs = config.shutdownTimeoutMs } = {}) {
      if (!server || !drain) return;
      const current = server;
      const closed = new Promise<void>((resolve) => current.close(() => resolve()));
      // Webhook attempts in flight finish while requests drain; then every lease is given up.
      const webhooksStopped = webhooks.stop();
      const cut = await drain.finish(current, timeoutMs);
      if (cut > 0) logger.warn({ requests: cut, timeoutMs }, 'shutdown: requests still running after the timeout are cut');
      // WebSocket clients get 1001 (going away) and resume from their cursor elsewhere.
      await webSocket?.close();
      webSocket = null;
      await webhooksStopped;
      await sweeper.stop();
      await events.stop();
      login.close();
      for (const closer of closers) {
        try {
          await closer();
        } catch (error) {
          logger.error({ err: error }, 'shutdown: a closer failed');
        }
      }
      for (const socket of sockets) socket.destroy();
      // Handlers of cut requests clean up after themselves (an upload removes its partial
      // bytes and row): let them finish before the caller closes the database.
      await drain.settled(SETTLE_AFTER_CUT_MS);
      await closed;
      await services.storage.close?.().catch((error) => logger.error({ err: error }, 'shutdown: closing storage failed'));
      server = null;
      drain = null;
    },
  };
}

/** Yoga builds the request URL from Host; a Host no URL can hold would fail there with a 500. */
function validHost(host: string | undefined): boolean {
  if (host === undefined) return true;
  try {
    return new URL(`http://${host}/`).host.length > 0;
  } catch {
    return false;
  }
}

/**
 * In-flight HTTP requests, for a graceful stop. Event streams (SSE) never finish by themselves:
 * they are not waited for, and are cut at the end (clients reconnect and resume from their
 * cursor). While stopping, every response asks the client to close its connection.
 */
const SETTLE_AFTER_CUT_MS = 3_000;

class DrainTracker {
  private readonly running = new Set<ServerResponse>();
  private readonly handlers = new Set<Promise<void>>();
  private stopping = false;
  private changed: (() => void) | null = null;

  track(req: IncomingMessage, res: ServerResponse, handler: Promise<void>) {
    this.handlers.add(handler);
    void handler.finally(() => this.handlers.delete(handler));
    if (this.stopping) res.setHeader('connection', 'close');
    if (String(req.headers.accept ?? '').includes('text/event-stream')) return;
    this.running.add(res);
    res.on('close', () => {
      this.running.delete(res);
      this.changed?.();
    });
  }

  /** Stops keep-alive reuse and waits for the running requests; answers how many were cut. */
  async finish(server: Server, timeoutMs: number): Promise<number> {
    this.stopping = true;
    for (const res of this.running) if (!res.headersSent) res.setHeader('connection', 'close');
    const deadline = Date.now() + timeoutMs;
    while (this.running.size > 0 && Date.now() < deadline) {
      server.closeIdleConnections();
      await new Promise<void>((resolve) => {
        this.changed = resolve;
        setTimeout(resolve, Math.min(100, Math.max(0, deadline - Date.now())));
      });
      this.changed = null;
    }
    server.closeIdleConnections();
    return this.running.size;
  }

  /** Waits (at most `timeoutMs`) for every request handler to return, cut ones included. */
  async settled(timeoutMs: number): Promise<void> {
    if (this.handlers.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.handlers]),
      new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs))),
    ]);
    clearTimeout(timer);
  }
}
