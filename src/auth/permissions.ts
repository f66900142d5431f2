// The permission catalogue of SPEC.md section 2, as data. Holding `P` grants every
// permission that starts with `P:`; `session:media:create` also grants read and update.

export const PERMISSIONS = [
  'application:read',
  'application:update',
  'application:media:manage',
  // Not a child of application:read: webhook URLs and delivery logs are for integrators only.
  'application:webhooks:manage',
  'role:manage',
  'session:create',
  'session:read:any',
  'session:read:participant',
  'session:update:any',
  'session:update:participant',
  'session:media:read',
  'session:media:read:title',
  'session:media:read:labels',
  'session:media:read:annotations',
  'session:media:read:properties',
  'session:media:read:content',
  'session:media:create',
  'session:media:update',
  'session:media:update:title',
  'session:media:update:labels',
  'session:media:update:properties',
  'session:media:update:annotations',
  'session:media:archive',
  'session:media:delete',
] as const;

export type Permission = (typeof PERMISSIONS)[number];

const KNOWN = new Set<string>(PERMISSIONS);

/** Grants beyond the prefix rule. */
const EXTRA_GRANTS: Partial<Record<Permission, Permission[]>> = {
  'session:media:create': ['session:media:read', 'session:media:update'],
};

export function isPermission(value: string): value is Permission {
  return KNOWN.has(value);
}

export function unknownPermissions(values: readonly string[]): string[] {
  return values.filter((value) => !KNOWN.has(value));
}

/** Every permission implied by the given ones, super permissions expanded, sorted. */
export function expandPermissions(held: Iterable<string>): Permission[] {
  const result = new Set<Permission>();
  const visit = (permission: string) => {
    if (!isPermission(permission) || result.has(permission)) return;
    result.add(permission);
    for (const child of PERMISSIONS) if (child.startsWith(`${permission}:`)) visit(child);
    for (const extra of EXTRA_GRANTS[permission] ?? []) visit(extra);
  };
  for (const permission of held) visit(permission);
  return PERMISSIONS.filter((permission) => result.has(permission));
}

/** Any of these lets a reader see that session media exist and changed; each child gates one field. */
export const SESSION_MEDIA_READ: readonly Permission[] = PERMISSIONS.filter(
  (permission) => permission === 'session:media:read' || permission.startsWith('session:media:read:'),
);

const ALL: Permission[] = [...PERMISSIONS];

/** The four roles every application starts with. */
export const DEFAULT_ROLES: { name: string; description: string; permissions: Permission[] }[] = [
  { name: 'Owner', description: 'Every permission.', permissions: ALL },
  {
    name: 'Developer',
    description: 'Every permission but managing roles.',
    permissions: ALL.filter((p) => p !== 'role:manage'),
  },
  {
    name: 'Manager',
    description: 'Runs every session of the application.',
    permissions: [
      'application:read',
      'session:create',
      'session:read:any',
      'session:update:any',
      'session:media:create',
      'session:media:archive',
    ],
  },
  {
    name: 'User',
    description: 'Works in the sessions they take part in.',
    permissions: [
      'application:read',
      'session:create',
      'session:read:participant',
      'session:update:participant',
      'session:media:create',
    ],
  },
];
