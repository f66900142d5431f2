// Real HTTP receivers for webhook tests: each records what it was sent and answers as the
// test says (a status, a redirect, an endless body, or never). When given the webhook's
// secret(s) it verifies every request with the standardwebhooks package, as a real receiver would.
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Webhook } from 'standardwebhooks';

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** The parsed body. */
  event: any;
  /** For each secret given, whether the signature verified with it; empty when none was given. */
  verified: boolean[];
}

/** How to answer the n-th request (0-based): a status, `hang` (never answer), or a handler of its own. */
export type Answer = number | 'hang' | ((res: ServerResponse) => void);

export interface Receiver {
  url: string;
  requests: ReceivedRequest[];
  /** Secrets to verify with from now on. */
  secrets: string[];
  answer: (request: ReceivedRequest, index: number) => Answer;
  /** Resolves once `count` requests arrived (rejects after `timeoutMs`). */
  until(count: number, timeoutMs?: number): Promise<ReceivedRequest[]>;
  close(): Promise<void>;
}

export async function startReceiver(answer: Receiver['answer'] = () => 200, secrets: string[] = []): Promise<Receiver> {
  const sockets = new Set<Socket>();
  const waiters: (() => void)[] = [];
  const receiver: Receiver = {
    url: '',
    requests: [],
    secrets,
    answer,
    async until(count, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      while (receiver.requests.length < count) {
        if (Date.now() > deadline) throw new Error(`receiver got ${receiver.requests.length} of ${count} requests in time`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 50);
        });
      }
      return receiver.requests;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const headers = req.headers as Record<string, string>;
      const verified = receiver.secrets.map((secret) => {
        try {
          new Webhook(secret).verify(body, headers);
          return true;
        } catch {
          return false;
        }
      });
      let event: any = null;
      try {
        event = JSON.parse(body);
      } catch {
        /* recorded as is */
      }
      const request: ReceivedRequest = { method: req.method!, path: req.url!, headers: req.headers, body, event, verified };
      const index = receiver.requests.length;
      receiver.requests.push(request);
      for (const wake of waiters.splice(0)) wake();
      const reply = receiver.answer(request, index);
      if (reply === 'hang') return;
      if (typeof reply === 'function') return reply(res);
      res.writeHead(reply, { 'content-type': 'text/plain' }).end(`answer ${reply}`);
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  return receiver;
}
