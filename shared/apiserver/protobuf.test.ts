import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { decodeProtobufObject } from './protobuf.js';
import { startApiServer, type Harness } from '../../test/support/apiserver.js';

/** The body kubectl v1.35 sends for `kubectl create configmap c1` (captured with -v=8). */
const KUBECTL_CREATE_CM = Buffer.from(
  '6b3873000a0f0a0276311209436f6e6669674d617012140a120a0263311200' + '1a0022002a00320038004200' + '1a002200', 'hex');

function varint(n: number | bigint): Buffer {
  let v = BigInt.asUintN(64, BigInt(n));
  const out: number[] = [];
  do {
    const b = Number(v & 0x7fn);
    v >>= 7n;
    out.push(v ? b | 0x80 : b);
  } while (v);
  return Buffer.from(out);
}
/** bytesField encodes a length-delimited field (a string or a nested message). */
function msg(num: number, value: string | Buffer): Buffer {
  const bytes = typeof value === 'string' ? Buffer.from(value) : value;
  return Buffer.concat([varint((num << 3) | 2), varint(bytes.length), bytes]);
}
/** num encodes a varint field. */
function num(field: number, value: number | bigint | boolean): Buffer {
  return Buffer.concat([varint(field << 3), varint(typeof value === 'boolean' ? Number(value) : value)]);
}
const cat = (...parts: Buffer[]) => Buffer.concat(parts);
function envelope(apiVersion: string, kind: string, raw: Buffer): Buffer {
  return cat(Buffer.from('k8s\0'), msg(1, cat(msg(1, apiVersion), msg(2, kind))), msg(2, raw));
}

let h: Harness;
beforeAll(async () => { h = await startApiServer(); });
afterAll(async () => { await h.close(); });

describe('protobuf bodies', () => {
  it('decodes what kubectl sends, dropping empty scalars and zero times', () => {
    expect(decodeProtobufObject(KUBECTL_CREATE_CM)).toEqual({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c1' } });
  });

  it('decodes maps, bytes (as base64) and labels', () => {
    const meta = cat(msg(1, 's'), msg(11, cat(msg(1, 'app'), msg(2, 'web'))));
    const raw = cat(msg(1, meta), msg(2, cat(msg(1, 'k'), msg(2, 'hi'))), msg(3, 'Opaque'));
    expect(decodeProtobufObject(envelope('v1', 'Secret', raw)))
      .toEqual({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', labels: { app: 'web' } }, data: { k: 'aGk=' }, type: 'Opaque' });
  });

  it('keeps zero pointer fields, empty structs, int-or-strings, quantities, times and inlined structs', () => {
    // Deployment{metadata{name, creationTimestamp=2024-01-02T03:04:05Z}, spec{replicas: 0 (pointer),
    //   paused: false (not a pointer), strategy{rollingUpdate{maxSurge: "25%", maxUnavailable: 1}},
    //   template{spec{containers[{name, image, ports[{containerPort 80}], resources{limits{cpu: 500m}}}],
    //   volumes[{name, emptyDir{}}], securityContext{supplementalGroups packed [1, 2]}}}}}
    const time = cat(num(1, 1704164645));
    const meta = cat(msg(1, 'web'), num(7, 0), msg(8, time));
    const intOrStr = (v: number | string) => typeof v === 'number' ? cat(num(1, 0), num(2, v)) : cat(num(1, 1), msg(3, v));
    const strategy = cat(msg(1, 'RollingUpdate'), msg(2, cat(msg(1, intOrStr(1)), msg(2, intOrStr('25%')))));
    const container = cat(msg(1, 'c'), msg(2, 'busybox'), msg(6, cat(num(3, 80))),
      msg(8, cat(msg(1, cat(msg(1, 'cpu'), msg(2, msg(1, '500m')))))));
    const volume = cat(msg(1, 'scratch'), msg(2, msg(2, Buffer.alloc(0))));
    const podSpec = cat(msg(1, volume), msg(2, container), msg(14, msg(4, cat(varint(1), varint(2)))));
    const spec = cat(num(1, 0), msg(3, msg(2, podSpec)), msg(4, strategy), num(7, false));
    const out = decodeProtobufObject(envelope('apps/v1', 'Deployment', cat(msg(1, meta), msg(2, spec), msg(3, Buffer.alloc(0)))));
    expect(out).toEqual({
      apiVersion: 'apps/v1', kind: 'Deployment',
      metadata: { name: 'web', creationTimestamp: '2024-01-02T03:04:05Z' },
      spec: {
        replicas: 0,
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: '25%' } },
        template: { spec: {
          volumes: [{ name: 'scratch', emptyDir: {} }],
          containers: [{ name: 'c', image: 'busybox', ports: [{ containerPort: 80 }], resources: { limits: { cpu: '500m' } } }],
          securityContext: { supplementalGroups: [1, 2] },
        } },
      },
      status: {},
    });
  });

  it('decodes micro times (Lease) and 64-bit integers', () => {
    const spec = cat(msg(1, 'holder'), num(2, 15), msg(4, cat(num(1, 1704164645), num(2, 123456789))));
    const out = decodeProtobufObject(envelope('coordination.k8s.io/v1', 'Lease', cat(msg(1, msg(1, 'l')), msg(2, spec))));
    expect(out.spec).toEqual({ holderIdentity: 'holder', leaseDurationSeconds: 15, renewTime: '2024-01-02T03:04:05.123456Z' });
  });

  it('creates from a protobuf body; unknown kinds and garbage are refused', async () => {
    const pb = { 'content-type': 'application/vnd.kubernetes.protobuf' };
    const res = await h.json('POST', '/api/v1/namespaces/default/configmaps', KUBECTL_CREATE_CM as unknown as string, pb);
    expect(res.status).toBe(201);
    expect(res.body.metadata.name).toBe('c1');
    const pod = envelope('v1', 'Pod', cat(msg(1, msg(1, 'p')), msg(2, msg(2, cat(msg(1, 'c'), msg(2, 'busybox'))))));
    const created = await h.json('POST', '/api/v1/namespaces/default/pods', pod as unknown as string, pb);
    expect([created.status, created.body.spec.containers[0].image]).toEqual([201, 'busybox']);
    const job = envelope('batch/v1', 'Job', Buffer.alloc(0));
    expect((await h.json('POST', '/api/v1/namespaces/default/pods', job as unknown as string, pb)).status).toBe(415);
    expect((await h.json('POST', '/api/v1/namespaces/default/configmaps', 'nonsense', pb)).status).toBe(400);
    const truncated = KUBECTL_CREATE_CM.subarray(0, 20);
    expect((await h.json('POST', '/api/v1/namespaces/default/configmaps', truncated as unknown as string, pb)).status).toBe(400);
  });
});
