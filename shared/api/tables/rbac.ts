/**
 * Printers for Roles, ClusterRoles and their bindings, as Kubernetes' printRole, printClusterRole,
 * printRoleBinding and printClusterRoleBinding print them.
 */
import { AGE_COLUMN, NAME_COLUMN, age, column, type Loose, type PrintContext, type Printer } from './format.js';

/** ROLE_PRINTER (Role and ClusterRole): NAME CREATED AT. */
export const ROLE_PRINTER: Printer = {
  columns: [NAME_COLUMN, column('Created At', 'date', 'Time when the role was created')],
  cells: (r: Loose) => [r.metadata?.name ?? '', r.metadata?.creationTimestamp ?? ''],
};

function subjectNames(b: Loose, kind: string): string {
  const subjects = (b.subjects ?? []) as Loose[];
  return subjects.filter((s) => s.kind === kind).map((s) => (kind === 'ServiceAccount' ? `${s.namespace ?? b.metadata?.namespace ?? ''}/${s.name}` : s.name)).join(', ');
}

/** BINDING_PRINTER (RoleBinding and ClusterRoleBinding): NAME ROLE AGE, wide: USERS GROUPS SERVICEACCOUNTS. */
export const BINDING_PRINTER: Printer = {
  columns: [
    NAME_COLUMN,
    column('Role', 'string', 'Role'),
    AGE_COLUMN,
    column('Users', 'string', 'Users in the roleBinding', { priority: 1 }),
    column('Groups', 'string', 'Groups in the roleBinding', { priority: 1 }),
    column('ServiceAccounts', 'string', 'ServiceAccounts in the roleBinding', { priority: 1 }),
  ],
  cells: (b: Loose, ctx: PrintContext) => [
    b.metadata?.name ?? '', `${b.roleRef?.kind ?? ''}/${b.roleRef?.name ?? ''}`, age(b, ctx),
    subjectNames(b, 'User'), subjectNames(b, 'Group'), subjectNames(b, 'ServiceAccount'),
  ],
};
