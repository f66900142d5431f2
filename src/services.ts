// Long-lived parts shared by every request, built once by buildServer.
import type { Logger } from 'pino';
import type { GatewayMetrics } from './http/observability.ts';

export interface Services {
  logger: Logger;
  metrics: GatewayMetrics;
}
