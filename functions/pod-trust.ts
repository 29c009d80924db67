/**
 * The CA bundle pods trust for the API server: what the root CA publisher puts in every
 * namespace's `kube-root-ca.crt` ConfigMap, and so the `ca.crt` of every projected ServiceAccount
 * volume. It must verify the endpoint pods dial: the cluster CA locally (the serving certificate
 * `coracle up` issues covers `kubernetes.default.svc`, the Service's address and the machine's
 * names); on Azure the Function App's public endpoint (`<app>.azurewebsites.net`, the name agents
 * give containers in KUBERNETES_SERVICE_HOST, agent/apiserver-name.ts), whose certificate is a
 * public one: by default the public roots Node ships (`tls.rootCertificates`, Mozilla's list, as
 * a distribution's ca-certificates), or the bundle `CORACLE_API_CA_BUNDLE` gives (a custom
 * domain with a private CA, or a tighter set of roots).
 */
import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { rootCertificates } from 'node:tls';

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/**
 * checkCaBundle returns the certificates of `pem` (its PEM blocks, one after another), or throws
 * naming CORACLE_API_CA_BUNDLE when it holds no certificate or one that does not parse.
 */
export function checkCaBundle(pem: string): string {
  const blocks = pem.match(PEM_BLOCK) ?? [];
  if (blocks.length === 0) throw new Error('CORACLE_API_CA_BUNDLE holds no PEM certificate (-----BEGIN CERTIFICATE-----)');
  blocks.forEach((block, i) => {
    try {
      new X509Certificate(block);
    } catch (err) {
      throw new Error(`CORACLE_API_CA_BUNDLE: certificate ${i + 1} does not parse: ${(err as Error).message}`, { cause: err });
    }
  });
  return `${blocks.join('\n')}\n`;
}

/** PodTrustSources are what podTrustBundle chooses from. */
export interface PodTrustSources {
  /** CORACLE_API_CA_BUNDLE, when set. */
  bundle?: string;
  /** The local data folder (its `ca.crt` is the cluster CA), when there is one. */
  dataDir?: string;
  /** The public roots (default: Node's `tls.rootCertificates`). */
  publicRoots?: readonly string[];
}

/**
 * podTrustBundle is the PEM bundle pods get as `ca.crt` (see the file comment): the configured
 * bundle; else with a data folder its cluster CA (undefined while `ca.crt` cannot be read: no
 * bundle is published); else, on Azure, the public roots.
 */
export async function podTrustBundle(sources: PodTrustSources): Promise<string | undefined> {
  if (sources.bundle) return checkCaBundle(sources.bundle);
  if (sources.dataDir) return readFile(path.join(sources.dataDir, 'ca.crt'), 'utf8').catch(() => undefined);
  return `${(sources.publicRoots ?? rootCertificates).join('\n')}\n`;
}
