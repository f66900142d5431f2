// What `npm start` prints in demo mode: where GraphiQL is, the token, which database, and who
// can reach it.
import type { Config } from './config.ts';

export interface BannerFacts {
  config: Pick<Config, 'databaseUrl' | 'dataDir' | 'host' | 'graphiql'>;
  /** The address the server listens on, as `http://host:port`. */
  url: string;
  token: string | null;
}

const LOOPBACK = /^(127\.|::1$|localhost$)/;

/** The database URL without its password. */
function shownDatabase(databaseUrl: string): string {
  try {
    const url = new URL(databaseUrl);
    url.password = '';
    return url.toString();
  } catch {
    return 'PostgreSQL';
  }
}

export function startBanner({ config, url, token }: BannerFacts): string {
  const database = config.databaseUrl ? `PostgreSQL ${shownDatabase(config.databaseUrl)}` : `embedded database in ${config.dataDir}`;
  const lines = [`Skylight gateway (${database}, demo data)`];
  if (config.graphiql) lines.push(`GraphiQL:  ${url}/graphql`);
  if (token) lines.push(`Token:     ${token}`);
  if (LOOPBACK.test(config.host)) {
    lines.push(`Only this machine can reach it (HOST=${config.host}). To let other machines in: HOST=0.0.0.0 npm start`);
  } else if (config.graphiql && token) {
    lines.push('GraphiQL opens with the token only when loaded on this machine; elsewhere, run Login in it.');
  }
  return `\n${lines.map((line) => `  ${line}`).join('\n')}\n\n`;
}
