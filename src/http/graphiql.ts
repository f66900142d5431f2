// GraphiQL settings: in demo mode it opens with the demo token in the Authorization header.
import type { Config } from '../config.ts';

let demoToken: string | null = null;

/** Set by the demo seed so GraphiQL opens signed in. */
export function setGraphiqlDemoToken(token: string | null): void {
  demoToken = token;
}

export const DEFAULT_DOCUMENT = `# Skylight gateway. Try the operations below; Ctrl-Enter runs the one under the cursor.

query WhoAmI {
  viewer { user { id username displayName isAdmin } }
}

query MyApplications {
  applications(first: 10) {
    edges { node { id name publishedVersion draftVersion roles { name permissions } } }
  }
}
`;

export function graphiqlOptions(config: Config) {
  return () => ({
    title: 'Skylight gateway',
    defaultQuery: DEFAULT_DOCUMENT,
    headers: demoToken && config.demo ? JSON.stringify({ Authorization: `Bearer ${demoToken}` }, null, 2) : undefined,
    subscriptionsProtocol: 'WS' as const,
  });
}
