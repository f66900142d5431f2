// One signed POST to a receiver, bounded every way: the whole attempt (DNS, connect, request,
// answer) within WEBHOOK_TIMEOUT_MS, redirects never followed (a 3xx is a failure), at most
// READ_LIMIT bytes of the answer read (the first RESPONSE_KEPT of them kept for the delivery
// log), private addresses refused after DNS resolution (address.ts). Signatures follow the
// Standard Webhooks specification, made by its reference library.
import http from 'node:http';
import https from 'node:https';
import type { Logger } from 'pino';
import { Webhook } from 'standardwebhooks';
import { guardedLookup, isPrivateAddress, literalAddress } from './address.ts';

/** Why an attempt failed: not 2xx, no answer in time, no connection, a refused address, or the gateway could not build the request. */
export type FailureKind = 'status' | 'timeout' | 'network' | 'refused' | 'internal';

export interface AttemptResult {
  ok: boolean;
  statusCode: number | null;
  durationMs: number;
  failure: FailureKind | null;
  error: string | null;
  /** The first bytes of the answer, as text. */
  response: string | null;
  startedAt: Date;
}

export interface SignedRequest {
  url: string;
  /** The event id: `webhook-id`, the receiver's idempotency key. */
  eventId: string;
  body: string;
  /** Every secret to sign with (the current one, and the previous one during its grace period). */
  secrets: readonly string[];
}

const READ_LIMIT = 64 * 1024;
const RESPONSE_KEPT = 1024;
const USER_AGENT = 'Skylight-Webhooks/1.0';

/** `webhook-id`, `webhook-timestamp` and `webhook-signature` (one `v1,…` per secret, space-separated). */
export function signatureHeaders(eventId: string, body: string, secrets: readonly string[], at: Date): Record<string, string> {
  return {
    'webhook-id': eventId,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': secrets.map((secret) => new Webhook(secret).sign(eventId, at, body)).join(' '),
  };
}

/** PostgreSQL text cannot hold NUL; whatever a receiver answers must fit the log. */
const printable = (text: string) => text.replace(/\u0000/g, '');

export class WebhookSender {
  private readonly agents: { 'http:': http.Agent; 'https:': https.Agent };

  constructor(private readonly options: { timeoutMs: number; allowPrivate: boolean; logger: Logger }) {
    const lookup = guardedLookup(options.allowPrivate);
    // Kept-alive connections: an endpoint receives its events one after the other.
    this.agents = {
      'http:': new http.Agent({ keepAlive: true, lookup } as http.AgentOptions),
      'https:': new https.Agent({ keepAlive: true, lookup } as https.AgentOptions),
    };
  }

  /**
   * Builds an event's body and sends it. A body that cannot be built is an `internal` failure
   * of the attempt (its error goes to the log, not to the delivery log).
   */
  async sendEvent(url: string, eventId: string, body: () => Promise<string>, secrets: readonly string[]): Promise<AttemptResult> {
    let text: string;
    try {
      text = await body();
    } catch (error) {
      this.options.logger.error({ err: error, eventId }, 'could not serialise an event for a webhook');
      const reason = 'The gateway could not build the request body (see its log)';
      return { ok: false, statusCode: null, durationMs: 0, failure: 'internal', error: reason, response: null, startedAt: new Date() };
    }
    return this.send({ url, eventId, body: text, secrets });
  }

  send(request: SignedRequest): Promise<AttemptResult> {
    const startedAt = new Date();
    const started = performance.now();
    const finish = (result: Omit<AttemptResult, 'durationMs' | 'startedAt'>): AttemptResult => ({
      ...result,
      error: result.error === null ? null : printable(result.error),
      response: result.response === null ? null : printable(result.response),
      durationMs: Math.round(performance.now() - started),
      startedAt,
    });
    const url = new URL(request.url);
    const literal = literalAddress(url);
    if (literal && !this.options.allowPrivate && isPrivateAddress(literal)) {
      return Promise.resolve(
        finish({
          ok: false,
          statusCode: null,
          failure: 'refused',
          error: `${literal} is a private, loopback or link-local address (WEBHOOK_ALLOW_PRIVATE is off)`,
          response: null,
        }),
      );
    }
    const protocol = url.protocol === 'https:' ? 'https:' : 'http:';
    const body = Buffer.from(request.body);
    return new Promise<AttemptResult>((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      let done = false;
      let statusCode: number | null = null;
      let location: string | null = null;
      const kept: Buffer[] = [];
      let keptBytes = 0;
      let readBytes = 0;
      const settle = (result: Omit<AttemptResult, 'durationMs' | 'startedAt'>) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        resolve(finish(result));
      };
      const answered = () => {
        const response = kept.length ? Buffer.concat(kept).toString('utf8') : null;
        const code = statusCode!;
        if (code >= 200 && code < 300) return settle({ ok: true, statusCode: code, failure: null, error: null, response });
        const error =
          code >= 300 && code < 400
            ? `HTTP ${code}: redirect${location ? ` to ${location}` : ''} not followed`
            : `HTTP ${code}`;
        settle({ ok: false, statusCode: code, failure: 'status', error, response });
      };
      const req = (protocol === 'https:' ? https : http).request(url, {
        method: 'POST',
        agent: this.agents[protocol],
        headers: {
          'content-type': 'application/json',
          'content-length': body.length,
          'user-agent': USER_AGENT,
          ...signatureHeaders(request.eventId, request.body, request.secrets, startedAt),
        },
      });
      timer = setTimeout(() => {
        // An answer whose status arrived counts, however slowly its body trickles.
        if (statusCode !== null) answered();
        else settle({ ok: false, statusCode: null, failure: 'timeout', error: `No answer within ${this.options.timeoutMs} ms`, response: null });
        req.destroy();
      }, this.options.timeoutMs);
      req.on('response', (res) => {
        statusCode = res.statusCode ?? 0;
        location = typeof res.headers.location === 'string' ? res.headers.location.slice(0, 200) : null;
        res.on('data', (chunk: Buffer) => {
          readBytes += chunk.length;
          if (keptBytes < RESPONSE_KEPT) {
            const part = chunk.subarray(0, RESPONSE_KEPT - keptBytes);
            kept.push(part);
            keptBytes += part.length;
          }
          if (readBytes > READ_LIMIT) {
            answered();
            res.destroy();
          }
        });
        res.on('end', answered);
        res.on('error', answered);
        res.on('close', answered);
      });
      req.on('error', (error: NodeJS.ErrnoException) => {
        if (statusCode !== null) return answered();
        const refused = error.code === 'EWEBHOOKADDRESS';
        settle({
          ok: false,
          statusCode: null,
          failure: refused ? 'refused' : 'network',
          error: refused ? error.message : `${error.code ? `${error.code}: ` : ''}${error.message}`,
          response: null,
        });
      });
      req.end(body);
    });
  }

  close(): void {
    this.agents['http:'].destroy();
    this.agents['https:'].destroy();
  }
}
