// The floor for bench/subscriptions.ts, run as its own process like the gateway: a bare `ws`
// server that speaks just enough graphql-transport-ws for the benchmark's graphql-ws clients
// (connection_ack, each socket's subscription id, pong) and, on POST /emit, sends one
// pre-serialised `next` frame (the gateway's frame for the benchmark's selection) to every
// subscribed socket in one loop. GET /stats: its CPU time, RSS and subscribers.
//
//   PORT=… node --import tsx bench/subscriptions/floor-server.ts
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';

const port = Number(process.env.PORT);
const keepAliveMs = Number(process.env.WS_KEEPALIVE_MS || 12_000);
const subscribed = new Map<WebSocket, string>();
let position = 1_000_000;

const server = createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/stats') {
    const cpu = process.cpuUsage();
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ cpuSeconds: (cpu.user + cpu.system) / 1e6, rss: process.memoryUsage.rss(), subscribers: subscribed.size }));
    return;
  }
  if (req.method !== 'POST' || req.url !== '/emit') {
    res.writeHead(404).end();
    return;
  }
  let body = '';
  req.on('data', (chunk) => (body += chunk));
  req.on('end', () => {
    const event = {
      id: randomUUID(),
      type: 'SESSION_EVENT_CREATED',
      cursor: Buffer.from(`event:${++position}`).toString('base64url'),
      data: JSON.parse(body),
    };
    const frames = new Map<string, string>();
    for (const [socket, id] of subscribed) {
      let frame = frames.get(id);
      if (frame === undefined) frames.set(id, (frame = JSON.stringify({ id, type: 'next', payload: { data: { applicationEvents: event } } })));
      socket.send(frame);
    }
    res.writeHead(204).end();
  });
});

const wss = new WebSocketServer({
  server,
  path: '/graphql',
  handleProtocols: (protocols) => (protocols.has('graphql-transport-ws') ? 'graphql-transport-ws' : false),
});
wss.on('connection', (socket) => {
  let timer: NodeJS.Timeout;
  const ping = () => {
    timer = setTimeout(() => socket.terminate(), keepAliveMs);
    socket.ping();
  };
  socket.on('pong', () => {
    clearTimeout(timer);
    timer = setTimeout(ping, keepAliveMs);
  });
  timer = setTimeout(ping, keepAliveMs);
  socket.on('message', (raw) => {
    const message = JSON.parse(String(raw)) as { type: string; id?: string };
    if (message.type === 'connection_init') socket.send('{"type":"connection_ack"}');
    else if (message.type === 'subscribe') subscribed.set(socket, message.id!);
    else if (message.type === 'complete') subscribed.delete(socket);
    else if (message.type === 'ping') socket.send('{"type":"pong"}');
  });
  socket.on('close', () => {
    clearTimeout(timer);
    subscribed.delete(socket);
  });
});

server.listen(port, '127.0.0.1', () => process.send?.({ type: 'listening' }));
process.on('SIGTERM', () => {
  for (const socket of wss.clients) socket.terminate();
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
});
