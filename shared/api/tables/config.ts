/**
 * Printers for configmaps, secrets, serviceaccounts and leases, as Kubernetes' printConfigMap,
 * printSecret, printServiceAccount and printLease print them.
 */
import { AGE_COLUMN, NAME_COLUMN, age, column, type Loose, type PrintContext, type Printer } from './format.js';

const size = (map: unknown): number => Object.keys((map ?? {}) as object).length;

/** CONFIGMAP_PRINTER: NAME DATA AGE (DATA counts data and binaryData keys). */
export const CONFIGMAP_PRINTER: Printer = {
  columns: [NAME_COLUMN, column('Data', 'integer', ['io.k8s.api.core.v1.ConfigMap', 'data']), AGE_COLUMN],
  cells: (cm: Loose, ctx: PrintContext) => [cm.metadata?.name ?? '', size(cm.data) + size(cm.binaryData), age(cm, ctx)],
};

/** SECRET_PRINTER: NAME TYPE DATA AGE. */
export const SECRET_PRINTER: Printer = {
  columns: [
    NAME_COLUMN,
    column('Type', 'string', ['io.k8s.api.core.v1.Secret', 'type']),
    column('Data', 'integer', ['io.k8s.api.core.v1.Secret', 'data']),
    AGE_COLUMN,
  ],
  cells: (s: Loose, ctx: PrintContext) => [s.metadata?.name ?? '', s.type ?? 'Opaque', size(s.data), age(s, ctx)],
};

/** SERVICEACCOUNT_PRINTER: NAME SECRETS AGE. */
export const SERVICEACCOUNT_PRINTER: Printer = {
  columns: [NAME_COLUMN, column('Secrets', 'string', ['io.k8s.api.core.v1.ServiceAccount', 'secrets']), AGE_COLUMN],
  cells: (sa: Loose, ctx: PrintContext) => [sa.metadata?.name ?? '', ((sa.secrets ?? []) as unknown[]).length, age(sa, ctx)],
};

/** LEASE_PRINTER: NAME HOLDER AGE. */
export const LEASE_PRINTER: Printer = {
  columns: [NAME_COLUMN, column('Holder', 'string', ['io.k8s.api.coordination.v1.LeaseSpec', 'holderIdentity']), AGE_COLUMN],
  cells: (l: Loose, ctx: PrintContext) => [l.metadata?.name ?? '', l.spec?.holderIdentity ?? '', age(l, ctx)],
};
