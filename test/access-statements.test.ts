// The frontend's nested read (sessions × participants × application name × media with title)
// and the single read cost the same fixed number of SQL statements whoever asks and whatever
// the page size: access rules are planned into the query and field permissions are decided
// once per request and application. Cold (nothing of the viewer in memory) costs at most 3,
// authentication included; warm costs the queries alone.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codesOf, createApplication, createRole, createUser, dataOf, grantRole, type TestUser } from './helpers/factories.ts';
import { startGateway, untilQuiet, type TestGateway } from './helpers/gateway.ts';
import { uploadPhoto } from './helpers/media.ts';

const NESTED = `query N($a: ID!, $first: Int!, $media: Int!) {
  sessions(applicationId: $a, first: $first) {
    edges { node {
      id name properties
      participants { id type }
      application { name }
      media(first: $media) { edges { node { id title filename kind status } } }
    } }
  }
}`;
const SINGLE = `query S($a: ID!, $s: ID!) { session(applicationId: $a, sessionId: $s) { id name properties } }`;

describe('statements per request, for every kind of viewer', () => {
  let gw: TestGateway;
  let app: { id: string; roles: Record<string, string> };
  const viewers: Record<string, { token: string | undefined; sees: number }> = {};
  let groupSession = '';

  const cost = async (query: string, variables: Record<string, unknown>, token: string | undefined, check: (data: any) => void) => {
    await untilQuiet(gw);
    const before = gw.database.handle.statements.count;
    check(dataOf(await gw.gql(query, variables, token)));
    return gw.database.handle.statements.count - before;
  };

  beforeAll(async () => {
    gw = await startGateway({ MEDIA_DIR: `/tmp/access-statements-${process.pid}`, EVENT_POLL_MS: '0' });
    app = await createApplication(gw);
    const people: Record<string, TestUser> = {};
    for (const name of ['manager', 'participant', 'member', 'noMedia']) people[name] = await createUser(gw);
    await grantRole(gw, app.id, app.roles.Manager!, { id: people.manager!.id });
    await grantRole(gw, app.id, app.roles.User!, { id: people.participant!.id });
    const group = dataOf(await gw.gql(`mutation { createGroup(name: "crew-${Date.now()}") { id } }`)).createGroup.id;
    dataOf(await gw.gql(`mutation($g: ID!, $u: ID!) { addGroupMember(groupId: $g, userId: $u) { id } }`, { g: group, u: people.member!.id }));
    await grantRole(gw, app.id, app.roles.User!, { id: group, type: 'GROUP' });
    await grantRole(gw, app.id, await createRole(gw, app.id, ['application:read', 'session:read:any']), { id: people.noMedia!.id });
    for (let i = 0; i < 60; i++) {
      const s = dataOf(await gw.gql(`mutation($i: CreateSessionInput!) { createSession(input: $i) { id } }`, { i: { applicationId: app.id, name: `s${i}` } }))
        .createSession.id as string;
      const join = (p: { id: string; type: string }) =>
        gw.gql(`mutation($a: ID!, $s: ID!, $p: ParticipantInput!) { addSessionParticipant(applicationId: $a, sessionId: $s, participant: $p) { id } }`, {
          a: app.id,
          s,
          p,
        });
      if (i % 2 === 0) dataOf(await join({ id: people.participant!.id, type: 'USER' }));
      if (i % 3 === 0) {
        dataOf(await join({ id: group, type: 'GROUP' }));
        groupSession = s;
      }
      if (i < 12) for (let m = 0; m < 3; m++) await uploadPhoto(gw, { applicationId: app.id, sessionId: s }, { title: `m${m}` });
    }
    viewers.admin = { token: undefined, sees: 60 };
    viewers.manager = { token: people.manager!.token, sees: 60 };
    viewers.participant = { token: people.participant!.token, sees: 30 };
    viewers.groupMember = { token: people.member!.token, sees: 20 };
    viewers.noMediaPermission = { token: people.noMedia!.token, sees: 60 };
  }, 180_000);
  afterAll(() => gw?.stop());

  it('the nested read: the same count for every viewer, not growing with the page size, at most 2 cold', async () => {
    const warm: Record<string, number[]> = {};
    const cold: Record<string, number> = {};
    for (const [who, { token, sees }] of Object.entries(viewers)) {
      const read = (first: number, media: number) =>
        cost(NESTED, { a: app.id, first, media }, token, (data) => {
          expect(data.sessions.edges).toHaveLength(Math.min(first, sees));
          const media = data.sessions.edges.flatMap((e: any) => e.node.media.edges);
          if (who === 'noMediaPermission') expect(media).toEqual([]);
        });
      gw.server.services.access.invalidate();
      cold[who] = await read(50, 5);
      warm[who] = [await read(50, 5), await read(5, 1), await read(50, 5)];
    }
    const counts = Object.values(warm).flat();
    expect(new Set(counts).size, JSON.stringify(warm)).toBe(1);
    for (const [who, count] of Object.entries(cold)) expect(count, who).toBeLessThanOrEqual(2);
    // One statement: the sessions with their participants, application and media page.
    expect(counts[0]).toBe(1);
  });

  it('titles are decided once per request: a viewer without title permission gets FORBIDDEN, at the same cost', async () => {
    const titles = await gw.gql(NESTED, { a: app.id, first: 50, media: 5 }, viewers.participant!.token);
    expect(titles.errors ?? []).toEqual([]);
    const custom = await createUser(gw);
    await grantRole(gw, app.id, await createRole(gw, app.id, ['application:read', 'session:read:any', 'session:media:read:labels']), { id: custom.id });
    const refused = await gw.gql(NESTED, { a: app.id, first: 50, media: 5 }, custom.token);
    const media = refused.data!.sessions.edges.flatMap((e: any) => e.node.media.edges);
    expect(media.length).toBeGreaterThan(0);
    expect(refused.errors).toHaveLength(media.length);
    expect(refused.errors!.every((e) => e.extensions?.code === 'FORBIDDEN' && e.extensions?.permission === 'session:media:read:title')).toBe(true);
    const warmed = async () => {
      await untilQuiet(gw);
      const before = gw.database.handle.statements.count;
      expect(codesOf(await gw.gql(NESTED, { a: app.id, first: 50, media: 5 }, custom.token))).toContain('FORBIDDEN');
      return gw.database.handle.statements.count - before;
    };
    await warmed();
    await cost(NESTED, { a: app.id, first: 50, media: 5 }, viewers.admin!.token, () => {});
    const admin = await cost(NESTED, { a: app.id, first: 50, media: 5 }, viewers.admin!.token, () => {});
    expect(await warmed()).toBe(admin);
  });

  it('the single read costs one statement warm for every viewer, and at most 2 cold', async () => {
    for (const [who, { token }] of Object.entries(viewers)) {
      const read = () => cost(SINGLE, { a: app.id, s: groupSession }, token, (data) => expect(data.session.id).toBe(groupSession));
      if (who === 'participant') continue; // it does not take part in that session
      gw.server.services.access.invalidate();
      expect(await read(), `${who} cold`).toBeLessThanOrEqual(2);
      expect(await read(), `${who} warm`).toBe(1);
    }
  });
});
