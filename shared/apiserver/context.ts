/**
 * The types every verb handler shares: what the router understood of a request, and the
 * per-request context (store, user, query) a handler works with.
 */
import type { ResourceType } from '../api/resources.js';
import type { Store } from '../store/store.js';
import type { ApiError } from '../api/status.js';
import type { ServiceNetwork } from './services.js';
import type { AccessAttributes, PolicyRule } from '../rbac/rules.js';
import type { TokenAuthentication } from './auth.js';

/** Verb is a Kubernetes API verb, as RBAC names it. */
export type Verb = 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete' | 'deletecollection';

/** RequestInfo is what the path and method say: the verb, resource, namespace, name and subresource. */
export interface RequestInfo {
  verb: Verb;
  resource: ResourceType;
  /** The namespace from the path (namespaced resources only; absent: all namespaces). */
  namespace?: string;
  name?: string;
  subresource?: string;
}

/** UserInfo is the authenticated caller. */
export interface UserInfo {
  username: string;
  groups: readonly string[];
  /** The user's uid (ServiceAccount tokens: the ServiceAccount's; impersonation: `Impersonate-Uid`). */
  uid?: string;
  /** Extra attributes (`Impersonate-Extra-<key>`, a token's credential id). */
  extra?: Readonly<Record<string, readonly string[]>>;
}

/**
 * AccessReviewer answers what the access reviews ask (SubjectAccessReview and its kin, shared/rbac/reviews.ts):
 * the authorization chain's decision for any user and request, and the rules a user holds in a namespace.
 */
export interface AccessReviewer {
  decide(user: UserInfo, attributes: AccessAttributes): Promise<AccessDecision>;
  rulesFor(user: UserInfo, namespace: string | undefined): Promise<{ rules: PolicyRule[]; incomplete: boolean }>;
}

/** AccessDecision is an authorizer's answer: allowed or not, and why (upstream's reason string; may be empty). */
export interface AccessDecision {
  allowed: boolean;
  reason: string;
}

/**
 * AuthorizationAttributes are what an authorizer may read of a request besides its RequestInfo:
 * the query, for the label and field selectors of a list or watch (upstream's
 * authorizer.Attributes GetFieldSelector/GetLabelSelector).
 */
export interface AuthorizationAttributes {
  query: URLSearchParams;
}

/**
 * Authorizer decides whether `user` may do `info`; it returns an ApiError (usually 403 Forbidden)
 * to refuse, or undefined to allow. Node identities plug in here (shared/apiserver/authorize.ts).
 */
export type Authorizer = (user: UserInfo, info: RequestInfo, attributes?: AuthorizationAttributes) => ApiError | undefined | Promise<ApiError | undefined>;

/**
 * Admission checks an object about to be written, after defaulting and validation (upstream's
 * validating admission): `old` is the stored object on update, undefined on create. It returns an
 * ApiError (403 Forbidden) to refuse. NodeRestriction plugs in here (noderestriction.ts).
 */
export type Admission = (ctx: HandlerContext, obj: Readonly<Record<string, unknown>>, old: Readonly<Record<string, unknown>> | undefined) => ApiError | undefined | Promise<ApiError | undefined>;

/**
 * MutatingAdmission changes an object about to be created, after defaulting and before validation
 * (upstream's mutating admission, e.g. the ServiceAccount plugin); it throws an ApiError to refuse.
 * It must be idempotent: a create that retries a generated name runs it again on the same object.
 */
export type MutatingAdmission = (ctx: HandlerContext, obj: Record<string, unknown>) => Promise<void>;

/**
 * EvictionAdmission decides whether a pod may be evicted now; it returns an ApiError (429
 * TooManyRequests when a PodDisruptionBudget forbids it) or undefined. PDB checks plug in here.
 * It may write (charge a budget) unless `options.dryRun`; a store Conflict it throws makes the
 * eviction start over (re-read pod, admit again).
 */
export type EvictionAdmission = (ctx: HandlerContext, pod: Readonly<Record<string, unknown>>, options?: { dryRun?: boolean }) => Promise<ApiError | undefined>;

