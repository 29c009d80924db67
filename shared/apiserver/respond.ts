/**
 * Responses: JSON bodies, Status errors, and the one place where a StoreError becomes a
 * Kubernetes Status.
 */
import { isStoreError } from '../store/store.js';
import {
  alreadyExists, ApiError, badRequest, conflict, gone, internalError, isApiError, notFound, serviceUnavailable,
} from '../api/status.js';
import type { RequestInfo } from './context.js';

/** jsonResponse answers `body` as JSON with `status` and optional extra headers (e.g. Warning). */
export function jsonResponse(body: unknown, status = 200, headers?: HeadersInit): Response {
  return jsonTextResponse(JSON.stringify(body), status, headers);
}

/** jsonTextResponse answers JSON text already rendered, as jsonResponse does. */
export function jsonTextResponse(text: string, status = 200, headers?: HeadersInit): Response {
  const h = new Headers(headers);
  h.set('content-type', 'application/json');
  h.set('cache-control', 'no-cache, private');
  return new Response(text, { status, headers: h });
}

/** successStatus is the `Status` with `status: Success` some calls answer (delete, binding, eviction). */
export function successStatus(info: RequestInfo, extra: { uid?: string; code?: number } = {}): Record<string, unknown> {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Success',
    details: { name: info.name, group: info.resource.group || undefined, kind: info.resource.plural, ...(extra.uid ? { uid: extra.uid } : {}) },
    ...(extra.code ? { code: extra.code } : {}),
  };
}

/**
 * toApiError classifies any failure once: ApiErrors pass through, StoreErrors map by reason to
 * the Status Kubernetes gives for the resource at hand, anything else is 500 InternalError.
 */
export function toApiError(err: unknown, info?: RequestInfo): ApiError {
  if (isApiError(err)) return err;
  if (isStoreError(err)) {
    const group = info?.resource.group ?? '';
    const plural = info?.resource.plural ?? '';
    const name = info?.name ?? '';
    switch (err.reason) {
      case 'NotFound': return notFound(group, plural, name);
      case 'AlreadyExists': return alreadyExists(group, plural, name);
      case 'Conflict': return conflict(group, plural, name);
      case 'Gone': return gone(`too old resource version: ${err.message}`);
      case 'BadRequest': return badRequest(err.message);
      case 'Unavailable': return serviceUnavailable(err.message);
    }
  }
  return internalError(err);
}

/** errorResponse answers a failure as a Status with its HTTP code. */
export function errorResponse(err: unknown, info?: RequestInfo): Response {
  const e = toApiError(err, info);
  return jsonResponse(e.toStatus(), e.code);
}
