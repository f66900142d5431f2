// Long-lived parts shared by every request, built once by buildServer.
import type { Logger } from 'pino';
import type { Authenticator } from './access/authenticate.ts';
import type { AccessRegistry } from './access/registry.ts';
import type { LoginThrottle } from './auth/login-throttle.ts';
import type { EventHub } from './events/hub.ts';
import type { GatewayMetrics } from './http/observability.ts';
import type { BlobStorage } from './storage/types.ts';
import type { WebhookDeliverer } from './webhooks/deliverer.ts';

export interface Services {
  logger: Logger;
  metrics: GatewayMetrics;
  /** Principals and API tokens in memory, the access signal, and the re-check of live streams. */
  access: AccessRegistry;
  /** Counts failed logins per username and address, and per address (RATE_LIMITED past the bounds). */
  loginThrottle: LoginThrottle;
  /** Bearer tokens to principals. */
  auth: Authenticator;
  /** Live fan-out of the event log to this instance's subscribers. */
  events: EventHub;
  /** Where media bytes live (local directory or S3-compatible). */
  storage: BlobStorage;
  /** Delivery of the event log to webhooks. */
  webhooks: WebhookDeliverer;
}