/** HandlerContext is everything one verb handler needs. */
export interface HandlerContext {
  store: Store;
  request: Request;
  url: URL;
  query: URLSearchParams;
  info: RequestInfo;
  user: UserInfo;
  /** The clock (injectable for tests). */
  now: () => Date;
  admitEviction?: EvictionAdmission;
  /** The service CIDR and node port range Services' addresses come from. */
  serviceNetwork: ServiceNetwork;
  /** Validating admission of every create and update (undefined admits all). */
  admit?: Admission;
  /** Mutating admission of every create (undefined changes nothing). */
  mutate?: MutatingAdmission;
  /** How long watches last and how they keep a quiet connection alive (defaults: kube-apiserver's). */
  watchLimits?: Partial<WatchLimits>;
  /** The release versions the control plane may move to (UpgradePreview, UpgradeRun admission); undefined: the running build's only. */
  releases?: () => Promise<readonly string[]>;
  /** The authorization chain, for the access reviews and RBAC's escalation checks; undefined: reviews answer 404 as before. */
  access?: AccessReviewer;
  /** ServiceAccount token issuance (TokenRequest); undefined: `serviceaccounts/token` answers 503. */
  tokenIssuer?: ServiceAccountTokenIssuer;
  /** The API server's own authenticator chain on a token presented to `audiences` (empty: the API server's), for TokenReview. */
  reviewToken?: (token: string, audiences: readonly string[]) => Promise<TokenAuthentication>;
}

/** ObjectRef names the object a token is bound to; `uid` is absent only for a Pod's node that was not found. */
export interface ObjectRef {
  name: string;
  uid?: string;
}

/**
 * TokenClaims is what a ServiceAccount token says: its ServiceAccount (uid bound), audiences,
 * lifetime, and the object it is bound to, if any: a Pod (with the Pod's node, when it has one), a
 * Secret, or a Node (upstream's `kubernetes.io` claim: one kind only).
 */
export interface TokenClaims {
  namespace: string;
  name: string;
  uid: string;
  audiences: readonly string[];
  expirationSeconds: number;
  now: Date;
  pod?: ObjectRef;
  secret?: ObjectRef;
  node?: ObjectRef;
}

/** ServiceAccountTokenIssuer signs a ServiceAccount token (shared/rbac/satokens.ts). */
export interface ServiceAccountTokenIssuer {
  issue(claims: TokenClaims): Promise<string>;
  /** The audiences a token gets when its request names none (the API server's own). */
  defaultAudiences: readonly string[];
}

/**
 * WatchLimits bound watches to what the platform allows: a watch without a smaller
 * `timeoutSeconds` ends after a random time in [minRequestTimeoutSeconds, 2×] (kube-apiserver's
 * `--min-request-timeout`; spread so that reconnects do not come in waves), and a quiet watch
 * sends a keep-alive every `keepAliveMs` (a BOOKMARK when the client allows them, else a newline,
 * which JSON stream decoders skip) so that idle-connection cut-offs do not end it.
 */
export interface WatchLimits {
  minRequestTimeoutSeconds: number;
  keepAliveMs: number;
  /**
   * Users whose watches (with bookmarks allowed) get a BOOKMARK at the store's head after every
   * PROGRESS_REQUEST_MS without a change to send, instead of every BOOKMARK_INTERVAL_MS: the
   * in-process controllers' informers, whose consistent reads wait for the cache to reach the
   * store's current revision even when the newest write was to another resource (upstream asks
   * etcd for a progress notification for the same reason, KEP-2340). Bookmarks that often to
   * every node's watch would cost more than they give, so others get the usual interval.
   */
  progressUsers?: readonly string[];
}

/** chainAdmissions runs `admissions` in order and returns the first refusal (undefined when all admit). */
export function chainAdmissions(...admissions: Admission[]): Admission {
  return async (ctx, obj, old) => {
    for (const admit of admissions) {
      const refusal = await admit(ctx, obj, old);
      if (refusal) return refusal;
    }
    return undefined;
  };
}
