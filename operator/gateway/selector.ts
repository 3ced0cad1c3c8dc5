// Kubernetes label selectors (`metav1.LabelSelector`): `matchLabels` and `matchExpressions` with the operators In,
// NotIn, Exists and DoesNotExist, all ANDed. Parsing is separate from matching so that a malformed selector is
// reported once (a listener condition naming the field) instead of silently matching nothing or everything.

import { isObject, listAt, objectAt, show, stringAt } from './read.ts';

interface Requirement {
  key: string;
  operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  values: string[];
}

export type LabelSelector = readonly Requirement[];

export type SelectorParse = { ok: true; selector: LabelSelector } | { ok: false; message: string };

const OPERATORS = new Set(['In', 'NotIn', 'Exists', 'DoesNotExist']);

export function parseLabelSelector(value: unknown, field: string): SelectorParse {
  if (!isObject(value)) return { ok: false, message: `${field} must be a label selector object; it is ${show(value)}` };
  const requirements: Requirement[] = [];
  const matchLabels = value.matchLabels;
  if (matchLabels !== undefined) {
    if (!isObject(matchLabels)) return { ok: false, message: `${field}.matchLabels must be a map of strings` };
    for (const [key, v] of Object.entries(matchLabels)) {
      if (typeof v !== 'string')
        return { ok: false, message: `${field}.matchLabels.${key} must be a string; it is ${show(v)}` };
      requirements.push({ key, operator: 'In', values: [v] });
    }
  }
  if (value.matchExpressions !== undefined && !Array.isArray(value.matchExpressions)) {
    return { ok: false, message: `${field}.matchExpressions must be a list` };
  }
  for (const [i, entry] of listAt(value.matchExpressions).entries()) {
    const e = objectAt(entry);
    const where = `${field}.matchExpressions[${i}]`;
    const key = stringAt(e.key);
    const operator = stringAt(e.operator);
    if (!key) return { ok: false, message: `${where}.key must be a label key; it is ${show(e.key)}` };
    if (operator === undefined || !OPERATORS.has(operator)) {
      return {
        ok: false,
        message: `${where}.operator must be In, NotIn, Exists or DoesNotExist; it is ${show(e.operator)}`,
      };
    }
    const values = listAt(e.values);
    if (!values.every((v) => typeof v === 'string'))
      return { ok: false, message: `${where}.values must be a list of strings` };
    const needsValues = operator === 'In' || operator === 'NotIn';
    if (needsValues !== values.length > 0) {
      return {
        ok: false,
        message: `${where}: operator ${operator} ${needsValues ? 'needs at least one value' : 'takes no values'}`,
      };
    }
    requirements.push({ key, operator: operator as Requirement['operator'], values: values as string[] });
  }
  return { ok: true, selector: requirements };
}

/** An empty selector matches everything (Kubernetes semantics). */
export function matchesLabels(selector: LabelSelector, labels: Readonly<Record<string, string>>): boolean {
  return selector.every((r) => {
    const has = Object.hasOwn(labels, r.key);
    switch (r.operator) {
      case 'In':
        return has && r.values.includes(labels[r.key]);
      case 'NotIn':
        return !has || !r.values.includes(labels[r.key]);
      case 'Exists':
        return has;
      case 'DoesNotExist':
        return !has;
      default: {
        const never: never = r.operator;
        return never;
      }
    }
  });
}
