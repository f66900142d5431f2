// The schema: imports each domain's types and fields, then builds.
import './scalars.ts';
import './identity/types.ts';
import './identity/queries.ts';
import './identity/mutations.ts';
import './applications/types.ts';
import './applications/mutations.ts';
import './sessions/types.ts';
import './sessions/mutations.ts';
import './events/types.ts';
import './events/subscriptions.ts';
import './media/types.ts';
import './media/mutations.ts';
import './media/fields.ts';
import './webhooks/types.ts';
import './webhooks/mutations.ts';
import { builder } from './builder.ts';

export const schema = builder.toSchema({ sortSchema: false });
