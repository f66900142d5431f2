// GraphiQL settings: a default document of example operations with the ids they need in the
// Variables pane, and, in demo mode, the demo token in the Headers pane, but only for a page
// loaded on this machine: the token is the admin's.
import type { IncomingMessage } from 'node:http';
import { asc, eq } from 'drizzle-orm';
import type { Database } from '../db/client.ts';
import { sessionTable } from '../db/schema.ts';
import { isLoopbackAddress } from './loopback.ts';

export const DEFAULT_DOCUMENT = `# Skylight gateway: example operations. Put the cursor in one and press Ctrl-Enter, or
# press the run button and pick one. The Variables pane (below) holds the ids they use
# (MyApplications and OpenSessions list them).
#
# Who you are: the Headers pane (next to Variables) holds {"Authorization": "Bearer <token>"}.
# Opened in demo mode on the gateway's own machine, both panes come filled in: the admin's
# API token, the demo application and its first open session.
# To act as a person, run Login, copy its accessToken and put it in the Headers pane as
#   {"Authorization": "Bearer <accessToken>"}
# (it expires after ACCESS_TOKEN_TTL, 15 minutes by default; refreshToken gets a new one).
# Demo people, all with the password skylight-demo: maria (Manager), dev (Developer),
# ivan (User, through the Inspectors group), connector (an integration).
#
# Live: run FollowSession (it keeps running). Then open this page in a second window and run
# PatchSessionData there: the event appears here. (Switching tabs stops a running operation.)

query WhoAmI {
  viewer { user { id username displayName isAdmin } }
}

mutation Login {
  login(username: "maria", password: "skylight-demo") { accessToken refreshToken expiresIn }
}

query MyApplications {
  applications(first: 10) {
    edges { node { id name publishedVersion draftVersion roles { name permissions } } }
  }
}

query OpenSessions($applicationId: ID!) {
  sessions(applicationId: $applicationId, first: 10) {
    totalCount
    edges { node { id name status properties modifiedAt } }
  }
}

# A session with its data, participants, media and history.
query SessionDetails($applicationId: ID!, $sessionId: ID!) {
  session(applicationId: $applicationId, sessionId: $sessionId) {
    id name description status isDraft version properties data
    participants { id type }
    # The gallery: filter by labels (ANY or ALL of them) and by source.
    media(first: 20, labelMatch: ANY) {
      totalCount
      edges {
        node {
          id uri filename kind source status size title labels properties
          url  # signed and short-lived: open it in a new tab, no header needed
          annotations { id svg }
        }
      }
    }
    events(first: 20) { edges { node { type timestamp userId cursor } } }
  }
}

subscription FollowSession($applicationId: ID!, $sessionId: ID!) {
  # Live: keeps running and shows each event as it happens. Add after: "<cursor>" to replay
  # everything after that event first.
  sessionEvents(applicationId: $applicationId, sessionId: $sessionId) {
    __typename type timestamp userId cursor
    ... on SessionDataEvent { data }
    ... on SessionLifecycleEvent { session { name status properties } }
    ... on MediaEvent { mediaId media { filename status labels } }
  }
}

mutation PatchSessionData($applicationId: ID!, $sessionId: ID!) {
  # JSON Merge Patch: objects merge, null removes a key, arrays and scalars replace.
  patchSessionData(
    applicationId: $applicationId
    sessionId: $sessionId
    data: { checklist: { seals: "replaced" }, inspectedFrom: "GraphiQL" }
  )
}
`;

/** The ids the example operations use: the oldest open session and its application. */
async function exampleVariables(db: Database): Promise<Record<string, string>> {
  const [session] = await db
    .select({ applicationId: sessionTable.applicationId, sessionId: sessionTable.id })
    .from(sessionTable)
    .where(eq(sessionTable.status, 'OPEN'))
    .orderBy(asc(sessionTable.seq))
    .limit(1);
  return session ?? { applicationId: '', sessionId: '' };
}

const LOOPBACK_HOST = /^(([a-z0-9-]+\.)*localhost|127\.\d{1,3}\.\d{1,3}\.\d{1,3}|\[::1\])(:\d{1,5})?$/i;

/**
 * Whether a request for the page comes from a person on the gateway's own machine: sent from
 * the loopback interface, not relayed by a proxy, addressed to a loopback name (a page of
 * another site whose name resolves to 127.0.0.1, DNS rebinding, is not), and not fetched or
 * framed by a page of another origin (Sec-Fetch-Site, sent by browsers).
 */
export function fromThisMachine(req: IncomingMessage | undefined): boolean {
  if (!req || !isLoopbackAddress(req.socket.remoteAddress)) return false;
  if (req.headers['x-forwarded-for'] || req.headers.forwarded || req.headers['x-real-ip']) return false;
  if (!LOOPBACK_HOST.test(req.headers.host ?? '')) return false;
  const site = req.headers['sec-fetch-site'];
  return !site || site === 'none' || site === 'same-origin';
}

export interface GraphiQLSettings {
  /** Demo mode: the token GraphiQL may open with. */
  token: string | null | undefined;
  db: Database;
  /** NODE_ENV=production: never a token, whatever else is set. */
  production: boolean;
}

/**
 * Yoga's GraphiQL options, per request. Subscriptions run over SSE (a fetch with the headers of
 * the Headers pane), so they are authenticated like every other operation. GraphiQL 5 puts only
 * the top-level `variables` into the Variables editor; the tab keeps them too.
 */
export function graphiqlOptions({ token, db, production }: GraphiQLSettings) {
  return async (_request: Request, serverContext?: Record<string, unknown>) => {
    const signedIn = !!token && !production && fromThisMachine(serverContext?.req as IncomingMessage | undefined);
    const headers = signedIn ? JSON.stringify({ Authorization: `Bearer ${token}` }, null, 2) : undefined;
    const ids = signedIn ? await exampleVariables(db).catch(() => null) : null;
    const variables = JSON.stringify(ids ?? { applicationId: '', sessionId: '' }, null, 2);
    return {
      title: 'Skylight gateway · GraphiQL',
      defaultQuery: DEFAULT_DOCUMENT,
      defaultTabs: [{ query: DEFAULT_DOCUMENT, variables, headers }],
      variables,
      headers,
      subscriptionsProtocol: 'SSE' as const,
    };
  };
}
