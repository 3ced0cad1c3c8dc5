// W3C Trace Context (https://www.w3.org/TR/trace-context/): reading `traceparent` and writing it back.
// The read is the only tracing cost of an unsampled request, so it allocates nothing: it checks the header in place
// with charCodeAt and answers with a number (the trace flags, or -1). Only a sampled request copies the ids out.
// Must not: allocate on the unsampled path, throw on bad input (a bad header is treated as absent, as the spec says).

/** `traceparent` is absent or malformed: the request starts a new trace. */
export const NO_PARENT = -1;
/** The sampled bit of trace-flags. */
export const FLAG_SAMPLED = 0x01;

const DASH = 0x2d;

/** Lowercase hex digit values by char code, -1 elsewhere (uppercase is invalid in traceparent). */
const HEX = new Int8Array(128).fill(-1);
for (let i = 0; i < 10; i++) HEX[0x30 + i] = i;
for (let i = 0; i < 6; i++) HEX[0x61 + i] = 10 + i;

function hexValue(code: number): number {
  return code < 128 ? HEX[code] : -1;
}

/** Whether `s[from, to)` is lowercase hex and not all zeros. */
function nonZeroHex(s: string, from: number, to: number): boolean {
  let any = 0;
  for (let i = from; i < to; i++) {
    const v = hexValue(s.charCodeAt(i));
    if (v < 0) return false;
    any |= v;
  }
  return any !== 0;
}

/**
 * The trace-flags of a header that has the shape of a `traceparent` (length, version, dashes, flags), without checking
 * the 48 hex digits of the ids: enough when the answer does not depend on them (an unsampled flag under parent-based
 * sampling with a 0 % ratio is "not sampled" whether the ids are valid or not). NO_PARENT when the shape is wrong.
 */
export function traceparentShapeFlags(header: string | undefined): number {
  if (header === undefined || header.length < 55) return NO_PARENT;
  const v0 = hexValue(header.charCodeAt(0));
  const v1 = hexValue(header.charCodeAt(1));
  if (v0 < 0 || v1 < 0 || v0 * 16 + v1 === 0xff) return NO_PARENT;
  if (v0 + v1 === 0 ? header.length !== 55 : header.length > 55 && header.charCodeAt(55) !== DASH) return NO_PARENT;
  if (header.charCodeAt(2) !== DASH || header.charCodeAt(35) !== DASH || header.charCodeAt(52) !== DASH)
    return NO_PARENT;
  const f0 = hexValue(header.charCodeAt(53));
  const f1 = hexValue(header.charCodeAt(54));
  return f0 < 0 || f1 < 0 ? NO_PARENT : f0 * 16 + f1;
}

/**
 * Checks a `traceparent` header and returns its trace-flags (0–255), or NO_PARENT when it is absent or invalid.
 * Version 00 must be exactly 55 characters; a higher version may carry more fields after a dash (the spec's forward
 * compatibility rule); version ff is invalid.
 */
export function traceparentFlags(header: string | undefined): number {
  const flags = traceparentShapeFlags(header);
  if (flags === NO_PARENT || !nonZeroHex(header as string, 3, 35) || !nonZeroHex(header as string, 36, 52))
    return NO_PARENT;
  return flags;
}

/** The trace id of a header `traceparentFlags` accepted (32 hex digits). Allocates: call it for sampled requests. */
export function traceIdOf(header: string): string {
  return header.slice(3, 35);
}

/** The parent span id of a header `traceparentFlags` accepted (16 hex digits). */
export function parentIdOf(header: string): string {
  return header.slice(36, 52);
}

/**
 * The trace id's last 13 hex digits (52 bits, exact in a double) as a fraction in [0, 1), read in place. W3C Trace
 * Context level 2 makes the rightmost 7 bytes random, so a ratio decision on them agrees with every other tier that
 * decides on the trace id (OpenTelemetry's TraceIdRatioBased sampler does the same on 8 bytes).
 */
export function traceIdFraction(traceIdHex: string, offset = 0): number {
  let value = 0;
  for (let i = offset + 19; i < offset + 32; i++) value = value * 16 + hexValue(traceIdHex.charCodeAt(i));
  return value / 2 ** 52;
}

/** A `traceparent` value for a span of ours (version 00). */
export function formatTraceparent(traceId: string, spanId: string, sampled: boolean): string {
  return `00-${traceId}-${spanId}-${sampled ? '01' : '00'}`;
}

/** `tracestate` is passed on as received, unless it breaks the spec's limits (then it is dropped, as allowed). */
export function validTracestate(header: string | undefined): string {
  if (header === undefined || header.length === 0 || header.length > 512) return '';
  return header;
}
