/**
 * The durable engine's state in SQLite (`<data-dir>/durable.db`, WAL, synchronous=FULL: a
 * committed step survives kill -9).
 *
 * - `instances`: one row per orchestration instance (its current generation: execution id,
 *   status, input/output, custom status, the next sequence number the library will take and
 *   how many of its actions were already acted on).
 * - `history`: the current generation's events, in order.
 * - `messages`: the instance's inbox — events not yet in its history (starts, completions,
 *   timers with `visible_at` = fire time, external events, terminate requests). Messages for a
 *   task carry the generation they belong to; external events carry none (they go to whichever
 *   generation is current).
 * - `activities`: activity calls to run (at least once: a row goes only when its result is
 *   committed as a message).
 * - `tasks`: bookkeeping for numbers the library takes by itself (retries, long timers).
 * Every step of an orchestration is one transaction.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { RetryPolicy } from './actions.js';
import type { HistoryEvent } from './history.js';

/** RuntimeStatus is the orchestration status as the durable HTTP API names it. */
export type RuntimeStatus = 'Pending' | 'Running' | 'Completed' | 'Failed' | 'Terminated';

/** TERMINAL are the statuses an instance never leaves (a new start replaces it). */
export const TERMINAL: ReadonlySet<RuntimeStatus> = new Set(['Completed', 'Failed', 'Terminated']);

/** InstanceRow is one instance's current generation. */
export interface InstanceRow {
  id: string;
  name: string;
  execution_id: string;
  status: RuntimeStatus;
  input: string | null;
  output: string | null;
  custom_status: string | null;
  created_at: string;
  updated_at: string;
  parent_id: string | null;
  parent_execution_id: string | null;
  parent_task_id: number | null;
  next_seq: number;
  actions_seen: number;
}

/** MessageRow is one inbox message. */
export interface MessageRow {
  id: number;
  instance_id: string;
  execution_id: string | null;
  priority: number;
  visible_at: number;
  event: HistoryEvent;
}

/** NewMessage is a message to insert. */
export type NewMessage = Omit<MessageRow, 'id' | 'priority'> & { priority?: number };

/** ActivityRow is one activity call to run. */
export interface ActivityRow {
  id: number;
  instance_id: string;
  execution_id: string;
  task_id: number;
  name: string;
  input: string;
}

/** RetryState follows one `...WithRetry` task across its attempts (the library's attemptNumber). */
export interface RetryState {
  policy: RetryPolicy;
  attempt: number;
  firstAt: number;
  /** Set once the retry timeout passed: the remaining attempts fail at once, without running. */
  givenUp?: boolean;
  lastError?: { Reason: string; Details: string };
}

/** TaskRecord is the bookkeeping for one sequence number the library may take more numbers after. */
export type TaskRecord =
  | { kind: 'activity'; name: string; input: string; retry: RetryState }
  | { kind: 'sub'; name: string; instanceId: string; input: string | null; retry: RetryState }
  | { kind: 'retryTimer'; of: { kind: 'activity' | 'sub'; name: string; instanceId?: string; input: string | null; retry: RetryState } }
  | { kind: 'longTimer'; finalAt: number };

