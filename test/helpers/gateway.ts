// A real gateway on port 0 over a fresh database, and a small GraphQL client for it.
import pino, { type Logger } from 'pino';
import { loadConfig, type Config } from '../../src/config.ts';
import type { DatabaseHandle } from '../../src/db/client.ts';
import { ensureBuiltinAdmin } from '../../src/domain/identity.ts';
import { buildServer, type GatewayServer } from '../../src/server.ts';
import { createTestDatabase, type TestDatabase } from './database.ts';

export const ADMIN_TOKEN = 'test-admin-token-0123456789abcdef';

export interface GraphQLResponse<T = any> {
  data?: T;
  errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, any> }[];
}

export interface TestGateway {
  url: string;
  graphqlUrl: string;
  database: TestDatabase;
  db: DatabaseHandle['db'];
  server: GatewayServer;
  config: Config;
  /** POSTs one operation; `token` defaults to the admin token, null sends none. */
  gql<T = any>(query: string, variables?: Record<string, unknown>, token?: string | null, headers?: Record<string, string>): Promise<GraphQLResponse<T>>;
  /** Starts another gateway instance on the same database (real PostgreSQL only). */
  startAnother(env?: Record<string, string>): Promise<TestGateway>;
  stop(): Promise<void>;
}

/**
 * Resolves once the gateway has sent no statement for `intervalMs`, so that a statement count
 * measures one request and not the tail of the one before (or a background poll).
 */
export async function untilQuiet(gw: TestGateway, intervalMs = 200): Promise<void> {
  const statements = gw.database.handle.statements;
  let last = -1;
  while (last !== statements.count) {
    last = statements.count;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

export function testConfig(env: Record<string, string> = {}): Config {
  return loadConfig({
    NODE_ENV: 'test',
    ADMIN_TOKEN,
    JWT_SECRET: 'test-jwt-secret-0123456789abcdef0123456789',
    LOG_LEVEL: 'silent',
    DATABASE_URL: '',
    DATA_DIR: `/tmp/skylight-test-${process.pid}`,
    DEMO: 'false',
    ...env,
  });
}

async function startOn(
  database: TestDatabase,
  handle: DatabaseHandle,
  env: Record<string, string>,
  owned: boolean,
  logger: Logger = pino({ level: 'silent' }),
  graphiqlToken: string | null = null,
): Promise<TestGateway> {
  const config = testConfig(env);
  await ensureBuiltinAdmin(handle.db);
  const server = await buildServer({ config, database: handle, logger, graphiqlToken });
  const { port } = await server.start(0, '127.0.0.1');
  const url = `http://127.0.0.1:${port}`;
  const graphqlUrl = `${url}/graphql`;
  return {
    url,
    graphqlUrl,
    database,
    db: handle.db,
    server,
    config,
    async gql(query, variables, token = ADMIN_TOKEN, headers = {}) {
      const response = await fetch(graphqlUrl, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/graphql-response+json, application/json',
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...headers,
        },
        body: JSON.stringify({ query, variables }),
      });
      return (await response.json()) as GraphQLResponse;
    },
    async startAnother(extraEnv = {}) {
      const other = await database.openAnother();
      return startOn(database, other, { ...env, ...extraEnv }, false);
    },
    async stop() {
      await server.stop();
      if (owned) await database.drop();
    },
  };
}

/** `logger` lets a test read what the gateway logs. */
export async function startGateway(
  env: Record<string, string> = {},
  options: { logger?: Logger; graphiqlToken?: string } = {},
): Promise<TestGateway> {
  const database = await createTestDatabase();
  return startOn(database, database.handle, env, true, options.logger, options.graphiqlToken);
}
