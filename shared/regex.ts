// User-supplied regular expressions (RegularExpression path, header and query matches) use RE2 syntax and run on
// re2js, whose matching time is linear in the input: a pattern such as `^(a+)+$` cannot stall a shard the way it
// stalls V8's backtracking engine (28.6 s on a 29-character input). Never build a `RegExp` from user input.

import { RE2JS } from 're2js';

/** Longest pattern accepted; keeps the compiled program (and so the per-request cost) bounded. */
export const MAX_REGEX_LENGTH = 1024;

export interface CompiledRegex {
  /** True when the whole input matches (Gateway API matches are anchored at both ends). */
  matches(input: string): boolean;
}

export type RegexResult = { ok: true; regex: CompiledRegex } | { ok: false; reason: string };

// Compiling is the expensive part and the same patterns come back with every generation, so compiled programs are
// memoised by pattern. Bounded, so that a stream of distinct hostile patterns cannot grow it without limit.
const MEMO_LIMIT = 4096;
const memo = new Map<string, RegexResult>();

export function compileUserRegex(pattern: string): RegexResult {
  const cached = memo.get(pattern);
  if (cached !== undefined) return cached;
  const result = compileUncached(pattern);
  if (memo.size >= MEMO_LIMIT) memo.delete(memo.keys().next().value as string);
  memo.set(pattern, result);
  return result;
}

function compileUncached(pattern: string): RegexResult {
  if (pattern.length === 0) return { ok: false, reason: 'the pattern is empty' };
  if (pattern.length > MAX_REGEX_LENGTH) {
    return {
      ok: false,
      reason: `the pattern is ${pattern.length} characters long; at most ${MAX_REGEX_LENGTH} are accepted`,
    };
  }
  try {
    const re = RE2JS.compile(pattern);
    return { ok: true, regex: { matches: (input: string) => re.matches(input) } };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { ok: false, reason: `not a valid RE2 pattern: ${message}` };
  }
}
