// What is wrong with one route rule, collected while it is translated. Two kinds, with different consequences
// (Gateway API HTTPRouteRule and HTTPBackendRef):
//   - `invalid`: the rule cannot be implemented as written (an unknown enum value, a bad path or regex, incompatible
//     filters). The rule is dropped; the route is not accepted when no rule is left, and PartiallyInvalid otherwise.
//   - `refs`: a reference that does not resolve. The rule stays and answers 500 where the reference was
//     (ResolvedRefs=False on the route).

import type { ConditionDraft } from './conditions.ts';

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
  };
  return issues;
}
