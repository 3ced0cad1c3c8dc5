// Problems found by validation: plain data (they cross threads and the socket, where an Error loses its fields).
// The operator turns them into status conditions; the data plane puts them in a NACK.

export type ProblemCode =
  | 'InvalidValue' // a field has a value outside what is allowed (the message says which and why)
  | 'MissingField' // a required field is absent
  | 'DuplicateKey' // two records of one kind share a key
  | 'UnknownReference' // a record refers to a key that is not in the snapshot
  | 'ListenerConflict' // two listeners cannot share an address and port
  | 'InvalidRegex' // a RegularExpression match that RE2 rejects
  | 'InvalidCertificate' // a certificate or key that does not parse or does not match
  | 'UnsupportedVersion'; // an IR version the data plane does not know

export interface Problem {
  code: ProblemCode;
  /** Where: a record key and a field path, e.g. `httpRoutes[httproute/default/a].rules[0].matches[1].path.value`. */
  path: string;
  message: string;
}

export function problem(code: ProblemCode, path: string, message: string): Problem {
  return { code, path, message };
}
