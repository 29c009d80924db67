/**
 * The stored line format: Kubernetes' CRI log format, one record per line,
 * `<RFC3339Nano time> <stream> <tag> <text>\n` (`2016-10-06T00:17:09.669794202Z stdout F text`).
 * Tag `F` ends a line; `P` is a part of a long line whose rest follows (as the kubelet splits
 * lines longer than 16 KiB), so one record never grows past a few tens of KiB.
 */
import type { LogLine } from '../../../shared/logs/logsink.js';

/** MAX_RECORD_CHARS is the longest text one record carries before a line is split into P parts. */
export const MAX_RECORD_CHARS = 16 * 1024;

const NEWLINE = 0x0a;

/** formatLines encodes lines as records; a text holding newlines becomes several lines (same time and stream). */
export function formatLines(lines: readonly LogLine[]): string {
  let out = '';
  for (const line of lines) {
    for (const text of line.text.split('\n')) {
      let rest = text.endsWith('\r') ? text.slice(0, -1) : text;
      while (rest.length > MAX_RECORD_CHARS) {
        out += `${line.time} ${line.stream} P ${rest.slice(0, MAX_RECORD_CHARS)}\n`;
        rest = rest.slice(MAX_RECORD_CHARS);
      }
      out += `${line.time} ${line.stream} F ${rest}\n`;
    }
  }
  return out;
}

/** LogRecord is one stored record: a whole line (`partial: false`) or a leading part of one. */
export interface LogRecord extends LogLine {
  partial: boolean;
}

/** parseRecord decodes one record (without its newline); a malformed one is kept whole as stdout text. */
export function parseRecord(text: string): LogRecord {
  const m = /^(\S+) (stdout|stderr) ([FP]) /.exec(text);
  if (!m) return { time: '', stream: 'stdout', partial: false, text };
  return { time: m[1]!, stream: m[2] as LogLine['stream'], partial: m[3] === 'P', text: text.slice(m[0].length) };
}

/**
 * splitRecords cuts `bytes` at newlines: the complete records, the bytes before the first newline
 * (`head`, possibly the tail of an earlier record) and the bytes after the last one (`rest`).
 * Newline bytes never occur inside a UTF-8 sequence, so every record decodes whole.
 */
export function splitRecords(bytes: Buffer): { head: Buffer; records: string[]; rest: Buffer } {
  const first = bytes.indexOf(NEWLINE);
  if (first < 0) return { head: bytes, records: [], rest: Buffer.alloc(0) };
  const last = bytes.lastIndexOf(NEWLINE);
  const records = first === last ? [] : bytes.subarray(first + 1, last).toString('utf8').split('\n');
  return { head: bytes.subarray(0, first), records, rest: bytes.subarray(last + 1) };
}

/** joinRecords assembles records (in order, starting at a line's first record) into lines; a trailing partial line is kept. */
export function joinRecords(records: readonly LogRecord[]): LogLine[] {
  const lines: LogLine[] = [];
  let pending: LogRecord | undefined;
  for (const r of records) {
    if (pending) {
      pending = { ...pending, text: pending.text + r.text, partial: r.partial };
    } else pending = r;
    if (!pending.partial) {
      lines.push({ time: pending.time, stream: pending.stream, text: pending.text });
      pending = undefined;
    }
  }
  if (pending) lines.push({ time: pending.time, stream: pending.stream, text: pending.text });
  return lines;
}

/** timeMs is a line's time in epoch milliseconds (NaN if unparseable). */
export function timeMs(line: Pick<LogLine, 'time'>): number {
  return Date.parse(line.time);
}

/** lineBytes is what a line costs against `limitBytes`: its UTF-8 text and newline. */
export function lineBytes(line: LogLine): number {
  return Buffer.byteLength(line.text, 'utf8') + 1;
}

/**
 * applyLimitBytes keeps lines until `limitBytes` (text plus newline each) is reached; the line
 * that crosses the limit is cut (as the kubelet's limit writer cuts its output).
 */
export function applyLimitBytes(lines: readonly LogLine[], limitBytes: number | undefined): LogLine[] {
  if (limitBytes === undefined) return [...lines];
  const out: LogLine[] = [];
  let left = limitBytes;
  for (const line of lines) {
    if (left <= 0) break;
    const cost = lineBytes(line);
    if (cost <= left) {
      out.push(line);
      left -= cost;
    } else {
      out.push({ ...line, text: Buffer.from(line.text, 'utf8').subarray(0, left).toString('utf8') });
      left = 0;
    }
  }
  return out;
}
