/**
 * The local AuditSink: one JSON event per line (kube-apiserver's `--audit-log-format=json`) in a
 * file of the data folder, mode 0600, rotated by size as `--audit-log-maxsize` and
 * `--audit-log-maxbackup` do: `audit.log` is renamed `audit.log.1` (and so on, the oldest dropped)
 * once it would pass `maxBytes`. Rotation is rotating-file-stream's (a well-kept library: classical
 * logrotate naming, size checks, buffered writes), so this file only formats and wires it.
 * One process writes one file: the Azure-shaped mode gives each instance its own.
 */
import { chmodSync, closeSync, mkdirSync, openSync } from 'node:fs';
import path from 'node:path';
import type { Writable } from 'node:stream';
import { createStream } from 'rotating-file-stream';
import type { AuditEvent, AuditSink } from '../../shared/audit/audit.js';

/** FileAuditSinkOptions name the file and its rotation. */
export interface FileAuditSinkOptions {
  file: string;
  /** Rotate once the file would pass this size (bytes). */
  maxBytes: number;
  /** How many rotated files are kept. */
  maxBackups: number;
}

/** fileAuditSink writes events to `options.file`, rotated by size. */
export function fileAuditSink(options: FileAuditSinkOptions): AuditSink {
  const dir = path.dirname(path.resolve(options.file));
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  // Made (or made private) here: the library's mode applies only to files it creates.
  closeSync(openSync(options.file, 'a', 0o600));
  chmodSync(options.file, 0o600);
  const stream = createStream(path.basename(options.file), {
    path: dir, size: `${Math.max(1, Math.ceil(options.maxBytes / 1024))}K`, rotate: options.maxBackups, mode: 0o600,
  });
  let warned = false;
  // Its typings' event map lacks Writable's own events under Node 22's types.
  (stream as Writable).on('error', (err: Error) => {
    if (!warned) console.warn(`audit: cannot write ${options.file}: ${err.message}`);
    warned = true;
  });
  return {
    write: (event: AuditEvent) => void stream.write(`${JSON.stringify(event)}\n`),
    close: () => new Promise<void>((resolve) => stream.end(() => resolve())),
  };
}
