// The attribute dictionary: one list of names and types shared by spans, access-log lines (and the Elastic mapping
// in manifests/observability/), so a field means the same thing everywhere. Names come from Gateway API's attribute
// dictionary (GEP-5253, stable OpenTelemetry semantic conventions) where it has one; then from OpenTelemetry
// conventions that are not stable yet (marked, since GEP-5253 leaves them out); then Portico's own, under `portico.`
// (GEP-5253 allows keys outside the dictionary and suggests a namespace to avoid later collisions).
// Pure data and pure checks: no I/O. The data plane's access-log writer and span builder import it; so do tests.

export type AttributeType = 'string' | 'int' | 'double' | 'boolean' | 'string[]';

/** Where the name comes from. */
export type AttributeOrigin = 'GEP-5253' | 'OTel-development' | 'OTel-log-model' | 'Portico';

/** `always`: on every access-log line. `when-known`: present when it applies (a TLS field on a TLS listener…). */
export type Presence = 'always' | 'when-known';

export interface AttributeSpec {
  readonly key: string;
  readonly type: AttributeType;
  readonly origin: AttributeOrigin;
  readonly log: Presence | 'no';
  /** On the gateway's server span (S), on each upstream client span (C), both, or neither. */
  readonly span: 'S' | 'C' | 'SC' | '';
  readonly doc: string;
}

function a(
  key: string,
  type: AttributeType,
  origin: AttributeOrigin,
  log: Presence | 'no',
  span: AttributeSpec['span'],
  doc: string,
): AttributeSpec {
  return Object.freeze({ key, type, origin, log, span, doc });
}

/** Response flags (`portico.response_flags`): why a response is not simply the upstream's. */
export const RESPONSE_FLAGS = Object.freeze([
  'upstream_timeout', // the backend did not answer within the route's timeout
  'request_timeout', // the whole request (all attempts) exceeded its timeout
  'upstream_reset', // the connection to the backend closed before a full response
  'upstream_connect_failure', // no connection to the backend
  'no_healthy_endpoint', // the backend has no ready endpoint
  'no_route', // no route matched (404 from the gateway)
  'invalid_backend', // the rule's backend is unresolved (500 from the gateway)
  'downstream_reset', // the client went away before the response was complete
  'retried', // at least one attempt was retried
  'ext_authz_denied', // the external authorizer refused the request; the client got its answer
  'ext_authz_error', // the external authorizer could not decide (down, timed out, bad answer, unresolved): refused
] as const);
export type ResponseFlag = (typeof RESPONSE_FLAGS)[number];

export const ATTRIBUTES: readonly AttributeSpec[] = Object.freeze([
  a('time', 'string', 'Portico', 'always', '', 'End of the request, RFC 3339 with milliseconds, UTC.'),
  a('trace_id', 'string', 'OTel-log-model', 'when-known', '', 'Trace id (32 hex digits) when the request was traced.'),
  a('span_id', 'string', 'OTel-log-model', 'when-known', '', "The gateway's server span id (16 hex digits)."),
  a('http.request.header.x-request-id', 'string[]', 'GEP-5253', 'always', 'S', 'Request id; generated if absent.'),
  a('client.address', 'string', 'GEP-5253', 'always', 'S', 'Address of the downstream peer (no proxy headers).'),
  a('client.port', 'int', 'GEP-5253', 'always', 'S', 'Port of the downstream peer.'),
  a('http.request.method', 'string', 'GEP-5253', 'always', 'SC', 'Method; `_OTHER` for a non-standard method.'),
  a('http.request.method_original', 'string', 'GEP-5253', 'when-known', 'SC', 'The method as sent, when _OTHER.'),
  a('server.address', 'string', 'GEP-5253', 'always', 'SC', 'Host header (server) / backend host (client span).'),
  a('server.port', 'int', 'GEP-5253', 'always', 'SC', 'Listener port (server) / backend port (client span).'),
  a('url.scheme', 'string', 'GEP-5253', 'always', 'SC', '`http` or `https`.'),
  a('url.path', 'string', 'GEP-5253', 'always', 'SC', 'Path, truncated to 512 characters in logs.'),
  a('url.query', 'string', 'GEP-5253', 'when-known', 'SC', 'Query string without `?`, when present.'),
  a('network.protocol.version', 'string', 'GEP-5253', 'always', 'SC', '`1.0`, `1.1` or `2`.'),
  a('network.protocol.name', 'string', 'GEP-5253', 'no', 'SC', '`http`.'),
  a('network.transport', 'string', 'GEP-5253', 'no', 'S', '`tcp` (HTTP/1.1 and HTTP/2; no HTTP/3).'),
  a('network.type', 'string', 'GEP-5253', 'no', 'S', '`ipv4` or `ipv6`, of the client connection.'),
  a('network.peer.address', 'string', 'GEP-5253', 'no', 'S', 'The client connection peer (= client.address).'),
  a('network.peer.port', 'int', 'GEP-5253', 'no', 'S', 'The client connection peer port (= client.port).'),
  a('url.full', 'string', 'GEP-5253', 'no', 'C', 'Client spans: the upstream URL (scheme, endpoint, path).'),
  a('user_agent.original', 'string', 'GEP-5253', 'when-known', 'S', 'User-Agent header, when sent.'),
  a('http.route', 'string', 'GEP-5253', 'when-known', 'S', "The matched rule's path match (template), if any."),
  a('http.response.status_code', 'int', 'GEP-5253', 'always', 'SC', 'Status sent downstream (server) / received.'),
  a('error.type', 'string', 'GEP-5253', 'when-known', 'SC', 'Status code as text for 5xx, or the error code.'),
  a('http.request.body.size', 'int', 'OTel-development', 'always', '', 'Request body bytes received.'),
  a('http.response.body.size', 'int', 'OTel-development', 'always', '', 'Response body bytes sent.'),
  a('tls.protocol.version', 'string', 'OTel-development', 'when-known', 'S', 'TLS version (`1.2`, `1.3`).'),
  a('tls.client.server_name', 'string', 'OTel-development', 'when-known', 'S', 'SNI sent by the client.'),
  a('portico.duration_ms', 'double', 'Portico', 'always', '', 'First byte in to last byte out, milliseconds.'),
  a('portico.gateway', 'string', 'Portico', 'when-known', 'S', 'namespace/name of the Gateway.'),
  a('portico.listener', 'string', 'Portico', 'always', 'S', 'Listener key (namespace/gateway/listener).'),
  a('portico.route', 'string', 'Portico', 'when-known', 'S', 'namespace/name of the matched route.'),
  a('portico.rule', 'string', 'Portico', 'when-known', 'S', 'Rule name, or its index when unnamed.'),
  a('portico.backend', 'string', 'Portico', 'when-known', 'SC', 'Backend key (namespace/service:port).'),
  a('portico.upstream.address', 'string', 'Portico', 'when-known', 'C', 'Endpoint of the last attempt (ip:port).'),
  a('portico.upstream.duration_ms', 'double', 'Portico', 'when-known', '', 'Upstream time of the last attempt, ms.'),
  a('portico.retries', 'int', 'Portico', 'always', 'S', 'Attempts after the first (0 when not retried).'),
  a('portico.attempt', 'int', 'Portico', 'no', 'C', 'Attempt number of a client span, 1-based.'),
  a('portico.mirror', 'boolean', 'Portico', 'no', 'C', 'True on the client span of a mirrored request.'),
  a('portico.response_flags', 'string[]', 'Portico', 'always', '', `Any of ${RESPONSE_FLAGS.join(', ')}.`),
  a('portico.config.generation', 'int', 'Portico', 'no', '', 'Operator spans: the generation published.'),
]);

