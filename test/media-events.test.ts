// SPEC 5: media events reach only those who may read that media, in the stored history and
// live: a media read permission is needed, and once the session is closed only integration
// users and admins see its media events.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApplication, createRole, dataOf, userWithRole } from './helpers/factories.ts';
import { startGateway, type TestGateway } from './helpers/gateway.ts';
import { APPLICATION_EVENTS, CUSTOM_EVENT, subscribeWs, wsClient } from './helpers/live-clients.ts';
import { createSession, uploadPhoto } from './helpers/media.ts';

const HISTORY = `query($a: ID!) { events(applicationId: $a, first: 100) { edges { node { type ... on MediaEvent { mediaId } } } } }`;

let gw: TestGateway;
beforeAll(async () => {
  gw = await startGateway();
});
afterAll(() => gw?.stop());

const typesSeen = async (applicationId: string, token: string) =>
  dataOf(await gw.gql(HISTORY, { a: applicationId }, token)).events.edges.map((e: any) => e.node.type) as string[];

describe('media events', () => {
  it('are delivered live and listed only to readers holding a media read permission', async () => {
    const app = await createApplication(gw);
    const manager = await userWithRole(gw, app.id, app.roles.Manager!);
    const auditor = await userWithRole(gw, app.id, await createRole(gw, app.id, ['application:read', 'session:read:any']));
    const s = await createSession(gw, app.id, manager.token);

    const managerClient = wsClient(gw, manager.token);
    const auditorClient = wsClient(gw, auditor.token);
    try {
      const managerStream = subscribeWs(managerClient, APPLICATION_EVENTS, { a: app.id });
      const auditorStream = subscribeWs(auditorClient, APPLICATION_EVENTS, { a: app.id });
      await new Promise((resolve) => setTimeout(resolve, 300));
      const media = await uploadPhoto(gw, { applicationId: app.id, sessionId: s }, { title: 'valve' });
      dataOf(await gw.gql(CUSTOM_EVENT, { a: app.id, s, data: { after: 'upload' } }, manager.token));

      await managerStream.until((st) => st.events.some((e) => e.type === 'SESSION_EVENT_CREATED'));
      await auditorStream.until((st) => st.events.some((e) => e.type === 'SESSION_EVENT_CREATED'));
      expect(managerStream.events.map((e) => e.type)).toEqual(['SESSION_MEDIA_CREATED', 'SESSION_MEDIA_UPDATED', 'SESSION_EVENT_CREATED']);
      expect(auditorStream.events.map((e) => e.type)).toEqual(['SESSION_EVENT_CREATED']);

      expect(await typesSeen(app.id, manager.token)).toContain('SESSION_MEDIA_UPDATED');
      expect(await typesSeen(app.id, auditor.token)).toEqual(['SESSION_CREATED', 'SESSION_EVENT_CREATED']);
      expect(media.status).toBe('READY');
    } finally {
      await managerClient.dispose();
      await auditorClient.dispose();
    }
  });

  it('of a closed session reach only integration users and admins', async () => {
    const app = await createApplication(gw);
    const worker = await userWithRole(gw, app.id, app.roles.User!);
    const integration = await userWithRole(gw, app.id, app.roles.Developer!, { isIntegration: true });
    const s = await createSession(gw, app.id, worker.token);
    await uploadPhoto(gw, { applicationId: app.id, sessionId: s });
    expect(await typesSeen(app.id, worker.token)).toContain('SESSION_MEDIA_CREATED');
    dataOf(await gw.gql(`mutation($a: ID!, $s: ID!) { closeSession(applicationId: $a, sessionId: $s) { id } }`, { a: app.id, s }, worker.token));

    expect(await typesSeen(app.id, worker.token)).toEqual(['SESSION_CREATED', 'SESSION_CLOSED']);
    const forIntegration = await typesSeen(app.id, integration.token);
    expect(forIntegration).toContain('SESSION_MEDIA_CREATED');
    expect(forIntegration).toContain('SESSION_MEDIA_UPDATED');

    // Replayed live from the start: the same rule at delivery time.
    const workerClient = wsClient(gw, worker.token);
    const integrationClient = wsClient(gw, integration.token);
    try {
      const start = Buffer.from('event:0').toString('base64url');
      const workerStream = subscribeWs(workerClient, APPLICATION_EVENTS, { a: app.id, after: start });
      const integrationStream = subscribeWs(integrationClient, APPLICATION_EVENTS, { a: app.id, after: start });
      await workerStream.until((st) => st.events.some((e) => e.type === 'SESSION_CLOSED' && e.sessionId === s));
      await integrationStream.until((st) => st.events.some((e) => e.type === 'SESSION_CLOSED' && e.sessionId === s));
      const mine = (stream: typeof workerStream) => stream.events.filter((e) => e.sessionId === s).map((e) => e.type);
      expect(mine(workerStream)).toEqual(['SESSION_CREATED', 'SESSION_CLOSED']);
      expect(mine(integrationStream)).toEqual(['SESSION_CREATED', 'SESSION_MEDIA_CREATED', 'SESSION_MEDIA_UPDATED', 'SESSION_CLOSED']);
    } finally {
      await workerClient.dispose();
      await integrationClient.dispose();
    }
  });
});
