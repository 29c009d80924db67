/**
 * Health endpoints as Kubernetes serves them, without authentication: `/livez` (the process
 * answers), `/readyz` and `/healthz` (the store answers too), each with optional `?verbose` and
 * sub-paths such as `/readyz/store`. They are functions, not a host feature, so Azure serves
 * them the same way; their literal-first route outranks the API server's catch-all.
 */
import { app, type HttpRequest, type HttpResponseInit } from '@azure/functions';
import { getAppContext } from './runtime.js';

/** STORE_CHECK_TIMEOUT_MS bounds how long a readiness probe waits for the store. */
const STORE_CHECK_TIMEOUT_MS = 2000;

async function storeCheck(): Promise<string | undefined> {
  try {
    const { store } = await getAppContext();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('the store did not answer in time')), STORE_CHECK_TIMEOUT_MS);
    });
    await Promise.race([store.currentRevision(), timeout]).finally(() => clearTimeout(timer));
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

/** health answers one probe: 200 `ok` when every check passes, 503 naming the failed ones otherwise. */
export async function health(request: HttpRequest): Promise<HttpResponseInit> {
  const check = request.params.check!.toLowerCase();
  const checks: Array<[string, string | undefined]> = [['ping', undefined]];
  if (check !== 'livez') checks.push(['store', await storeCheck()]);
  const only = request.params.subcheck;
  const selected = only ? checks.filter(([name]) => name === only) : checks;
  if (selected.length === 0) return { status: 404, body: `no ${check} check named "${only}"` };
  const failed = selected.filter(([, error]) => error !== undefined);
  const status = failed.length ? 503 : 200;
  const headers = { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' };
  if (!request.query.has('verbose') && !failed.length) return { status, headers, body: 'ok' };
  const lines = selected.map(([name, error]) => (error === undefined ? `[+]${name} ok` : `[-]${name} failed: ${error}`));
  lines.push(`${check} check ${failed.length ? 'failed' : 'passed'}`);
  return { status, headers, body: lines.join('\n') + '\n' };
}

app.http('health', {
  route: '{check:regex(^(livez|readyz|healthz)$)}/{*subcheck}',
  methods: ['GET', 'HEAD'],
  authLevel: 'anonymous',
  handler: health,
});