/** StepWrite is everything one orchestration step commits at once. */
export interface StepWrite {
  instance: InstanceRow;
  /** Replace the history (a new generation) instead of appending to it. */
  replaceHistory?: boolean;
  history: HistoryEvent[];
  consumed: number[];
  messages: NewMessage[];
  activities: Array<Omit<ActivityRow, 'id'> & { visible_at: number }>;
  tasks: Array<{ taskId: number; record: TaskRecord | undefined }>;
  /** Drop the pending messages, activities and tasks of these generations (ended or replaced). */
  dropExecutions: string[];
  /** Child instances to create (sub-orchestrations), each replacing a finished one of the same id. */
  children: Array<{ instance: InstanceRow; start: NewMessage }>;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS instances (
  id TEXT PRIMARY KEY, name TEXT NOT NULL, execution_id TEXT NOT NULL, status TEXT NOT NULL,
  input TEXT, output TEXT, custom_status TEXT, created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
  parent_id TEXT, parent_execution_id TEXT, parent_task_id INTEGER,
  next_seq INTEGER NOT NULL DEFAULT 0, actions_seen INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS instances_created ON instances (created_at);
CREATE TABLE IF NOT EXISTS history (instance_id TEXT NOT NULL, pos INTEGER NOT NULL, event TEXT NOT NULL, PRIMARY KEY (instance_id, pos));
CREATE TABLE IF NOT EXISTS messages (id INTEGER PRIMARY KEY AUTOINCREMENT, instance_id TEXT NOT NULL, execution_id TEXT,
  priority INTEGER NOT NULL DEFAULT 1, visible_at INTEGER NOT NULL, event TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS messages_due ON messages (visible_at);
CREATE INDEX IF NOT EXISTS messages_instance ON messages (instance_id, priority, id);
CREATE TABLE IF NOT EXISTS activities (id INTEGER PRIMARY KEY AUTOINCREMENT, instance_id TEXT NOT NULL, execution_id TEXT NOT NULL,
  task_id INTEGER NOT NULL, name TEXT NOT NULL, input TEXT NOT NULL, visible_at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS activities_due ON activities (visible_at, id);
CREATE TABLE IF NOT EXISTS tasks (instance_id TEXT NOT NULL, execution_id TEXT NOT NULL, task_id INTEGER NOT NULL, record TEXT NOT NULL,
  PRIMARY KEY (instance_id, task_id));
`;

type Row = Record<string, unknown>;

/** DurableStore is the engine's persistence; one per data folder and process. */
export class DurableStore {
  private readonly db: Database.Database;
  // Statements compiled once (a prepare per call cost ~5% of a busy control plane's CPU in bench:scheduler).
  private readonly statements = new Map<string, Database.Statement>();

  constructor(file: string) {
    mkdirSync(path.dirname(file), { recursive: true });
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(SCHEMA);
  }

  /** sql is the prepared statement of `text`, compiled on first use. */
  private sql(text: string): Database.Statement {
    let statement = this.statements.get(text);
    if (!statement) this.statements.set(text, (statement = this.db.prepare(text)));
    return statement;
  }

  /** countsByStatus counts the instances of each orchestrator name with each status. */
  countsByStatus(): Array<{ name: string; status: RuntimeStatus; count: number }> {
    return this.sql('SELECT name, status, COUNT(*) AS count FROM instances GROUP BY name, status').all() as Array<{ name: string; status: RuntimeStatus; count: number }>;
  }

  /** open is false once closed. */
  get open(): boolean {
    return this.db.open;
  }

  close(): void {
    this.db.close();
  }

  instance(id: string): InstanceRow | undefined {
    return this.sql('SELECT * FROM instances WHERE id = ?').get(id) as InstanceRow | undefined;
  }

  history(id: string): HistoryEvent[] {
    return (this.sql('SELECT event FROM history WHERE instance_id = ? ORDER BY pos').all(id) as Row[]).map((r) => JSON.parse(String(r.event)) as HistoryEvent);
  }

  /** readyMessages lists the instance's visible messages in delivery order. */
  readyMessages(id: string, now: number): MessageRow[] {
    const rows = this.sql('SELECT * FROM messages WHERE instance_id = ? AND visible_at <= ? ORDER BY priority, id').all(id, now) as Row[];
    return rows.map((r) => ({ ...(r as unknown as MessageRow), event: JSON.parse(String(r.event)) as HistoryEvent }));
  }

  /** dueInstances lists instances with a visible message, skipping `busy` ones. */
  dueInstances(now: number, limit: number, busy: ReadonlySet<string>): string[] {
    const rows = this.sql('SELECT DISTINCT instance_id FROM messages WHERE visible_at <= ? LIMIT ?').all(now, limit + busy.size) as Row[];
    return rows.map((r) => String(r.instance_id)).filter((id) => !busy.has(id)).slice(0, limit);
  }

  /** dueActivities lists activities ready to run, skipping `busy` ones. */
  dueActivities(now: number, limit: number, busy: ReadonlySet<number>): ActivityRow[] {
    const rows = this.sql('SELECT * FROM activities WHERE visible_at <= ? ORDER BY id LIMIT ?').all(now, limit + busy.size) as ActivityRow[];
    return rows.filter((r) => !busy.has(r.id)).slice(0, limit);
  }

  /** nextDueAt is the earliest future time a message or activity becomes visible. */
  nextDueAt(now: number): number | undefined {
    const row = this.sql('SELECT MIN(t) AS t FROM (SELECT MIN(visible_at) AS t FROM messages WHERE visible_at > ? UNION ALL SELECT MIN(visible_at) FROM activities WHERE visible_at > ?)').get(now, now) as Row;
    return row.t === null ? undefined : Number(row.t);
  }

  tasks(id: string): Map<number, TaskRecord> {
    const rows = this.sql('SELECT task_id, record FROM tasks WHERE instance_id = ?').all(id) as Row[];
    return new Map(rows.map((r) => [Number(r.task_id), JSON.parse(String(r.record)) as TaskRecord]));
  }

  activityExists(id: number): boolean {
    return this.sql('SELECT 1 FROM activities WHERE id = ?').get(id) !== undefined;
  }

  /** commitStep writes one orchestration step atomically. */
  commitStep(w: StepWrite): void {
    this.db.transaction(() => {
      const id = w.instance.id;
      for (const exec of w.dropExecutions) this.dropExecution(id, exec);
      if (w.replaceHistory) this.sql('DELETE FROM history WHERE instance_id = ?').run(id);
      this.appendHistory(id, w.history);
      const del = this.sql('DELETE FROM messages WHERE id = ?');
      for (const m of w.consumed) del.run(m);
      this.putInstance(w.instance);
      for (const m of w.messages) this.insertMessage(m);
      const act = this.sql('INSERT INTO activities (instance_id, execution_id, task_id, name, input, visible_at) VALUES (?, ?, ?, ?, ?, ?)');
      for (const a of w.activities) act.run(a.instance_id, a.execution_id, a.task_id, a.name, a.input, a.visible_at);
      for (const t of w.tasks) {
        if (t.record) this.sql('INSERT OR REPLACE INTO tasks (instance_id, execution_id, task_id, record) VALUES (?, ?, ?, ?)').run(id, w.instance.execution_id, t.taskId, JSON.stringify(t.record));
        else this.sql('DELETE FROM tasks WHERE instance_id = ? AND task_id = ?').run(id, t.taskId);
      }
      for (const child of w.children) this.replaceInstance(child.instance, child.start);
    }).immediate();
  }

  /** deleteMessages drops messages addressed to an instance that no longer takes them. */
  deleteMessages(ids: readonly number[]): void {
    const del = this.sql('DELETE FROM messages WHERE id = ?');
    this.db.transaction(() => ids.forEach((id) => del.run(id))).immediate();
  }

  /** completeActivity turns a finished activity into its result message; false if the call was dropped meanwhile. */
  completeActivity(activityId: number, message: NewMessage): boolean {
    return this.db.transaction(() => {
      if (this.sql('DELETE FROM activities WHERE id = ?').run(activityId).changes === 0) return false;
      this.insertMessage(message);
      return true;
    }).immediate();
  }

  /**
   * createInstance starts `row` with its ExecutionStarted message unless an instance of that id
   * is Pending or Running (then it returns that one and writes nothing); a finished one is replaced.
   */
  createInstance(row: InstanceRow, start: NewMessage): { created: boolean; existing?: InstanceRow } {
    return this.db.transaction(() => {
      const existing = this.instance(row.id);
      if (existing && (existing.status === 'Pending' || existing.status === 'Running')) return { created: false, existing };
      this.replaceInstance(row, start);
      return { created: true };
    }).immediate();
  }

  /** addMessage queues a message for an instance if it exists and is not finished; returns the instance's status before. */
  addMessageIfActive(message: NewMessage): RuntimeStatus | undefined {
    return this.db.transaction(() => {
      const inst = this.instance(message.instance_id);
      if (inst && !TERMINAL.has(inst.status)) this.insertMessage(message);
      return inst?.status;
    }).immediate();
  }

  /** purge deletes an instance and everything it left; returns whether it existed. */
  purge(id: string): boolean {
    return this.db.transaction(() => {
      for (const table of ['history', 'messages', 'activities', 'tasks']) this.sql(`DELETE FROM ${table} WHERE instance_id = ?`).run(id);
      return this.sql('DELETE FROM instances WHERE id = ?').run(id).changes > 0;
    }).immediate();
  }

  /** query lists instances (oldest first) matching the filter, after `after` (a created_at + id cursor). */
  query(filter: { statuses?: readonly string[]; createdFrom?: string; createdTo?: string; prefix?: string }, limit: number, after?: { created: string; id: string }): InstanceRow[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (filter.statuses?.length) {
      where.push(`status IN (${filter.statuses.map(() => '?').join(',')})`);
      args.push(...filter.statuses);
    }
    const add = (clause: string, ...values: unknown[]) => {
      where.push(clause);
      args.push(...values);
    };
    if (filter.createdFrom) add('created_at >= ?', filter.createdFrom);
    if (filter.createdTo) add('created_at <= ?', filter.createdTo);
    if (filter.prefix) add('substr(id, 1, ?) = ?', filter.prefix.length, filter.prefix);
    if (after) add('(created_at > ? OR (created_at = ? AND id > ?))', after.created, after.created, after.id);
    const sql = `SELECT * FROM instances ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at, id LIMIT ?`;
    return this.db.prepare(sql).all(...args, limit) as InstanceRow[];
  }

  private appendHistory(id: string, events: readonly HistoryEvent[]): void {
    if (events.length === 0) return;
    const row = this.sql('SELECT COALESCE(MAX(pos), -1) AS pos FROM history WHERE instance_id = ?').get(id) as Row;
    let pos = Number(row.pos);
    const ins = this.sql('INSERT INTO history (instance_id, pos, event) VALUES (?, ?, ?)');
    for (const e of events) ins.run(id, ++pos, JSON.stringify(e));
  }

  private insertMessage(m: NewMessage): void {
    this.sql('INSERT INTO messages (instance_id, execution_id, priority, visible_at, event) VALUES (?, ?, ?, ?, ?)')
      .run(m.instance_id, m.execution_id, m.priority ?? 1, m.visible_at, JSON.stringify(m.event));
  }

  private dropExecution(id: string, executionId: string): void {
    this.sql('DELETE FROM messages WHERE instance_id = ? AND execution_id = ?').run(id, executionId);
    this.sql('DELETE FROM activities WHERE instance_id = ? AND execution_id = ?').run(id, executionId);
    this.sql('DELETE FROM tasks WHERE instance_id = ? AND execution_id = ?').run(id, executionId);
  }

  private putInstance(r: InstanceRow): void {
    this.sql(`INSERT OR REPLACE INTO instances (id, name, execution_id, status, input, output, custom_status, created_at, updated_at,
      parent_id, parent_execution_id, parent_task_id, next_seq, actions_seen) VALUES (@id, @name, @execution_id, @status, @input, @output,
      @custom_status, @created_at, @updated_at, @parent_id, @parent_execution_id, @parent_task_id, @next_seq, @actions_seen)`).run(r);
  }

  private replaceInstance(row: InstanceRow, start: NewMessage): void {
    for (const table of ['history', 'messages', 'activities', 'tasks']) this.sql(`DELETE FROM ${table} WHERE instance_id = ?`).run(row.id);
    this.putInstance(row);
    this.insertMessage(start);
  }
}
