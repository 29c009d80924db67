/**
 * Storage schema versions: how a store adapter's layout (SQLite tables and indexes, a Cosmos DB
 * container's indexing policy) moves from one release to the next.
 *
 * Each adapter keeps an ordered list of numbered migrations (1, 2, 3, … with no gap), and records
 * in the store itself which ones were applied, when and by which release. Opening a store applies
 * the ones it lacks, in order, each idempotent (a crash between a migration and its record applies
 * it again harmlessly), so the release a cluster upgrade moves the control plane onto brings the
 * store to its layout before it serves. A store whose version is newer than the program's is
 * refused (StorageSchemaError) instead of being written by a program that does not know its
 * layout: a control plane only moves forward (shared/release/version.ts).
 *
 * The same rule as upstream's storage versions: a release reads what the release before it wrote,
 * and a migration leaves data the release before can still read (it adds; it never renames or
 * drops in the same release), because on Azure the old instances serve until the new ones have
 * replaced them.
 */

/** SchemaMigration is one numbered, described change to an adapter's layout, applied to `T` (a connection, a container). */
export interface SchemaMigration<T> {
  /** The schema version this migration brings the store to (the first is 1). */
  version: number;
  /** What it changes, for people: the upgrade's status and the Cluster's show it. */
  description: string;
  /** apply makes the change; safe to run again on a store that has it already. */
  apply(target: T): void | Promise<void>;
}

/** AppliedMigration is one migration as a store records it. */
export interface AppliedMigration {
  version: number;
  description: string;
  /** When it was applied (RFC 3339). */
  appliedAt: string;
  /** The release that applied it (`v1.35.0-coracle`). */
  release: string;
}

/** StorageSchema is what an opened store reports of its layout (Cluster status.storage). */
export interface StorageSchema {
  /** The adapter: `sqlite`, `cosmos`. */
  backend: string;
  /** The schema version the store is at now (the program's, once opened). */
  version: number;
  /** Every migration applied to it, oldest first. */
  migrations: AppliedMigration[];
}

/** StorageSchemaError refuses a store whose layout is newer than this program knows. */
export class StorageSchemaError extends Error {
  constructor(readonly storeVersion: number, readonly knownVersion: number, what: string) {
    super(`${what} is at storage schema version ${storeVersion}, newer than this release's (${knownVersion}): a newer release wrote it; run that release or a later one (a control plane never moves back)`);
    this.name = 'StorageSchemaError';
  }
}

/** latestVersion is the version a migration list brings a store to (0 for an empty list); throws when the list has a gap or is out of order. */
export function latestVersion<T>(migrations: readonly SchemaMigration<T>[]): number {
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) throw new Error(`schema migration ${i + 1} is numbered ${m.version}: migrations are numbered 1, 2, 3, … in order`);
  });
  return migrations.length;
}

/**
 * pendingMigrations is what a store at `current` lacks of `migrations`, in order; a StorageSchemaError
 * (naming `what`) when `current` is beyond the list's last version.
 */
export function pendingMigrations<T>(migrations: readonly SchemaMigration<T>[], current: number, what: string): SchemaMigration<T>[] {
  const known = latestVersion(migrations);
  if (current > known) throw new StorageSchemaError(current, known, what);
  return migrations.slice(current);
}

/** appliedNow is the record of `migration` applied now by `release`. */
export function appliedNow<T>(migration: SchemaMigration<T>, release: string, now = new Date()): AppliedMigration {
  return { version: migration.version, description: migration.description, appliedAt: now.toISOString().replace(/\.\d{3}Z$/, 'Z'), release };
}
