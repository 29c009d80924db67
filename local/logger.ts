/**
 * The process logger: pino, JSON lines to stderr (stdout carries the CLI's own output), level
 * from CORACLE_LOG_LEVEL (default `warn`, so the one ready line stands out).
 */
import { pino, type Logger } from 'pino';

/** createLogger returns a logger writing synchronously to stderr, so nothing is lost on exit. */
export function createLogger(level: string = process.env.CORACLE_LOG_LEVEL || 'warn'): Logger {
  return pino({ name: 'coracle', level }, pino.destination({ fd: 2, sync: true }));
}

export type { Logger };
