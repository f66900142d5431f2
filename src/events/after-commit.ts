// Publishes "events committed" once a GraphQL mutation has finished. Every mutation runs its
// change and its events in one transaction that has committed by the time its resolver
// returns, so the end of execution is after commit. Needed for Redis wake-ups (PostgreSQL's
// NOTIFY is sent by the transaction itself); with LISTEN it only makes the local read sooner.
// A mutation that wrote nothing costs the other instances one empty read.
export interface CommitListener {
  committed(): void;
}

interface ExecuteArgs {
  args: { operationName?: string | null; document: { definitions: readonly { kind: string; operation?: string; name?: { value: string } }[] } };
}

function isMutation({ args }: ExecuteArgs): boolean {
  const operations = args.document.definitions.filter((definition) => definition.kind === 'OperationDefinition');
  const operation = args.operationName
    ? operations.find((definition) => definition.name?.value === args.operationName)
    : operations[0];
  return operation?.operation === 'mutation';
}

/** Envelop plugin: after each mutation, tell the hub. */
export function usePublishAfterCommit(listener: () => CommitListener | null) {
  return {
    onExecute(payload: ExecuteArgs) {
      if (!isMutation(payload)) return;
      return { onExecuteDone: () => listener()?.committed() };
    },
  };
}
