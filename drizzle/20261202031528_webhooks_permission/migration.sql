-- application:webhooks:manage is new in the catalogue. Applications created from now on get it
-- in their Owner and Developer default roles (src/auth/permissions.ts); the default roles of
-- existing applications are stored rows, so they get it here. No other role gains it: no
-- existing permission grants it (it is no child of application:read).
UPDATE "role"
SET "permissions" = array_append("permissions", 'application:webhooks:manage')
WHERE "is_default"
  AND "name" IN ('Owner', 'Developer')
  AND NOT ('application:webhooks:manage' = ANY ("permissions"));
