// A listener's TLS overrides, `spec.listeners[].tls.options` (Gateway API: implementation-specific keys), in one
// vocabulary for the translator (which reads them and reports what it cannot use) and the data plane's validator
// (which checks what arrives in the IR). Two keys:
//   portico.dev/min-version    "1.2" or "1.3" (default 1.2)
//   portico.dev/cipher-suites  TLS 1.2 suites, comma-separated OpenSSL names, replacing the default list; any of
//                              Mozilla's "intermediate" and "old" profiles but DHE and 3DES (so CBC and static-RSA
//                              suites can be let in for old clients, on that listener only). TLS 1.3 suites are
//                              fixed (all AEAD).
// The defaults themselves live with the data plane (dataplane/tls-defaults.ts). No I/O here.

import type { ListenerTlsOptions } from '../ir/listener.ts';

export const MIN_VERSION_KEY = 'portico.dev/min-version';
export const CIPHER_SUITES_KEY = 'portico.dev/cipher-suites';

const MIN_VERSIONS: Record<string, ListenerTlsOptions['minVersion']> = { '1.2': 'TLSv1.2', '1.3': 'TLSv1.3' };

/** TLS 1.2 suites a listener may list: ECDHE with AEAD (the default), then ECDHE with CBC, then static RSA. */
export const ALLOWED_TLS12_SUITES: readonly string[] = [
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
  'ECDHE-ECDSA-AES128-SHA256',
  'ECDHE-RSA-AES128-SHA256',
  'ECDHE-ECDSA-AES128-SHA',
  'ECDHE-RSA-AES128-SHA',
  'ECDHE-ECDSA-AES256-SHA384',
  'ECDHE-RSA-AES256-SHA384',
  'ECDHE-ECDSA-AES256-SHA',
  'ECDHE-RSA-AES256-SHA',
  'AES128-GCM-SHA256',
  'AES256-GCM-SHA384',
  'AES128-SHA256',
  'AES256-SHA256',
  'AES128-SHA',
  'AES256-SHA',
];
const ALLOWED = new Set(ALLOWED_TLS12_SUITES);

/**
 * Reads `tls.options` (a map of strings): the overrides, or the first reason it cannot be used (an unknown key, a
 * value that is not one of ours), naming the field and the value.
 */
export function parseTlsOptions(
  raw: unknown,
  field: string,
): { ok: true; options: ListenerTlsOptions | undefined } | { ok: false; message: string } {
  if (raw === undefined || raw === null) return { ok: true, options: undefined };
  if (typeof raw !== 'object' || Array.isArray(raw)) return { ok: false, message: `${field} must be a map of strings` };
  const options: ListenerTlsOptions = {};
  for (const [key, value] of Object.entries(raw)) {
    const at = `${field}[${JSON.stringify(key)}]`;
    if (typeof value !== 'string') return { ok: false, message: `${at} must be a string` };
    if (key === MIN_VERSION_KEY) {
      const version = Object.hasOwn(MIN_VERSIONS, value.trim()) ? MIN_VERSIONS[value.trim()] : undefined;
      if (version === undefined)
        return { ok: false, message: `${at} must be "1.2" or "1.3"; it is ${JSON.stringify(value)}` };
      options.minVersion = version;
    } else if (key === CIPHER_SUITES_KEY) {
      const suites = value
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '');
      const unknown = suites.filter((s) => !ALLOWED.has(s));
      if (suites.length === 0 || unknown.length > 0)
        return {
          ok: false,
          message: `${at} must list TLS 1.2 suites among ${ALLOWED_TLS12_SUITES.join(', ')}; ${
            suites.length === 0 ? 'it lists none' : `not ${unknown.map((s) => JSON.stringify(s)).join(', ')}`
          }`,
        };
      options.cipherSuites = [...new Set(suites)];
    } else {
      return {
        ok: false,
        message: `${at}: unknown option (supported: ${MIN_VERSION_KEY}, ${CIPHER_SUITES_KEY})`,
      };
    }
  }
  return { ok: true, options: Object.keys(options).length === 0 ? undefined : options };
}

/** Why the IR's `tls.options` cannot be used, or null. */
export function checkTlsOptions(options: unknown): string | null {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) return 'must be an object';
  const { minVersion, cipherSuites } = options as Record<string, unknown>;
  if (minVersion !== undefined && minVersion !== 'TLSv1.2' && minVersion !== 'TLSv1.3')
    return 'minVersion must be TLSv1.2 or TLSv1.3';
  if (cipherSuites !== undefined) {
    if (!Array.isArray(cipherSuites) || cipherSuites.length === 0) return 'cipherSuites must be a non-empty list';
    const unknown = cipherSuites.filter((s) => typeof s !== 'string' || !ALLOWED.has(s));
    if (unknown.length > 0) return `cipherSuites has suites that are not allowed: ${unknown.map(String).join(', ')}`;
  }
  return null;
}
