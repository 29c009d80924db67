/**
 * The local host's TLS settings: TLS 1.2 with ECDHE key exchange and AEAD ciphers only (forward
 * secrecy: no static-RSA suites such as AES128-SHA, no CBC), and TLS 1.3 — as Mozilla's
 * "intermediate" configuration and Azure's TLS 1.2 minimum. kubectl (Go's crypto/tls) speaks
 * all of them.
 */
import type { TlsOptions } from 'node:tls';

/** TLS12_CIPHERS are the TLS 1.2 suites offered: ECDHE (forward secret) with AES-GCM or ChaCha20-Poly1305. */
export const TLS12_CIPHERS: readonly string[] = [
  'ECDHE-ECDSA-AES128-GCM-SHA256', 'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384', 'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305', 'ECDHE-RSA-CHACHA20-POLY1305',
];
/** TLS13_CIPHERS are TLS 1.3's suites (all forward secret), listed so that they stay enabled. */
export const TLS13_CIPHERS: readonly string[] = ['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256'];

/**
 * SERVER_TLS_OPTIONS are merged into every HTTPS server the local host starts.
 *
 * `@SECLEVEL=0` is there for one thing only: a TLS 1.2 client that sends no
 * `signature_algorithms` extension (busybox's `wget`, the sample images' HTTP client) may by RFC
 * 5246 only verify an RSA+SHA-1 key exchange signature, which OpenSSL 3 refuses from level 1 up
 * ("no suitable signature algorithm"). Go's crypto/tls, kube-apiserver's, accepts such clients
 * the same way. Everything the levels would otherwise guard is pinned here already: the suites
 * (ECDHE + AEAD only), the versions (1.2 and 1.3) and the keys (RSA 2048, SHA-256 certificates).
 */
export const SERVER_TLS_OPTIONS: Readonly<TlsOptions> = {
  minVersion: 'TLSv1.2',
  ciphers: [...TLS13_CIPHERS, ...TLS12_CIPHERS, '@SECLEVEL=0'].join(':'),
  honorCipherOrder: true,
};
