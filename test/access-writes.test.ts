// Writes that change access: each is one transaction that announces the change (deleteRole
// included), so open streams stop delivering at once; concurrent duplicates answer
// BAD_USER_INPUT or NOT_FOUND, never an internal error. Media writes take their session's row
// lock, so nothing commits into a session that is being closed. An event type outside the
// table of event types cannot be written.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventTable } from '../src/db/schema.ts';
import { appendEvents } from '../src/events/log.ts';
import { codesOf, createApplication, createRole, createUser, dataOf, grantRole } from './helpers/factories.ts';
import { startGateway, type TestGateway } from './helpers/gateway.ts';
import { APPLICATION_EVENTS, CUSTOM_EVENT, subscribeWs, wsClient } from './helpers/live-clients.ts';
import { createSession, pngImage, postMultipart, UPLOAD_SESSION_MEDIA } from './helpers/media.ts';

const CREATE_ROLE = `mutation($a: ID!, $n: String!) { createRole(applicationId: $a, input: { name: $n, permissions: ["application:read"] }) { id } }`;
const DELETE_ROLE = `mutation($a: ID!, $r: ID!) { deleteRole(applicationId: $a, roleId: $r) }`;

describe('writes that change access', () => {
  let gw: TestGateway;
  let app: { id: string; roles: Record<string, string> };

  beforeAll(async () => {
    gw = await startGateway({ MEDIA_DIR: `/tmp/access-writes-${process.pid}` });
    app = await createApplication(gw);
  });
  afterAll(() => gw?.stop());

  const parallel = <T>(n: number, make: (i: number) => Promise<T>) => Promise.all(Array.from({ length: n }, (_, i) => make(i)));

  it('answers concurrent duplicates with BAD_USER_INPUT or NOT_FOUND, never an internal error', async () => {
    const roles = await parallel(8, () => gw.gql(CREATE_ROLE, { a: app.id, n: 'twin' }));
    expect(roles.filter((r) => !r.errors).length).toBe(1);
    expect(roles.flatMap(codesOf).every((code) => code === 'BAD_USER_INPUT')).toBe(true);
    const roleId = roles.find((r) => !r.errors)!.data!.createRole.id;

    const deletes = await parallel(6, () => gw.gql(DELETE_ROLE, { a: app.id, r: roleId }));
    expect(deletes.filter((r) => !r.errors).length).toBe(1);
    expect(deletes.flatMap(codesOf).every((code) => code === 'NOT_FOUND')).toBe(true);

    const name = `group-${Date.now()}`;
    const groups = await parallel(6, () => gw.gql(`mutation($n: String!) { createGroup(name: $n) { id } }`, { n: name }));
    expect(groups.filter((r) => !r.errors).length).toBe(1);
    expect(groups.flatMap(codesOf).every((code) => code === 'BAD_USER_INPUT')).toBe(true);

    const user = await createUser(gw);
    const group = groups.find((r) => !r.errors)!.data!.createGroup.id;
    const member = `mutation($g: ID!, $u: ID!) { addGroupMember(groupId: $g, userId: $u) { id } }`;
    const race = await Promise.all([
      ...Array.from({ length: 4 }, () => gw.gql(member, { g: group, u: user.id })),
      gw.gql(`mutation($u: ID!) { deleteUser(userId: $u) }`, { u: user.id }),
      ...Array.from({ length: 4 }, () => gw.gql(member, { g: group, u: user.id })),
    ]);
    expect(race.flatMap(codesOf).every((code) => code === 'NOT_FOUND')).toBe(true);
    const participants = await parallel(6, () => grantRole(gw, app.id, app.roles.User!, { id: group, type: 'GROUP' }));
    expect(participants).toHaveLength(6);
  });

  it('stops delivering at once when the role that granted access is deleted', async () => {
    const role = await createRole(gw, app.id, ['application:read', 'session:read:any']);
    const reader = await createUser(gw);
    const control = await createUser(gw);
    await grantRole(gw, app.id, role, { id: reader.id });
    await grantRole(gw, app.id, app.roles.Manager!, { id: control.id });
    const session = await createSession(gw, app.id);
    const clients = [wsClient(gw, reader.token), wsClient(gw, control.token)];
    try {
      const [readerStream, controlStream] = clients.map((client) => subscribeWs(client, APPLICATION_EVENTS, { a: app.id, types: ['SESSION_EVENT_CREATED'] }));
      await new Promise((resolve) => setTimeout(resolve, 300));
      dataOf(await gw.gql(CUSTOM_EVENT, { a: app.id, s: session, data: { n: 1 } }));
      await readerStream!.untilEvents(1);
      dataOf(await gw.gql(DELETE_ROLE, { a: app.id, r: role }));
      dataOf(await gw.gql(CUSTOM_EVENT, { a: app.id, s: session, data: { n: 2 } }));
      await controlStream!.untilEvents(2);
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(readerStream!.events.map((e) => e.data)).toEqual([{ n: 1 }]);
    } finally {
      await Promise.all(clients.map((client) => client.dispose()));
    }
  });

  it('never commits media into a session that is being closed', async () => {
    for (let round = 0; round < 5; round++) {
      const session = await createSession(gw, app.id);
      const file = { name: 'p.png', type: 'image/png', bytes: pngImage(64, 64, [round, 2, 3]) };
      const [upload, close] = await Promise.all([
        postMultipart(gw, UPLOAD_SESSION_MEDIA, { a: app.id, s: session }, [file]),
        new Promise((resolve) => setTimeout(resolve, round * 3)).then(() =>
          gw.gql(`mutation($a: ID!, $s: ID!) { closeSession(applicationId: $a, sessionId: $s) { id } }`, { a: app.id, s: session }),
        ),
      ]);
      expect(close.errors).toBeUndefined();
      const events = await gw.db.query.eventTable.findMany({ where: { sessionId: session }, orderBy: { position: 'asc' } });
      const types = events.map((e) => e.type);
      const closedAt = types.indexOf('SESSION_CLOSED');
      expect(types.slice(closedAt + 1).filter((type) => type !== 'SESSION_MEDIA_DELETED')).toEqual([]);
      if (upload.body.errors) {
        expect(codesOf(upload.body)).toEqual(['FAILED_PRECONDITION']);
        const media = await gw.db.query.mediaTable.findMany({ where: { sessionId: session } });
        expect(media).toEqual([]);
      } else {
        expect(types.indexOf('SESSION_MEDIA_UPDATED')).toBeLessThan(closedAt);
      }
    }
  });

  it('refuses to write an event type that is not in the table of event types', async () => {
    const before = await gw.db.$count(eventTable);
    await expect(
      gw.db.transaction((tx) => appendEvents(tx, [{ type: 'SESSION_EXPLODED' as never, applicationId: app.id, userId: null }])),
    ).rejects.toThrow(/Unknown event type/);
    expect(await gw.db.$count(eventTable)).toBe(before);
  });
});
