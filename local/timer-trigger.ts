/**
 * Timer triggers on the local host: NCRONTAB schedules (six fields, seconds first, UTC unless
 * WEBSITE_TIME_ZONE says otherwise) or a TimeSpan (`hh:mm:ss`) interval, `%Setting%` references
 * resolved from the environment, `runOnStartup` honoured. As in Azure, an invocation never
 * overlaps the previous one of the same function: a tick that finds it still running is skipped.
 */
import type { Timer } from '@azure/functions';
import { Cron } from 'croner';
import type { RegisteredFunction } from './functions-core.js';
import { triggerOf } from './functions-core.js';
import { invokeFunction, type InvokeOptions } from './invoke.js';

/** TimerErrorLogger is told about a failed timer invocation; the schedule goes on. */
export type TimerErrorLogger = (functionName: string, err: unknown) => void;

/** resolveAppSetting replaces a whole-value `%Name%` reference with the environment's value, as the Functions host does. */
export function resolveAppSetting(value: string, env: NodeJS.ProcessEnv = process.env): string {
  const m = /^%([^%]+)%$/.exec(value.trim());
  if (!m) return value;
  const resolved = env[m[1]!];
  if (resolved === undefined) throw new Error(`app setting "${m[1]}" is not set`);
  return resolved;
}

/** timeSpanMs parses a TimeSpan schedule (`hh:mm:ss` or `d.hh:mm:ss`), or returns undefined. */
function timeSpanMs(schedule: string): number | undefined {
  const m = /^(?:(\d+)\.)?(\d{1,2}):(\d{2}):(\d{2})$/.exec(schedule);
  if (!m) return undefined;
  const [days, h, min, s] = [m[1] ?? '0', m[2]!, m[3]!, m[4]!].map(Number) as [number, number, number, number];
  return (((days * 24 + h) * 60 + min) * 60 + s) * 1000;
}

/** NCRONTAB schedules are read in UTC unless WEBSITE_TIME_ZONE names another zone, as in Azure. */
const timeZone = (): string => process.env.WEBSITE_TIME_ZONE || 'UTC';

interface Scheduled {
  stop(): void;
}

/**
 * TimerTriggerRunner runs every timer-trigger function on its schedule until `stop()`.
 * Schedules are validated in the constructor so a bad one fails host start-up, naming the function.
 */
export class TimerTriggerRunner {
  private readonly scheduled: Scheduled[] = [];
  private readonly running = new Set<Promise<unknown>>();
  private readonly plans: Array<{ fn: RegisteredFunction; schedule: string; intervalMs?: number; runOnStartup: boolean }> = [];

  constructor(
    functions: Iterable<RegisteredFunction>,
    private readonly options: InvokeOptions,
    private readonly onError: TimerErrorLogger,
  ) {
    for (const fn of functions) {
      const trigger = triggerOf(fn.metadata);
      if (trigger.type !== 'timerTrigger') continue;
      const schedule = resolveAppSetting(String(trigger.schedule ?? ''));
      const intervalMs = timeSpanMs(schedule);
      if (intervalMs === undefined) {
        try {
          new Cron(schedule, { paused: true, timezone: timeZone() }).stop();
        } catch (err) {
          throw new Error(`function "${fn.metadata.name}": invalid timer schedule "${schedule}": ${(err as Error).message}`, { cause: err });
        }
      }
      this.plans.push({ fn, schedule, intervalMs, runOnStartup: trigger.runOnStartup === true });
    }
  }

  /** start begins every schedule (and the runOnStartup invocations). */
  start(): void {
    for (const plan of this.plans) {
      let busy = false;
      let last: Date | undefined;
      const tick = (nextRun: () => Date | null) => {
        if (busy) return;
        busy = true;
        const timer: Timer = {
          isPastDue: false,
          schedule: { adjustForDST: true },
          scheduleStatus: { last: (last ?? new Date(0)).toISOString(), next: nextRun()?.toISOString() ?? '', lastUpdated: new Date().toISOString() },
        };
        last = new Date();
        const run = invokeFunction(plan.fn, timer, this.options)
          .catch((err: unknown) => this.onError(plan.fn.metadata.name, err))
          .finally(() => {
            busy = false;
            this.running.delete(run);
          });
        this.running.add(run);
      };
      if (plan.intervalMs !== undefined) {
        const ms = plan.intervalMs;
        const handle = setInterval(() => tick(() => new Date(Date.now() + ms)), ms);
        this.scheduled.push({ stop: () => clearInterval(handle) });
        if (plan.runOnStartup) tick(() => new Date(Date.now() + ms));
      } else {
        const job: Cron = new Cron(plan.schedule, { timezone: timeZone() }, () => tick(() => job.nextRun()));
        this.scheduled.push(job);
        if (plan.runOnStartup) tick(() => job.nextRun());
      }
    }
  }

  /** stop ends every schedule and waits for running invocations to finish. */
  async stop(): Promise<void> {
    for (const s of this.scheduled.splice(0)) s.stop();
    await Promise.allSettled([...this.running]);
  }
}
