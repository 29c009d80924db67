/**
 * fetchTrusting: a `fetch` that verifies servers against one CA (an OIDC issuer with a private
 * CA: `--oidc-ca-file`, `coracle get-token --certificate-authority`). Node's global `fetch` cannot
 * be given a CA; undici, the package it is built from, takes one through an `Agent`.
 */
import type { RequestInit as UndiciRequestInit } from 'undici';

/** fetchTrusting returns a fetch that trusts `caPem` (PEM) instead of the system roots. */
export async function fetchTrusting(caPem: string): Promise<typeof fetch> {
  const { Agent, fetch: undiciFetch } = await import('undici');
  const dispatcher = new Agent({ connect: { ca: caPem } });
  return ((input: string | URL, init?: RequestInit) => undiciFetch(input, { ...(init as UndiciRequestInit), dispatcher })) as unknown as typeof fetch;
}
