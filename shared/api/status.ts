/**
 * Kubernetes `Status` errors. Every failure the API server answers is an ApiError turned into a
 * `Status` object once (`toStatus`), so codes and reasons are decided in one place.
 */

/** StatusCause is one entry of `details.causes` (for Invalid: a field path and what is wrong). */
export interface StatusCause {
  reason?: string; // e.g. FieldValueRequired, FieldValueInvalid, FieldValueNotSupported, FieldValueDuplicate
  message?: string;
  field?: string; // e.g. metadata.name, spec.containers[0].image
}

/** StatusDetails is the `details` of a Status. */
export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

/** StatusReason is Kubernetes' machine-readable reason (metav1.StatusReason). */
export type StatusReason =
  | 'BadRequest' | 'Unauthorized' | 'Forbidden' | 'NotFound' | 'AlreadyExists' | 'Conflict' | 'Gone'
  | 'Invalid' | 'ServerTimeout' | 'Timeout' | 'TooManyRequests' | 'MethodNotAllowed' | 'NotAcceptable'
  | 'RequestEntityTooLarge' | 'UnsupportedMediaType' | 'InternalError' | 'Expired' | 'ServiceUnavailable';

/** ApiError is an error the API server answers as a Status with `code` and `reason`. */
export class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: StatusReason,
    message: string,
    readonly details?: StatusDetails,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  /** toStatus renders the Kubernetes `Status` object. */
  toStatus(): Record<string, unknown> {
    return {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
      reason: this.reason,
      ...(this.details ? { details: this.details } : {}),
      code: this.code,
    };
  }
}

/** isApiError tells whether `err` is an ApiError. */
export function isApiError(err: unknown): err is ApiError {
  return err instanceof ApiError;
}

/** qualifiedResource renders `pods` or `deployments.apps` as Kubernetes messages do. */
export function qualifiedResource(group: string, plural: string): string {
  return group === '' ? plural : `${plural}.${group}`;
}

/** notFound: `pods "web" not found` (404). */
export function notFound(group: string, plural: string, name: string): ApiError {
  return new ApiError(404, 'NotFound', `${qualifiedResource(group, plural)} "${name}" not found`, { name, group: group || undefined, kind: plural });
}

/** alreadyExists: `pods "web" already exists` (409). */
export function alreadyExists(group: string, plural: string, name: string): ApiError {
  return new ApiError(409, 'AlreadyExists', `${qualifiedResource(group, plural)} "${name}" already exists`, { name, group: group || undefined, kind: plural });
}

/** conflict: the optimistic-concurrency failure kubectl shows on a stale resourceVersion (409). */
export function conflict(group: string, plural: string, name: string, why = 'the object has been modified; please apply your changes to the latest version and try again'): ApiError {
  return new ApiError(409, 'Conflict', `Operation cannot be fulfilled on ${qualifiedResource(group, plural)} "${name}": ${why}`, { name, group: group || undefined, kind: plural });
}

/** invalid: `Pod "web" is invalid: spec.containers[0].image: Required value` (422) with causes. */
export function invalid(group: string, kind: string, name: string, causes: StatusCause[]): ApiError {
  const summary = causes.map((c) => (c.field ? `${c.field}: ${c.message ?? ''}` : c.message ?? '')).join(', ');
  const what = qualifiedResource(group, kind);
  const head = what.charAt(0).toUpperCase() + what.slice(1);
  return new ApiError(422, 'Invalid', `${head} "${name}" is invalid: ${causes.length > 1 ? `[${summary}]` : summary}`, { name, group: group || undefined, kind, causes });
}

/** badRequest (400). */
export function badRequest(message: string): ApiError {
  return new ApiError(400, 'BadRequest', message);
}

/** gone (410): the resourceVersion asked for has been compacted. */
export function gone(message: string): ApiError {
  return new ApiError(410, 'Expired', message);
}

/** unauthorized (401): no bearer token, or one the server does not know. */
export function unauthorized(): ApiError {
  return new ApiError(401, 'Unauthorized', 'Unauthorized');
}

/** forbidden (403): `pods "web" is forbidden: <why>`, with an optional cause (e.g. NamespaceTerminating). */
export function forbidden(group: string, plural: string, name: string, why: string, cause?: StatusCause): ApiError {
  return new ApiError(403, 'Forbidden', `${qualifiedResource(group, plural)} "${name}" is forbidden: ${why}`, {
    name, group: group || undefined, kind: plural, ...(cause ? { causes: [cause] } : {}),
  });
}

/** methodNotAllowed (405): the resource exists but does not serve this verb. */
export function methodNotAllowed(): ApiError {
  return new ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource', {});
}

/** resourceNotFound (404): the path names no served resource. */
export function resourceNotFound(): ApiError {
  return new ApiError(404, 'NotFound', 'the server could not find the requested resource', {});
}

/** unsupportedMediaType (415): a body or patch content type the server does not take. */
export function unsupportedMediaType(contentType: string, supported: readonly string[]): ApiError {
  return new ApiError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: ${supported.join(', ')}`, {
    causes: [{ reason: 'UnexpectedServerResponse', message: `unsupported media type "${contentType}"` }],
  });
}

/** requestEntityTooLarge (413). */
export function requestEntityTooLarge(limitBytes: number): ApiError {
  return new ApiError(413, 'RequestEntityTooLarge', `Request entity too large: limit is ${limitBytes}`);
}

/** internalError (500): an unexpected failure; the message is the error's own. */
export function internalError(err: unknown): ApiError {
  const message = err instanceof Error ? err.message : String(err);
  return new ApiError(500, 'InternalError', `Internal error occurred: ${message}`, { causes: [{ message }] });
}

/** serviceUnavailable (503): the backend cannot be reached. */
export function serviceUnavailable(message: string): ApiError {
  return new ApiError(503, 'ServiceUnavailable', message);
}

/** tooLargeResourceVersion (504): a read asked for a revision the store has not reached. */
export function tooLargeResourceVersion(asked: number, current: number): ApiError {
  return new ApiError(504, 'Timeout', `Too large resource version: ${asked}, current: ${current}`, {
    causes: [{ reason: 'ResourceVersionTooLarge', message: `Too large resource version` }],
    retryAfterSeconds: 1,
  });
}
