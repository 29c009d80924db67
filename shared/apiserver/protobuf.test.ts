import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { decodeProtobufObject } from './protobuf.js';
import { startApiServer, type Harness } from '../../test/support/apiserver.js';

/** The body kubectl v1.35 sends for `kubectl create configmap c1` (captured with -v=8). */
const KUBECTL_CREATE_CM = Buffer.from(
  '6b3873000a0f0a0276311209436f6e6669674d617012140a120a0263311200' + '1a0022002a00320038004200' + '1a002200', 'hex');

/** encode builds protobuf bytes: tag/value pairs, length-delimited for strings and nested buffers. */
function field(num: number, value: string | Buffer): Buffer {
  const bytes = typeof value === 'string' ? Buffer.from(value) : value;
  return Buffer.concat([Buffer.from([(num << 3) | 2, bytes.length]), bytes]);
}

let h: Harness;
beforeAll(async () => { h = await startApiServer(); });
afterAll(async () => { await h.close(); });

describe('protobuf bodies', () => {
  it('decodes what kubectl sends, dropping empty scalars', () => {
    expect(decodeProtobufObject(KUBECTL_CREATE_CM)).toEqual({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c1' } });
  });

  it('decodes maps, bytes (as base64) and labels', () => {
    const meta = Buffer.concat([field(1, 's'), field(11, Buffer.concat([field(1, 'app'), field(2, 'web')]))]);
    const raw = Buffer.concat([field(1, meta), field(2, Buffer.concat([field(1, 'k'), field(2, 'hi')])), field(3, 'Opaque')]);
    const body = Buffer.concat([Buffer.from('k8s\0'), field(1, Buffer.concat([field(1, 'v1'), field(2, 'Secret')])), field(2, raw)]);
    expect(decodeProtobufObject(body)).toEqual({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', labels: { app: 'web' } }, data: { k: 'aGk=' }, type: 'Opaque' });
  });

  it('creates from a protobuf body; other kinds and garbage are refused', async () => {
    const res = await h.json('POST', '/api/v1/namespaces/default/configmaps', KUBECTL_CREATE_CM as unknown as string, { 'content-type': 'application/vnd.kubernetes.protobuf' });
    expect(res.status).toBe(201);
    expect(res.body.metadata.name).toBe('c1');
    const pod = Buffer.concat([Buffer.from('k8s\0'), field(1, Buffer.concat([field(1, 'v1'), field(2, 'Pod')])), field(2, Buffer.alloc(0))]);
    expect((await h.json('POST', '/api/v1/namespaces/default/pods', pod as unknown as string, { 'content-type': 'application/vnd.kubernetes.protobuf' })).status).toBe(415);
    expect((await h.json('POST', '/api/v1/namespaces/default/configmaps', 'nonsense', { 'content-type': 'application/vnd.kubernetes.protobuf' })).status).toBe(400);
  });
});
