// Demo sessions: an open inspection with properties, data, participants and events, a second
// open one, and a closed one, so GraphiQL has something to show and to follow live.
import type { Database } from '../db/client.ts';
import * as sessions from '../domain/sessions.ts';

export async function seedDemoSessions(db: Database, applicationId: string, users: Record<string, string>): Promise<string[]> {
  const ivan = { userId: users.ivan! };
  const maria = { userId: users.maria! };
  const pump = await sessions.createSession(db, ivan, {
    applicationId,
    name: 'Pump station 7: monthly inspection',
    description: 'Walk-through of the north pump station.',
    properties: { site: 'north', asset: 'pump-7', priority: 'high' },
  });
  const key = { applicationId, sessionId: pump.id };
  await sessions.addSessionParticipant(db, ivan, key, { id: users.maria!, type: 'USER' });
  await sessions.patchSessionData(db, ivan, key, { checklist: { valves: 'ok', pressure: 4.2 }, notes: [] }, Infinity);
  await sessions.patchSessionData(db, ivan, key, { checklist: { seals: 'worn' } }, Infinity);
  await sessions.createSessionEvent(db, ivan, key, { step: 'photos', message: 'Starting photo round' });

  const boiler = await sessions.createSession(db, maria, {
    applicationId,
    name: 'Boiler room audit',
    properties: { site: 'south', asset: 'boiler-2', priority: 'normal' },
  });
  await sessions.addSessionParticipant(db, maria, { applicationId, sessionId: boiler.id }, { id: users.ivan!, type: 'USER' });

  const done = await sessions.createSession(db, maria, {
    applicationId,
    name: 'Roof hatch check (done)',
    properties: { site: 'north', asset: 'roof', priority: 'low' },
  });
  await sessions.patchSessionData(db, maria, { applicationId, sessionId: done.id }, { result: 'passed' }, Infinity);
  await sessions.closeSession(db, maria, { applicationId, sessionId: done.id });
  return [pump.id, boiler.id, done.id];
}
