// GraphiQL settings: in demo mode it opens with the demo token in the Authorization header,
// and a default document of example operations.
import { asc, eq } from 'drizzle-orm';
import type { Database } from '../db/client.ts';
import { sessionTable } from '../db/schema.ts';

export const DEFAULT_DOCUMENT = `# Skylight gateway: example operations. Put the cursor in one and press Ctrl-Enter
# (or pick it with the run button). The Variables pane below holds the ids they use; in demo
# mode it opens filled with the demo application and its first open session.
#
# Try it live: run FollowSession (it keeps running), then open a new tab (+), paste
# PatchSessionData there and run it: the event appears in the first tab.

query WhoAmI {
  viewer { user { id username displayName isAdmin } }
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

/**
 * `token` (demo mode) opens GraphiQL with the Authorization header filled in, and the Variables
 * pane filled with a real session to try the examples on. Subscriptions run over SSE (a fetch
 * with the headers of the Headers pane), so they are authenticated like every other operation.
 */
export function graphiqlOptions(token: string | null | undefined, db: Database) {
  const headers = token ? JSON.stringify({ Authorization: `Bearer ${token}` }, null, 2) : undefined;
  return async () => {
    const variables = token ? await exampleVariables(db).catch(() => ({ applicationId: '', sessionId: '' })) : { applicationId: '', sessionId: '' };
    return {
      title: 'Skylight gateway',
      defaultQuery: DEFAULT_DOCUMENT,
      defaultTabs: [{ query: DEFAULT_DOCUMENT, variables: JSON.stringify(variables, null, 2), headers }],
      headers,
      subscriptionsProtocol: 'SSE' as const,
    };
  };
}
