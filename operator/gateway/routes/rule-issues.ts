// What is wrong with one route rule, collected while it is translated, and the backends its references found (the
// route's node keeps those, not the translate context, which passes only read). Two kinds of problem, with different
// consequences (Gateway API HTTPRouteRule and HTTPBackendRef):
//   - `invalid`: the rule cannot be implemented as written (an unknown enum value, a bad path or regex, incompatible
//     filters). The rule is dropped; the route is not accepted when no rule is left, and PartiallyInvalid otherwise.
//   - `refs`: a reference that does not resolve. The rule stays and answers 500 where the reference was
//     (ResolvedRefs=False on the route).

import type { BackendResolution, BackendSpec } from '../backends/backend.ts';
import type { ConditionDraft } from '../conditions.ts';

export interface RuleProblem {
  reason: 'UnsupportedValue' | 'IncompatibleFilters';
  message: string;
}

export interface RuleIssues {
  invalid: RuleProblem[];
  refs: ConditionDraft[];
  /** Records an UnsupportedValue problem; returns undefined so that a builder can `return issues.unsupported(...)`. */
  unsupported(message: string): undefined;
  incompatible(message: string): undefined;
  ref(problem: ConditionDraft): undefined;
  /** Backends the rule's references resolved to, by key. */
  backends: Map<string, BackendSpec>;
  /** Service ports a BackendTLSPolicy targets that the rule's references reach (`servicePortKey`). */
  tlsPorts: Set<string>;
  /** Records what a reference resolved to (its backend, its TLS port) and returns it. */
  resolved(resolution: BackendResolution): BackendResolution;
}

export function newRuleIssues(): RuleIssues {
  const issues: RuleIssues = {
    invalid: [],
    refs: [],
    unsupported(message) {
      issues.invalid.push({ reason: 'UnsupportedValue', message });
      return undefined;
    },
    incompatible(message) {
      issues.invalid.push({ reason: 'IncompatibleFilters', message });
      return undefined;
    },
    ref(problem) {
      issues.refs.push(problem);
      return undefined;
    },
    backends: new Map(),
    tlsPorts: new Set(),
    resolved(resolution) {
      if (resolution.key !== null && !issues.backends.has(resolution.key))
        issues.backends.set(resolution.key, resolution.spec);
      if (resolution.tlsPort !== undefined) issues.tlsPorts.add(resolution.tlsPort);
      return resolution;
    },
  };
  return issues;
}
