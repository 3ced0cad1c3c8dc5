// Type-checked reads of plain Kubernetes objects. Input comes from the API server, from YAML files in standalone
// mode, or from an older or newer API version, so any field may be absent or of the wrong type: every read goes
// through these helpers, which return `undefined` for a value of the wrong type instead of trusting the declared
// interface. Never throws.

export type Json = Record<string, unknown>;

export function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The object, or an empty one when the value is absent or not an object. */
export function objectAt(value: unknown): Json {
  return isObject(value) ? value : {};
}

/** The list, or an empty one when the value is absent or not a list. */
export function listAt(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

export function stringAt(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** A string that is present and not empty. */
export function nonEmptyString(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

export function integerAt(value: unknown): number | undefined {
  return Number.isSafeInteger(value) ? (value as number) : undefined;
}

export function booleanAt(value: unknown): boolean | undefined {
  return typeof value === 'boolean' ? value : undefined;
}

/** A short, printable rendering of a user value for a status message (never the whole of a large value). */
export function show(value: unknown): string {
  let text: string;
  try {
    text =
      typeof value === 'string'
        ? JSON.stringify(value)
        : value === undefined
          ? 'nothing'
          : (JSON.stringify(value) ?? String(value));
  } catch {
    text = String(value);
  }
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** Where a value sits, as a JSONPath-like string for messages: `spec.rules[0].matches[1].path.value`. */
export function at(base: string, ...parts: Array<string | number>): string {
  let path = base;
  for (const part of parts) path += typeof part === 'number' ? `[${part}]` : `.${part}`;
  return path;
}
