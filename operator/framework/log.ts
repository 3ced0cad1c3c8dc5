// The logger the framework writes to: the subset of pino it uses, so that any pino logger (or a test double) fits
// and the framework does not depend on how the operator configures logging.

export interface Log {
  debug(fields: object, message?: string): void;
  info(fields: object, message?: string): void;
  warn(fields: object, message?: string): void;
  error(fields: object, message?: string): void;
}

/** A logger that drops everything (tests, and callers that do not care). */
export const silentLog: Log = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};
