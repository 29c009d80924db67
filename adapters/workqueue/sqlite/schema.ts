/**
 * Opening an embedded WorkQueue file: pragmas, schema, and refusing files that are not ours.
 *
 * One row per message. A message is deliverable when `visible_at <= now`: a receive sets
 * `visible_at` to the end of its lock (and a fresh `lock_token`), so an expired lock makes the
 * message deliverable again without any sweeper; abandon sets it to now (+ delay). The row id
 * orders the queue (oldest first), and an abandoned message keeps its place, as in Service Bus.
 */
import Database from 'better-sqlite3';

/** SqliteDatabase is the better-sqlite3 connection type. */
export type SqliteDatabase = Database.Database;

/** Marks a file as a Coracle queue ("CRQU"), so another application's database is refused. */
const APPLICATION_ID = 0x43525155;
const SCHEMA_VERSION = 1;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS messages (
  seq            INTEGER PRIMARY KEY AUTOINCREMENT, -- queue order
  queue          TEXT    NOT NULL,
  message_id     TEXT    NOT NULL UNIQUE,
  body           TEXT    NOT NULL,                  -- JSON object
  enqueued_at    INTEGER NOT NULL,                  -- epoch ms
  visible_at     INTEGER NOT NULL,                  -- deliverable from (epoch ms); a lock's end while locked
  delivery_count INTEGER NOT NULL DEFAULT 0,
  lock_token     TEXT                               -- the current (or last) delivery's lock
);
CREATE INDEX IF NOT EXISTS messages_due ON messages (queue, visible_at, seq);
CREATE TABLE IF NOT EXISTS dead_letters (
  seq              INTEGER PRIMARY KEY AUTOINCREMENT,
  queue            TEXT    NOT NULL,
  message_id       TEXT    NOT NULL,
  body             TEXT    NOT NULL,
  enqueued_at      INTEGER NOT NULL,
  delivery_count   INTEGER NOT NULL,
  reason           TEXT    NOT NULL,
  dead_lettered_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS dead_letters_queue ON dead_letters (queue, seq);
`;

/**
 * openQueueDatabase opens (creating if absent) a queue file in WAL mode.
 *
 * Durability: `synchronous=NORMAL`. In WAL mode a commit is in the WAL before it is
 * acknowledged, so an acknowledged send survives the process being killed; only a power cut can
 * lose the last commits, and the agents' periodic full resync recovers whatever pod work that
 * drops. Anything that is not a usable queue file throws an Error whose message names `path`.
 */
export function openQueueDatabase(path: string): SqliteDatabase {
  let db: SqliteDatabase | undefined;
  try {
    db = new Database(path, { timeout: 5_000 });
    if (path !== ':memory:') db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    ensureSchema(db);
    return db;
  } catch (err) {
    db?.close();
    const reason = err instanceof Error ? err.message : String(err);
    throw new Error(`cannot open SQLite queue ${JSON.stringify(path)}: ${reason}`, { cause: err });
  }
}

function ensureSchema(db: SqliteDatabase): void {
  // Reading the schema first makes SQLite parse the header: garbage fails here, not later.
  const objects = db.prepare('SELECT count(*) AS n FROM sqlite_schema').get() as { n: number };
  const applicationId = db.pragma('application_id', { simple: true }) as number;
  if (objects.n > 0 && applicationId !== APPLICATION_ID) {
    throw new Error('the file is an SQLite database, but not a Coracle queue (application_id differs)');
  }
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > SCHEMA_VERSION) throw new Error(`queue schema version ${version} is newer than this program's (${SCHEMA_VERSION})`);
  db.transaction(() => {
    db.exec(SCHEMA);
    db.pragma(`application_id = ${APPLICATION_ID}`);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  }).immediate();
}
