// GraphiQL settings: in demo mode it opens with the demo token in the Authorization header,
// and a default document of example operations.

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

/** `token` (demo mode) opens GraphiQL with the Authorization header filled in. */
export function graphiqlOptions(token: string | null | undefined) {
  return () => ({
    title: 'Skylight gateway',
    defaultQuery: DEFAULT_DOCUMENT,
    headers: token ? JSON.stringify({ Authorization: `Bearer ${token}` }, null, 2) : undefined,
    subscriptionsProtocol: 'WS' as const,
  });
}
