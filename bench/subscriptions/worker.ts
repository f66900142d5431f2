// A benchmark worker process: opens `subscribers` graphql-ws connections with one
// applicationEvents subscription each (subscriber j signs in with token j mod the tokens given:
// that many distinct viewers) and records, per delivered event, the time since the writer sent
// it (its data carries `sentAt`). Every connection uses the operation id "1", as
// ../shared/perf/live.sh does, so the floor can send one pre-serialised frame to all.
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import type { WorkerReport } from './support.ts';

interface Start {
  type: 'start';
  url: string;
  tokens: string[];
  /** Index of this worker's first subscriber among all (spreads the viewers evenly). */
  offset: number;
  applicationId: string;
  subscribers: number;
  events: number;
}

// The selection of ../shared/perf/live.sh.
const QUERY = `subscription($a: ID!) { applicationEvents(applicationId: $a) { id type cursor ... on SessionDataEvent { data } } }`;
const CONNECT_BATCH = 250;

const latencies: number[] = [];
const clients: Client[] = [];
let counts: Uint32Array;
let errors = 0;
let expectedEvents = 0;

function open(start: Start, index: number): Promise<void> {
  return new Promise((resolve) => {
    const client = createClient({
      url: start.url,
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${start.tokens[(start.offset + index) % start.tokens.length]}` },
      generateID: () => '1',
      retryAttempts: 0,
      lazy: false,
      on: { connected: () => resolve(), closed: () => resolve() },
    });
    clients.push(client);
    client.subscribe(
      { query: QUERY, variables: { a: start.applicationId } },
      {
        next: (result: any) => {
          const event = result.data?.applicationEvents;
          if (!event?.data || typeof event.data.sentAt !== 'number') {
            errors++;
            return;
          }
          if (event.data.warmup) return;
          latencies.push(Date.now() - event.data.sentAt);
          counts[index]!++;
        },
        error: () => errors++,
        complete: () => {},
      },
    );
  });
}

process.on('message', async (message: Start | { type: 'finish' }) => {
  if (message.type === 'start') {
    counts = new Uint32Array(message.subscribers);
    expectedEvents = message.events;
    for (let from = 0; from < message.subscribers; from += CONNECT_BATCH) {
      const batch = [];
      for (let index = from; index < Math.min(from + CONNECT_BATCH, message.subscribers); index++) batch.push(open(message, index));
      await Promise.all(batch);
    }
    return;
  }
  // Give the last event a moment to arrive everywhere.
  const deadline = Date.now() + 30_000;
  while (!counts.every((count) => count >= expectedEvents) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const report: WorkerReport = { latencies, complete: counts.every((count) => count === expectedEvents), errors };
  process.send!({ type: 'report', report }, () => {
    void Promise.all(clients.map((client) => client.dispose())).finally(() => process.exit(0));
  });
});
