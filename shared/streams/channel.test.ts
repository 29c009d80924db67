import { describe, expect, it } from '@jest/globals';
import { CHANNEL, decodeMessage, encodeClose, encodeData, exitStatus, failureStatus, parseResize, successStatus } from './channel.js';

describe('the channel protocol (v4/v5.channel.k8s.io)', () => {
  it('frames data as one stream byte and the payload, and reads it back', () => {
    const frame = encodeData(CHANNEL.stdout, 'hi');
    expect([...frame]).toEqual([1, 0x68, 0x69]);
    expect(decodeMessage(frame)).toEqual({ kind: 'data', channel: 1, data: Buffer.from('hi') });
    expect(decodeMessage(encodeData(CHANNEL.stdin, new Uint8Array()))).toEqual({ kind: 'data', channel: 0, data: Buffer.alloc(0) });
  });

  it('frames v5 close messages as 255 and the stream closed', () => {
    expect([...encodeClose(CHANNEL.stdin)]).toEqual([255, 0]);
    expect(decodeMessage(encodeClose(CHANNEL.stdin))).toEqual({ kind: 'close', channel: 0 });
    expect(decodeMessage(Buffer.from([255]))).toBeUndefined();
    expect(decodeMessage(Buffer.alloc(0))).toBeUndefined();
  });

  it('reads resize messages as kubectl writes them and ignores bad ones', () => {
    expect(parseResize(Buffer.from('{"Width":120,"Height":40}'))).toEqual({ width: 120, height: 40 });
    expect(parseResize(Buffer.from('{"Width":-1,"Height":40}'))).toBeUndefined();
    expect(parseResize(Buffer.from('not json'))).toBeUndefined();
  });

  it('writes the kubelet\'s final Statuses, the exit code as the ExitCode cause kubectl exits with', () => {
    expect(successStatus()).toEqual({ metadata: {}, status: 'Success' });
    expect(exitStatus(['sh', '-c', 'exit 3'], 3)).toEqual({
      metadata: {}, status: 'Failure', reason: 'NonZeroExitCode',
      message: 'command terminated with non-zero exit code: error executing command [sh -c exit 3], exit code 3',
      details: { causes: [{ reason: 'ExitCode', message: '3' }] },
    });
    expect(failureStatus('gone', 404, 'NotFound')).toEqual({ metadata: {}, status: 'Failure', message: 'gone', reason: 'NotFound', code: 404 });
  });
});
