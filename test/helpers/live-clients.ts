// Real clients for live events: graphql-ws over `ws`, and SSE over fetch with
// eventsource-parser. Both collect what a subscription delivers into a `Stream`.
import { createParser } from 'eventsource-parser';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import type { TestGateway } from './gateway.ts';

export interface StreamResult {
  data?: any;
  errors?: { message: string; extensions?: Record<string, any> }[];
}

/** What one subscription delivered so far. */
export class Stream {
  readonly results: StreamResult[] = [];
  /** Set when the stream ended: 'complete', or the error it ended with. */
  ended: 'complete' | { error: unknown } | null = null;
  private waiters: (() => void)[] = [];
  dispose: () => void = () => {};

  push(result: StreamResult): void {
    this.results.push(result);
    this.notify();
  }

  end(how: 'complete' | { error: unknown }): void {
    if (!this.ended) this.ended = how;
    this.notify();
  }

  private notify(): void {
    for (const waiter of this.waiters.splice(0)) waiter();
  }

  /** The events delivered (the value of the one subscription field of each result). */
  get events(): any[] {
    return this.results.filter((r) => r.data).map((r) => Object.values(r.data)[0]);
  }

  /** Resolves once `predicate` holds, or fails after `timeoutMs` with what arrived. */
  async until(predicate: (stream: Stream) => boolean, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this)) {
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(`stream: condition not met in ${timeoutMs} ms; got ${this.results.length} results, ended ${JSON.stringify(this.ended)}: ${JSON.stringify(this.results.slice(-3))}`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  untilEvents(count: number, timeoutMs?: number): Promise<void> {
    return this.until((stream) => stream.events.length >= count, timeoutMs);
  }

  untilEnded(timeoutMs?: number): Promise<void> {
    return this.until((stream) => stream.ended !== null, timeoutMs);
  }
}

export function wsUrl(gw: TestGateway): string {
  return gw.graphqlUrl.replace(/^http/, 'ws');
}

/** A graphql-ws client authenticated with `token`; no retries, so failures show. */
export function wsClient(gw: TestGateway, token: string, options: { lazy?: boolean } = {}): Client {
  return createClient({
    url: wsUrl(gw),
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${token}` },
    retryAttempts: 0,
    lazy: options.lazy ?? true,
  });
}

export function subscribeWs(client: Client, query: string, variables: Record<string, unknown> = {}): Stream {
  const stream = new Stream();
  stream.dispose = client.subscribe(
    { query, variables },
    {
      next: (result) => stream.push(result as StreamResult),
      error: (error) => stream.end({ error }),
      complete: () => stream.end('complete'),
    },
  );
  return stream;
}

/** A subscription over Server-Sent Events (POST with Accept: text/event-stream), as Yoga serves it. */
export function subscribeSse(gw: TestGateway, token: string, query: string, variables: Record<string, unknown> = {}): Stream {
  const stream = new Stream();
  const abort = new AbortController();
  stream.dispose = () => abort.abort();
  void (async () => {
    try {
      const response = await fetch(gw.graphqlUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify({ query, variables }),
        signal: abort.signal,
      });
      const parser = createParser({
        onEvent: (message) => {
          if (message.event === 'complete') stream.end('complete');
          else if (message.data) stream.push(JSON.parse(message.data));
        },
      });
      const decoder = new TextDecoder();
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        parser.feed(decoder.decode(chunk, { stream: true }));
      }
      stream.end('complete');
    } catch (error) {
      stream.end(abort.signal.aborted ? 'complete' : { error });
    }
  })();
  return stream;
}

/** Opens a raw graphql-transport-ws socket, optionally sends connection_init, and reports how it closed. */
export function rawWsClose(gw: TestGateway, init: Record<string, unknown> | null): Promise<{ code: number; reason: string; acked: boolean }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(wsUrl(gw), 'graphql-transport-ws');
    let acked = false;
    socket.on('open', () => {
      if (init) socket.send(JSON.stringify({ type: 'connection_init', payload: init }));
    });
    socket.on('message', (data) => {
      if (JSON.parse(String(data)).type === 'connection_ack') {
        acked = true;
        socket.close(1000);
      }
    });
    socket.on('close', (code, reason) => resolve({ code, reason: String(reason), acked }));
    socket.on('error', reject);
  });
}

export const APPLICATION_EVENTS = `subscription($a: ID!, $types: [EventType!], $after: String) {
  applicationEvents(applicationId: $a, types: $types, after: $after) {
    id type applicationId sessionId cursor
    ... on SessionDataEvent { data }
  }
}`;

export const SESSION_EVENTS = `subscription($a: ID!, $s: ID!, $types: [EventType!], $after: String) {
  sessionEvents(applicationId: $a, sessionId: $s, types: $types, after: $after) {
    id type applicationId sessionId cursor
    ... on SessionDataEvent { data }
  }
}`;

export const CREATE_SESSION = `mutation($input: CreateSessionInput!) { createSession(input: $input) { id } }`;
export const CUSTOM_EVENT = `mutation($a: ID!, $s: ID!, $data: JSON!) { createSessionEvent(applicationId: $a, sessionId: $s, data: $data) { id cursor } }`;
export const PATCH_DATA = `mutation($a: ID!, $s: ID!, $data: JSON!) { patchSessionData(applicationId: $a, sessionId: $s, data: $data) }`;

/** Decodes a cursor's position (tests only: cursors are opaque to clients). */
export function positionOf(cursor: string): number {
  return Number(/^event:(\d+)$/.exec(Buffer.from(cursor, 'base64url').toString())![1]);
}
