// Tells the hub what a finished GraphQL mutation changed. Every mutation runs its change and
// its events in one transaction that has committed by the time its resolver returns, so the
// end of execution is after commit.
// - Every mutation: "events may have committed" (needed for Redis wake-ups; PostgreSQL's
//   NOTIFY is sent by the transaction itself). One that wrote nothing costs one empty read.
// - Mutations of roles and group membership: "access changed", so that every instance stops
//   delivering to someone who lost a permission (those changes write no events).
export interface CommitListener {
  committed(): void;
  accessChanged(): void;
}

/** Root mutation fields that change who may read what without writing an event. */
export const ACCESS_MUTATIONS: ReadonlySet<string> = new Set([
  'addRoleParticipant',
  'removeRoleParticipant',
  'updateRole',
  'deleteRole',
  'addGroupMember',
  'removeGroupMember',
]);

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
      const changesAccess = (operation.selectionSet?.selections ?? []).some(
        (selection) => selection.kind === 'Field' && ACCESS_MUTATIONS.has(selection.name!.value),
      );
      return {
        onExecuteDone: () => {
          const hub = listener();
          if (changesAccess) hub?.accessChanged();
          hub?.committed();
        },
      };
    },
  };
}
