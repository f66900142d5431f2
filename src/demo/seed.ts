// Demo data: an admin with a token, an application with people in each default role.
// Idempotent: a database that already has the demo application is left as it is.
import { eq } from 'drizzle-orm';
import type { Database } from '../db/client.ts';
import { applicationTable, roleTable } from '../db/schema.ts';
import { addRoleParticipant, createApplication } from '../domain/applications.ts';
import type { BlobStorage } from '../storage/types.ts';
import { seedDemoMedia } from './media.ts';
import { seedDemoSessions } from './sessions.ts';
import { addGroupMember, createApiToken, createGroup, createUser, ensureBuiltinAdmin } from '../domain/identity.ts';

export const DEMO_APPLICATION = 'Field Inspection';
export const DEMO_PASSWORD = 'skylight-demo';

export interface DemoSeed {
  created: boolean;
  adminToken: string | null;
  applicationId: string;
  users: Record<string, string>;
}

/** Hooks later domains register to add their demo data (sessions, media) to a fresh seed. */
export type DemoExtension = (db: Database, seed: DemoSeed) => Promise<void>;
const extensions: DemoExtension[] = [];
export function extendDemo(extension: DemoExtension): void {
  extensions.push(extension);
}

/** `storage`: where demo photos go; without it the demo has no media. */
export async function seedDemo(db: Database, options: { storage?: BlobStorage } = {}): Promise<DemoSeed> {
  const [existing] = await db.select().from(applicationTable).where(eq(applicationTable.name, DEMO_APPLICATION));
  if (existing) return { created: false, adminToken: null, applicationId: existing.id, users: {} };

  const admin = await ensureBuiltinAdmin(db);
  const { token } = await createApiToken(db, admin.id, 'demo');
  const application = await createApplication(db, admin.id, {
    name: DEMO_APPLICATION,
    description: 'Inspectors walk a site with a headset; the back office follows along live.',
  });
  const people = [
    { username: 'maria', displayName: 'Maria Manager', role: 'Manager' },
    { username: 'ivan', displayName: 'Ivan Inspector', role: null },
    { username: 'dev', displayName: 'Dana Developer', role: 'Developer' },
    { username: 'connector', displayName: 'ERP connector', role: 'Developer', isIntegration: true },
  ];
  const roles = await db.select().from(roleTable).where(eq(roleTable.applicationId, application.id));
  const roleId = (name: string) => roles.find((role) => role.name === name)!.id;
  const users: Record<string, string> = { admin: admin.id };
  for (const person of people) {
    const user = await createUser(db, { ...person, password: DEMO_PASSWORD });
    users[person.username] = user.id;
    if (person.role) await addRoleParticipant(db, admin.id, application.id, roleId(person.role), { id: user.id, type: 'USER' });
  }
  const inspectors = await createGroup(db, 'Inspectors');
  await addGroupMember(db, inspectors.id, users.ivan!);
  await addRoleParticipant(db, admin.id, application.id, roleId('User'), { id: inspectors.id, type: 'GROUP' });

  await seedDemoSessions(db, application.id, users);
  const seed: DemoSeed = { created: true, adminToken: token, applicationId: application.id, users };
  if (options.storage) await seedDemoMedia(db, options.storage, seed);
  for (const extension of extensions) await extension(db, seed);
  return seed;
}
