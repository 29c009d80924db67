/**
 * The local cluster's certificates (node-forge): a self-signed CA, kept for the life of the data
 * folder so kubeconfigs stay valid, and a serving certificate it signs for the API server's
 * addresses. Keys are RSA 2048 (forge generates them with Node's native crypto).
 */
import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import forge from 'node-forge';

/** KeyPairPem is a certificate and its private key, PEM encoded. */
export interface CertificatePem {
  cert: string;
  key: string;
}

const { pki } = forge;
const DAY_MS = 24 * 60 * 60 * 1000;

/** Serial numbers are positive, random, 128 bits (RFC 5280 allows up to 20 octets). */
const serialNumber = (): string => '01' + randomBytes(16).toString('hex');

function baseCertificate(publicKey: forge.pki.PublicKey, commonName: string, days: number): forge.pki.Certificate {
  const cert = pki.createCertificate();
  cert.publicKey = publicKey;
  cert.serialNumber = serialNumber();
  cert.validity.notBefore = new Date(Date.now() - 60 * 60 * 1000); // tolerate small clock skew
  cert.validity.notAfter = new Date(Date.now() + days * DAY_MS);
  cert.setSubject([{ name: 'commonName', value: commonName }, { name: 'organizationName', value: 'coracle' }]);
  return cert;
}

/** createCertificateAuthority makes a self-signed CA valid for ten years. */
export function createCertificateAuthority(commonName = 'coracle-ca'): CertificatePem {
  const keys = pki.rsa.generateKeyPair({ bits: 2048 });
  const cert = baseCertificate(keys.publicKey, commonName, 3650);
  cert.setIssuer(cert.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(keys.privateKey, forge.md.sha256.create());
  return { cert: pki.certificateToPem(cert), key: pki.privateKeyToPem(keys.privateKey) };
}

/** createServingCertificate makes a server certificate for `hosts` (DNS names and IP addresses), signed by `ca`, valid one year. */
export function createServingCertificate(ca: CertificatePem, hosts: readonly string[], commonName = 'coracle-apiserver'): CertificatePem {
  const caCert = pki.certificateFromPem(ca.cert);
  const caKey = pki.privateKeyFromPem(ca.key);
  const keys = pki.rsa.generateKeyPair({ bits: 2048 });
  const cert = baseCertificate(keys.publicKey, commonName, 365);
  cert.setIssuer(caCert.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', altNames: hosts.map((h) => (isIP(h) ? { type: 7, ip: h } : { type: 2, value: h })) },
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: caCert.generateSubjectKeyIdentifier().getBytes() },
  ]);
  cert.sign(caKey, forge.md.sha256.create());
  return { cert: pki.certificateToPem(cert), key: pki.privateKeyToPem(keys.privateKey) };
}

/** CertificateFacts are what the data folder checks about a stored certificate. */
export interface CertificateFacts {
  notAfter: Date;
  /** DNS names and IP addresses in the subjectAltName extension. */
  hosts: string[];
  /** Whether `ca` issued it (signature check). */
  issuedBy(ca: CertificatePem): boolean;
}

/** inspectCertificate parses a PEM certificate and checks the key matches; it throws if either is unusable. */
export function inspectCertificate(pem: CertificatePem): CertificateFacts {
  const cert = pki.certificateFromPem(pem.cert);
  const key = pki.privateKeyFromPem(pem.key) as forge.pki.rsa.PrivateKey;
  const publicKey = cert.publicKey as forge.pki.rsa.PublicKey;
  if (key.n.compareTo(publicKey.n) !== 0) throw new Error('the private key does not belong to the certificate');
  const san = cert.getExtension('subjectAltName') as { altNames?: Array<{ type: number; value?: string; ip?: string }> } | null;
  const hosts = (san?.altNames ?? []).map((n) => n.ip ?? n.value ?? '').filter(Boolean);
  return {
    notAfter: cert.validity.notAfter,
    hosts,
    issuedBy: (ca) => {
      try {
        return pki.certificateFromPem(ca.cert).verify(cert);
      } catch {
        return false;
      }
    },
  };
}
