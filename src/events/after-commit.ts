// Tells the hub that a GraphQL mutation finished: "events may have committed" (needed for
// Redis wake-ups; PostgreSQL's NOTIFY is sent by the transaction itself). Every mutation runs
// its change and its events in one transaction that has committed by the time its resolver
// returns, so the end of execution is after commit. One that wrote nothing costs one empty
// read. (Writes that change access announce it themselves: `accessChanged` in context.ts.)
export interface CommitListener {
  committed(): void;
}

interface Selection {
  kind: string;
  name?: { value: string };
}

interface Definition {
  kind: string;
  operation?: string;
  name?: { value: string };
  selectionSet?: { selections: readonly Selection[] };
}

interface ExecuteArgs {
  args: { operationName?: string | null; document: { definitions: readonly Definition[] } };
}

function operationOf({ args }: ExecuteArgs): Definition | undefined {
  const operations = args.document.definitions.filter((definition) => definition.kind === 'OperationDefinition');
  return args.operationName ? operations.find((definition) => definition.name?.value === args.operationName) : operations[0];
}

/** Envelop plugin: after each mutation, tell the hub. */
export function usePublishAfterCommit(listener: () => CommitListener | null) {
  return {
    onExecute(payload: ExecuteArgs) {
      const operation = operationOf(payload);
      if (operation?.operation !== 'mutation') return;
      return { onExecuteDone: () => listener()?.committed() };
    },
  };
}