export const ATTRIBUTE_BY_KEY: ReadonlyMap<string, AttributeSpec> = new Map(ATTRIBUTES.map((s) => [s.key, s]));

/** Whether `value` has the dictionary type `type` (an int is a safe integer; a double any finite number). */
export function hasType(value: unknown, type: AttributeType): boolean {
  switch (type) {
    case 'string':
      return typeof value === 'string';
    case 'int':
      return Number.isSafeInteger(value);
    case 'double':
      return typeof value === 'number' && Number.isFinite(value);
    case 'boolean':
      return typeof value === 'boolean';
    case 'string[]':
      return Array.isArray(value) && value.every((v) => typeof v === 'string');
    default: {
      const never: never = type;
      return never;
    }
  }
}

/**
 * Checks one parsed access-log record against the dictionary: every `always` field present, every field that is
 * present of its type, no field outside the dictionary (pino's own `level` and `msg` aside). Returns problems.
 */
export function validateAccessRecord(record: Record<string, unknown>, allowed = ['level', 'msg']): string[] {
  const problems: string[] = [];
  for (const spec of ATTRIBUTES) {
    if (spec.log === 'no') continue;
    const value = record[spec.key];
    if (value === undefined) {
      if (spec.log === 'always') problems.push(`${spec.key}: missing`);
    } else if (!hasType(value, spec.type)) {
      problems.push(`${spec.key}: ${JSON.stringify(value)} is not ${spec.type}`);
    }
  }
  for (const key of Object.keys(record)) {
    const spec = ATTRIBUTE_BY_KEY.get(key);
    if (spec === undefined ? !allowed.includes(key) : spec.log === 'no')
      problems.push(`${key}: not an access-log field of the dictionary`);
  }
  const flags = record['portico.response_flags'];
  if (Array.isArray(flags))
    for (const flag of flags)
      if (!(RESPONSE_FLAGS as readonly string[]).includes(flag)) problems.push(`portico.response_flags: ${flag}?`);
  return problems;
}

/** Header attributes of the dictionary (`http.request.header.<name>`): the request header, lower case. */
export const REQUEST_HEADER_PREFIX = 'http.request.header.';

/**
 * Whether the data plane fills `key` on its server span, so that an XTelemetryPolicy `Attribute` source can copy it:
 * the dictionary's server-span keys, and `http.request.header.<name>` for any header the request carries.
 */
export function isFilledAttributeKey(key: string): boolean {
  if (key.startsWith(REQUEST_HEADER_PREFIX)) return key.length > REQUEST_HEADER_PREFIX.length;
  return ATTRIBUTE_BY_KEY.get(key)?.span.includes('S') === true;
}
