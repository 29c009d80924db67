import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { AuditEvent } from '../../shared/audit/audit.js';
import { fileAuditSink } from './file.js';

const event = (i: number): AuditEvent => ({
  kind: 'Event', apiVersion: 'audit.k8s.io/v1', level: 'Metadata', auditID: `id-${i}`, stage: 'ResponseComplete', requestURI: `/api/v1/namespaces/default/pods/p-${i}`,
  verb: 'get', user: { username: 'admin', groups: ['system:masters'] }, sourceIPs: ['127.0.0.1'], requestReceivedTimestamp: '2026-12-06T22:00:00.000000Z', stageTimestamp: '2026-12-06T22:00:00.001000Z',
});

describe('fileAuditSink', () => {
  it('writes one JSON event per line, mode 0600, and rotates by size keeping maxBackups files', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'coracle-audit-'));
    const file = path.join(dir, 'audit', 'audit.log');
    const sink = fileAuditSink({ file, maxBytes: 4096, maxBackups: 2 });
    for (let i = 0; i < 200; i++) {
      sink.write(event(i));
      // Let the stream see its size grow (it rotates between writes, not inside one).
      if (i % 10 === 9) await new Promise((r) => setImmediate(r));
    }
    await sink.close();
    const files = readdirSync(path.dirname(file)).sort();
    expect(files).toEqual(['audit.log', 'audit.log.1', 'audit.log.2']);
    for (const f of files) {
      expect(statSync(path.join(path.dirname(file), f)).mode & 0o777).toBe(0o600);
      expect(statSync(path.join(path.dirname(file), f)).size).toBeLessThanOrEqual(4096 + 400);
    }
    const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as AuditEvent);
    expect(lines.at(-1)).toEqual(event(199));
  });
});
