// Checks of an IR `ExternalAuth` record (shared/ir/auth.ts), on a listener or as a route filter: the same code the
// translator relies on and the data plane runs on every snapshot. Returns problems; never throws.

import type { ExternalAuth } from '../ir/auth.ts';
import { checkHeaderName, checkPathValue } from './fields.ts';
import { problem } from './problem.ts';
import type { Problem } from './problem.ts';

/** The longest wait for an authorizer a record may ask for (a client would have given up long before). */
export const MAX_EXTERNAL_AUTH_TIMEOUT_MS = 60_000;

/** `http.path` as a prefix: '' (none), or an absolute path without a trailing "/" (the client's path brings one). */
export function checkAuthPathPrefix(value: unknown): string | null {
  if (value === '') return null;
  const problem = checkPathValue(value);
  if (problem !== null) return problem;
  if ((value as string).endsWith('/')) return 'must not end with "/" (the client path that follows starts with one)';
  return null;
}

function headerList(value: unknown, at: string, out: Problem[]): void {
  if (!Array.isArray(value)) return void out.push(problem('MissingField', at, `${at} must be a list`));
  value.forEach((name, i) => {
    const reason = checkHeaderName(name);
    if (reason !== null) out.push(problem('InvalidValue', `${at}[${i}]`, `${at}[${i}] ${reason}`));
    else if (name !== (name as string).toLowerCase())
      out.push(problem('InvalidValue', `${at}[${i}]`, `${at}[${i}] must be lower case`));
  });
}

/** Problems of one ExternalAuth record at `at`; `nullable`: a listener's may have no backend (fails closed). */
export function validateExternalAuth(auth: ExternalAuth, at: string, out: Problem[], nullable: boolean): void {
  if (auth.protocol !== 'HTTP' && auth.protocol !== 'GRPC')
    out.push(problem('InvalidValue', `${at}.protocol`, `${at}.protocol must be HTTP or GRPC`));
  if (!(typeof auth.backendKey === 'string' && auth.backendKey !== '') && !(nullable && auth.backendKey === null))
    out.push(problem('InvalidValue', `${at}.backendKey`, `${at}.backendKey must be a backend key`));
  const prefix = checkAuthPathPrefix(auth.pathPrefix);
  if (prefix !== null) out.push(problem('InvalidValue', `${at}.pathPrefix`, `${at}.pathPrefix ${prefix}`));
  headerList(auth.allowedRequestHeaders, `${at}.allowedRequestHeaders`, out);
  headerList(auth.allowedResponseHeaders, `${at}.allowedResponseHeaders`, out);
  if (!(Number.isInteger(auth.forwardBodyMaxBytes) && auth.forwardBodyMaxBytes >= 0))
    out.push(problem('InvalidValue', `${at}.forwardBodyMaxBytes`, `${at}.forwardBodyMaxBytes must be an integer >= 0`));
  if (!(Number.isInteger(auth.timeoutMs) && auth.timeoutMs > 0 && auth.timeoutMs <= MAX_EXTERNAL_AUTH_TIMEOUT_MS))
    out.push(
      problem(
        'InvalidValue',
        `${at}.timeoutMs`,
        `${at}.timeoutMs must be an integer from 1 to ${MAX_EXTERNAL_AUTH_TIMEOUT_MS}`,
      ),
    );
}
