// Gateway `spec.tls.frontend`: client certificate validation for HTTPS listeners, from `default` or from the
// `perPort` entry of the listener's port. A listener whose CA references are all unusable would accept no client:
// it is refused (NoValidCACertificate); some unusable ones give ResolvedRefs=False. Configuration this installation
// does not support is refused rather than ignored: ignoring it would let clients in without a certificate.

import { resolveCaCertificateRef } from '../certificate.ts';
import type { TranslateContext } from '../context.ts';
import { rejectListener } from './listener.ts';
import type { ListenerNode } from './listener.ts';
import { at, integerAt, isObject, listAt, objectAt, show } from '../read.ts';

interface ValidationConfig {
  /** Where it is written, e.g. `spec.tls.frontend.perPort[1].tls.validation`. */
  field: string;
  caCertificateRefs: unknown[];
  mode: unknown;
}

export interface FrontendTls {
  /** Validation by port; `undefined` key = the default. */
  byPort: Map<number | undefined, ValidationConfig | undefined>;
  /** `spec.tls.frontend` is present at all. */
  present: boolean;
  /** Set when it is present but malformed: HTTPS listeners are refused rather than served without validation. */
  problem?: string;
}

function readValidation(tls: unknown, field: string): ValidationConfig | undefined {
  const validation = objectAt(tls).validation;
  if (validation === undefined) return undefined;
  const v = objectAt(validation);
  return { field: `${field}.validation`, caCertificateRefs: listAt(v.caCertificateRefs), mode: v.mode };
}

export function readFrontendTls(spec: Record<string, unknown>): FrontendTls {
  const frontend = objectAt(spec.tls).frontend;
  const byPort = new Map<number | undefined, ValidationConfig | undefined>();
  if (frontend === undefined || frontend === null) return { byPort, present: false };
  if (!isObject(frontend))
    return { byPort, present: true, problem: `spec.tls.frontend must be an object; it is ${show(frontend)}` };
  if (frontend.default !== undefined && !isObject(frontend.default)) {
    return {
      byPort,
      present: true,
      problem: `spec.tls.frontend.default must be an object; it is ${show(frontend.default)}`,
    };
  }
  byPort.set(undefined, readValidation(frontend.default, 'spec.tls.frontend.default'));
  for (const [i, entry] of listAt(frontend.perPort).entries()) {
    const e = objectAt(entry);
    const port = integerAt(e.port);
    if (port !== undefined && !byPort.has(port))
      byPort.set(port, readValidation(e.tls, at('spec.tls.frontend.perPort', i, 'tls')));
  }
  return { byPort, present: true };
}

/** Sets `clientValidation` on an HTTPS listener, or the conditions that say why it cannot have it. */
export function applyFrontendTls(context: TranslateContext, listener: ListenerNode, frontend: FrontendTls): void {
  if (!frontend.present || listener.protocol !== 'HTTPS' || listener.rejection !== undefined) return;
  const features = context.options.supportedFeatures;
  if (!features.has('GatewayFrontendClientCertificateValidation')) {
    rejectListener(
      listener,
      'UnsupportedValue',
      'spec.tls.frontend: client certificate validation is not supported by this installation',
    );
    return;
  }
  if (frontend.problem !== undefined) {
    rejectListener(listener, 'UnsupportedValue', frontend.problem);
    return;
  }
  const config = frontend.byPort.has(listener.port)
    ? frontend.byPort.get(listener.port)
    : frontend.byPort.get(undefined);
  if (config === undefined) return;
  const mode = config.mode === undefined ? 'AllowValidOnly' : config.mode;
  if (mode !== 'AllowValidOnly' && mode !== 'AllowInsecureFallback') {
    rejectListener(
      listener,
      'UnsupportedValue',
      `${config.field}.mode ${show(mode)} is not supported (AllowValidOnly, AllowInsecureFallback)`,
    );
    return;
  }
  if (mode === 'AllowInsecureFallback' && !features.has('GatewayFrontendClientCertificateValidationInsecureFallback')) {
    rejectListener(
      listener,
      'UnsupportedValue',
      `${config.field}.mode AllowInsecureFallback is not supported by this installation`,
    );
    return;
  }
  const caCertificates: string[] = [];
  for (const [i, ref] of config.caCertificateRefs.entries()) {
    const resolved = resolveCaCertificateRef(context, ref, at(config.field, 'caCertificateRefs', i), {
      namespace: listener.gatewayNamespace,
    });
    if (resolved.ok) caCertificates.push(resolved.pem);
    else listener.refProblems.push({ reason: resolved.reason, message: resolved.message });
  }
  if (caCertificates.length === 0) {
    rejectListener(
      listener,
      'NoValidCACertificate',
      `${config.field}.caCertificateRefs: no usable CA certificate, so no client could be verified`,
    );
    return;
  }
  listener.clientValidation = { caCertificates, mode };
}
