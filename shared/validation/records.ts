// Per-record checks of an IR snapshot: each record on its own, no cross-references (see references.ts). Records are
// immutable once received, so the data plane remembers which record objects passed and checks only new ones.

import type { Backend } from '../ir/backend.ts';
import type { CertificateRecord, Listener } from '../ir/listener.ts';
import type {
  HttpFilter,
  HttpMatch,
  HttpRoute,
  HttpRule,
  StreamRoute,
  ValueMatch,
  WeightedBackend,
} from '../ir/route.ts';
import {
  REDIRECT_STATUS_CODES,
  checkCorsOrigin,
  checkDurationMs,
  checkHeaderName,
  checkHeaderValue,
  checkHostname,
  checkIpAddress,
  checkMethod,
  checkPathValue,
  checkPort,
  checkRegex,
} from './fields.ts';
import { validateExternalAuth } from './external-auth.ts';
import { problem } from './problem.ts';
import { validateSessionPersistence } from './session.ts';
import { checkTlsOptions } from './tls-options.ts';
import { validateListenerTracing } from './tracing.ts';
import type { Problem } from './problem.ts';

type Sink = Problem[];

function check(out: Sink, path: string, reason: string | null): void {
  if (reason !== null) out.push(problem('InvalidValue', path, `${path} ${reason}`));
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function arrayAt(out: Sink, path: string, value: unknown): unknown[] {
  if (Array.isArray(value)) return value;
  out.push(problem('MissingField', path, `${path} must be a list`));
  return [];
}

const LISTENER_PROTOCOLS = ['HTTP', 'HTTPS', 'TLS', 'TCP', 'UDP'];

export function validateListener(listener: Listener, at: string, out: Sink): void {
  check(out, `${at}.address`, checkIpAddress(listener.address));
  check(out, `${at}.port`, checkPort(listener.port));
  if (listener.bindPort !== undefined) check(out, `${at}.bindPort`, checkPort(listener.bindPort));
  if (!LISTENER_PROTOCOLS.includes(listener.protocol)) {
    out.push(
      problem('InvalidValue', `${at}.protocol`, `${at}.protocol must be one of ${LISTENER_PROTOCOLS.join(', ')}`),
    );
  }
  if (listener.hostname !== undefined) check(out, `${at}.hostname`, checkHostname(listener.hostname));
  const clientKey = listener.backendClientCertificateKey;
  if (clientKey !== undefined && (typeof clientKey !== 'string' || clientKey === ''))
    check(out, `${at}.backendClientCertificateKey`, 'must be a non-empty key');
  if (listener.tracing !== undefined) validateListenerTracing(listener.tracing, `${at}.tracing`, out);
  if (listener.externalAuth !== undefined) {
    if (listener.protocol !== 'HTTP' && listener.protocol !== 'HTTPS')
      check(out, `${at}.externalAuth`, 'is only allowed on HTTP and HTTPS listeners');
    arrayAt(out, `${at}.externalAuth`, listener.externalAuth).forEach((auth, i) => {
      if (isObject(auth)) validateExternalAuth(auth as never, `${at}.externalAuth[${i}]`, out, true);
      else check(out, `${at}.externalAuth[${i}]`, 'must be an object');
    });
  }
  const needsTls = listener.protocol === 'HTTPS' || listener.protocol === 'TLS';
  if (needsTls && !isObject(listener.tls)) {
    out.push(problem('MissingField', `${at}.tls`, `${at}.tls is required for protocol ${listener.protocol}`));
  }
  if (listener.tls === undefined) return;
  if (!isObject(listener.tls))
    return void out.push(problem('InvalidValue', `${at}.tls`, `${at}.tls must be an object`));
  if (!needsTls)
    out.push(problem('InvalidValue', `${at}.tls`, `${at}.tls is only allowed with HTTPS and TLS listeners`));
  const { mode, certificateKeys } = listener.tls;
  if (mode !== 'Terminate' && mode !== 'Passthrough') {
    out.push(problem('InvalidValue', `${at}.tls.mode`, `${at}.tls.mode must be Terminate or Passthrough`));
  }
  if (mode === 'Passthrough' && listener.protocol !== 'TLS') {
    out.push(problem('InvalidValue', `${at}.tls.mode`, `${at}.tls.mode Passthrough is only allowed with protocol TLS`));
  }
  if (listener.tls.options !== undefined) check(out, `${at}.tls.options`, checkTlsOptions(listener.tls.options));
  const keys = arrayAt(out, `${at}.tls.certificateKeys`, certificateKeys);
  keys.forEach((key, i) => {
    if (typeof key !== 'string' || key === '') check(out, `${at}.tls.certificateKeys[${i}]`, 'must be a non-empty key');
  });
  if (mode === 'Terminate' && keys.length === 0) {
    out.push(
      problem(
        'MissingField',
        `${at}.tls.certificateKeys`,
        `${at}.tls.certificateKeys needs at least one certificate to terminate TLS`,
      ),
    );
  }
}

export function validateCertificate(cert: CertificateRecord, at: string, out: Sink): void {
  if (typeof cert.certificatePem !== 'string' || !cert.certificatePem.includes('-----BEGIN CERTIFICATE-----')) {
    out.push(problem('InvalidCertificate', `${at}.certificatePem`, `${at}.certificatePem must hold a PEM certificate`));
  }
  if (typeof cert.privateKeyPem !== 'string' || !/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(cert.privateKeyPem)) {
    out.push(problem('InvalidCertificate', `${at}.privateKeyPem`, `${at}.privateKeyPem must hold a PEM private key`));
  }
}

const BACKEND_PROTOCOLS = ['http1', 'h2c', 'ws', 'tcp', 'udp'];

export function validateBackend(backend: Backend, at: string, out: Sink): void {
  if (!BACKEND_PROTOCOLS.includes(backend.protocol)) {
    out.push(
      problem('InvalidValue', `${at}.protocol`, `${at}.protocol must be one of ${BACKEND_PROTOCOLS.join(', ')}`),
    );
  }
  if (backend.sessionPersistence !== undefined)
    validateSessionPersistence(backend.sessionPersistence, `${at}.sessionPersistence`, out);
  arrayAt(out, `${at}.endpoints`, backend.endpoints).forEach((value, i) => {
    const endpoint = value as Backend['endpoints'][number];
    const ep = `${at}.endpoints[${i}]`;
    if (!isObject(endpoint)) return void out.push(problem('InvalidValue', ep, `${ep} must be an object`));
    check(out, `${ep}.address`, checkIpAddress(endpoint.address));
    check(out, `${ep}.port`, checkPort(endpoint.port));
    if (endpoint.weight !== undefined && !(Number.isInteger(endpoint.weight) && endpoint.weight >= 0)) {
      out.push(problem('InvalidValue', `${ep}.weight`, `${ep}.weight must be a non-negative integer`));
    }
  });
  if (backend.tls !== undefined) {
    check(out, `${at}.tls.hostname`, checkHostname(backend.tls.hostname, false));
    for (const [i, pem] of (backend.tls.caCertificates ?? []).entries()) {
      if (typeof pem !== 'string' || !pem.includes('-----BEGIN CERTIFICATE-----')) {
        out.push(
          problem(
            'InvalidCertificate',
            `${at}.tls.caCertificates[${i}]`,
            `${at}.tls.caCertificates[${i}] must be a PEM certificate`,
          ),
        );
      }
    }
  }
}

function validateValueMatch(match: ValueMatch, at: string, out: Sink, isHeader: boolean): void {
  if (isHeader) check(out, `${at}.name`, checkHeaderName(match.name));
  else if (typeof match.name !== 'string' || match.name.length === 0)
    check(out, `${at}.name`, 'must be a non-empty string');
  if (match.type === 'Exact') check(out, `${at}.value`, checkHeaderValue(match.value));
  else if (match.type === 'RegularExpression') {
    const reason = checkRegex(match.value);
    if (reason !== null) out.push(problem('InvalidRegex', `${at}.value`, `${at}.value ${reason}`));
  } else out.push(problem('InvalidValue', `${at}.type`, `${at}.type must be Exact or RegularExpression`));
}

function validateMatch(match: HttpMatch, at: string, out: Sink): void {
  if (!isObject(match) || !isObject(match.path)) {
    return void out.push(problem('MissingField', `${at}.path`, `${at}.path is required`));
  }
  const { type, value } = match.path;
  if (type === 'Exact' || type === 'PathPrefix') check(out, `${at}.path.value`, checkPathValue(value));
  else if (type === 'RegularExpression') {
    const reason = checkRegex(value);
    if (reason !== null) out.push(problem('InvalidRegex', `${at}.path.value`, `${at}.path.value ${reason}`));
  } else
    out.push(
      problem('InvalidValue', `${at}.path.type`, `${at}.path.type must be Exact, PathPrefix or RegularExpression`),
    );
  if (match.method !== undefined) check(out, `${at}.method`, checkMethod(match.method));
  arrayAt(out, `${at}.headers`, match.headers).forEach((h, i) =>
    validateValueMatch(h as ValueMatch, `${at}.headers[${i}]`, out, true),
  );
  arrayAt(out, `${at}.queryParams`, match.queryParams).forEach((q, i) =>
    validateValueMatch(q as ValueMatch, `${at}.queryParams[${i}]`, out, false),
  );
}

function validateHeaderList(list: unknown, at: string, out: Sink, withValues: boolean): void {
  arrayAt(out, at, list).forEach((entry, i) => {
    if (withValues) {
      const header = entry as { name: unknown; value: unknown };
      check(out, `${at}[${i}].name`, checkHeaderName(header?.name));
      check(out, `${at}[${i}].value`, checkHeaderValue(header?.value));
    } else check(out, `${at}[${i}]`, checkHeaderName(entry));
  });
}

export function validateFilter(filter: HttpFilter, at: string, out: Sink): void {
  switch (filter.type) {
    case 'RequestHeaderModifier':
    case 'ResponseHeaderModifier':
      validateHeaderList(filter.set, `${at}.set`, out, true);
      validateHeaderList(filter.add, `${at}.add`, out, true);
      validateHeaderList(filter.remove, `${at}.remove`, out, false);
      return;
    case 'RequestRedirect':
      if (filter.scheme !== undefined && filter.scheme !== 'http' && filter.scheme !== 'https') {
        check(out, `${at}.scheme`, 'must be http or https');
      }
      if (filter.hostname !== undefined) check(out, `${at}.hostname`, checkHostname(filter.hostname, false));
      if (filter.port !== undefined) check(out, `${at}.port`, checkPort(filter.port));
      if (filter.path !== undefined) check(out, `${at}.path.value`, checkPathModifier(filter.path));
      if (!(REDIRECT_STATUS_CODES as readonly number[]).includes(filter.statusCode)) {
        check(out, `${at}.statusCode`, `must be one of ${REDIRECT_STATUS_CODES.join(', ')}`);
      }
      return;
    case 'URLRewrite':
      if (filter.hostname !== undefined) check(out, `${at}.hostname`, checkHostname(filter.hostname, false));
      if (filter.path !== undefined) check(out, `${at}.path.value`, checkPathModifier(filter.path));
      return;
    case 'RequestMirror':
      if (typeof filter.backendKey !== 'string') check(out, `${at}.backendKey`, 'must be a backend key');
      if (typeof filter.percent !== 'number' || !(filter.percent >= 0 && filter.percent <= 100)) {
        check(out, `${at}.percent`, 'must be a number from 0 to 100');
      }
      return;
    case 'CORS':
      arrayAt(out, `${at}.allowOrigins`, filter.allowOrigins).forEach((o, i) =>
        check(out, `${at}.allowOrigins[${i}]`, checkCorsOrigin(o)),
      );
      arrayAt(out, `${at}.allowMethods`, filter.allowMethods).forEach((m, i) => {
        if (m !== '*') check(out, `${at}.allowMethods[${i}]`, checkMethod(m));
      });
      for (const field of ['allowHeaders', 'exposeHeaders'] as const) {
        arrayAt(out, `${at}.${field}`, filter[field]).forEach((h, i) => {
          if (h !== '*') check(out, `${at}.${field}[${i}]`, checkHeaderName(h));
        });
      }
      if (
        filter.maxAgeSeconds !== undefined &&
        !(Number.isInteger(filter.maxAgeSeconds) && filter.maxAgeSeconds >= 0)
      ) {
        check(out, `${at}.maxAgeSeconds`, 'must be a non-negative integer');
      }
      return;
    case 'ExternalAuth':
      validateExternalAuth(filter, at, out, false);
      return;
    default: {
      const unknown = filter as { type?: unknown };
      out.push(
        problem('InvalidValue', `${at}.type`, `${at}.type ${JSON.stringify(unknown.type)} is not a known filter`),
      );
    }
  }
}

function checkPathModifier(modifier: { type: string; value: string }): string | null {
  if (modifier.type !== 'ReplaceFullPath' && modifier.type !== 'ReplacePrefixMatch') {
    return 'belongs to a path modifier whose type is neither ReplaceFullPath nor ReplacePrefixMatch';
  }
  return checkPathValue(modifier.value);
}

function validateWeightedBackends(list: unknown, at: string, out: Sink, withFilters: boolean): void {
  arrayAt(out, at, list).forEach((value, i) => {
    const entry = value as WeightedBackend;
    const bat = `${at}[${i}]`;
    if (entry.backendKey !== null && typeof entry.backendKey !== 'string')
      check(out, `${bat}.backendKey`, 'must be a key or null');
    if (!(Number.isInteger(entry.weight) && entry.weight >= 0 && entry.weight <= 1_000_000)) {
      check(out, `${bat}.weight`, 'must be an integer from 0 to 1000000');
    }
    // Required on HTTP rules; optional on stream routes, but checked when present (the reference checks walk them).
    if (withFilters || entry.filters !== undefined)
      arrayAt(out, `${bat}.filters`, entry.filters).forEach((f, j) =>
        validateFilter(f as HttpFilter, `${bat}.filters[${j}]`, out),
      );
  });
}

function validateRule(rule: HttpRule, at: string, out: Sink): void {
  const matches = arrayAt(out, `${at}.matches`, rule.matches);
  if (matches.length === 0)
    out.push(problem('MissingField', `${at}.matches`, `${at}.matches needs at least one match`));
  matches.forEach((m, i) => validateMatch(m as HttpMatch, `${at}.matches[${i}]`, out));
  const filters = arrayAt(out, `${at}.filters`, rule.filters) as HttpFilter[];
  filters.forEach((f, i) => validateFilter(f, `${at}.filters[${i}]`, out));
  validateWeightedBackends(rule.backends, `${at}.backends`, out, true);
  if (rule.timeouts?.requestMs !== undefined)
    check(out, `${at}.timeouts.requestMs`, checkDurationMs(rule.timeouts.requestMs));
  if (rule.timeouts?.backendRequestMs !== undefined) {
    check(out, `${at}.timeouts.backendRequestMs`, checkDurationMs(rule.timeouts.backendRequestMs));
  }
  if (rule.sessionPersistence !== undefined)
    validateSessionPersistence(rule.sessionPersistence, `${at}.sessionPersistence`, out);
  if (rule.retry !== undefined) {
    if (!(Number.isInteger(rule.retry.attempts) && rule.retry.attempts >= 0 && rule.retry.attempts <= 100)) {
      check(out, `${at}.retry.attempts`, 'must be an integer from 0 to 100');
    }
    check(out, `${at}.retry.backoffMs`, checkDurationMs(rule.retry.backoffMs));
    arrayAt(out, `${at}.retry.codes`, rule.retry.codes).forEach((c, i) => {
      if (!(Number.isInteger(c) && (c as number) >= 400 && (c as number) <= 599))
        check(out, `${at}.retry.codes[${i}]`, 'must be a status code from 400 to 599');
    });
    if (typeof rule.retry.onConnectionError !== 'boolean')
      check(out, `${at}.retry.onConnectionError`, 'must be a boolean');
    if (typeof rule.retry.onBackendTimeout !== 'boolean')
      check(out, `${at}.retry.onBackendTimeout`, 'must be a boolean');
  }
  if (
    rule.directResponse !== undefined &&
    !(
      Number.isInteger(rule.directResponse.status) &&
      rule.directResponse.status >= 200 &&
      rule.directResponse.status <= 599
    )
  ) {
    check(out, `${at}.directResponse.status`, 'must be a status code from 200 to 599');
  }
  const answers = rule.directResponse !== undefined || filters.some((f) => f?.type === 'RequestRedirect');
  if (!answers && Array.isArray(rule.backends) && rule.backends.length === 0) {
    out.push(problem('MissingField', `${at}.backends`, `${at} has no backend, no redirect and no direct response`));
  }
}

function validateParents(parents: unknown, at: string, out: Sink): void {
  arrayAt(out, `${at}.parents`, parents).forEach((p, i) => {
    const parent = p as HttpRoute['parents'][number];
    if (typeof parent?.listenerKey !== 'string' || parent.listenerKey === '')
      check(out, `${at}.parents[${i}].listenerKey`, 'must be a non-empty key');
    arrayAt(out, `${at}.parents[${i}].hostnames`, parent?.hostnames).forEach((h, j) =>
      check(out, `${at}.parents[${i}].hostnames[${j}]`, checkHostname(h)),
    );
  });
}

/** A route's `source` (the object it came from): the shards name the route by it in metrics and access logs. */
function validateSource(source: unknown, at: string, out: Sink): void {
  if (!isObject(source)) {
    out.push(problem('MissingField', at, `${at} must be an object naming the route's kind, namespace and name`));
    return;
  }
  for (const field of ['kind', 'namespace', 'name'] as const)
    if (typeof source[field] !== 'string') check(out, `${at}.${field}`, 'must be a string');
}

export function validateHttpRoute(route: HttpRoute, at: string, out: Sink): void {
  validateSource(route.source, `${at}.source`, out);
  if (!Number.isFinite(route.rank)) check(out, `${at}.rank`, 'must be a number');
  validateParents(route.parents, at, out);
  arrayAt(out, `${at}.rules`, route.rules).forEach((r, i) => validateRule(r as HttpRule, `${at}.rules[${i}]`, out));
}

export function validateStreamRoute(route: StreamRoute, at: string, out: Sink): void {
  validateSource(route.source, `${at}.source`, out);
  if (!Number.isFinite(route.rank)) check(out, `${at}.rank`, 'must be a number');
  validateParents(route.parents, at, out);
  validateWeightedBackends(route.backends, `${at}.backends`, out, false);
}
