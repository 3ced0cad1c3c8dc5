// What the data plane says about a generation, folded into the translator's statuses. The translator writes
// Programmed=True for what it put in the IR; that is only true once the data plane has applied the generation, and
// not for a listener whose socket failed to bind. Pure: returns new statuses, the input is not changed.

import { listenerKey, listenerSetListenerKey } from '../../shared/ir/keys.ts';
import {
  listenerSetNotProgrammedListenersNotValid,
  listenerSetProgrammedPending,
  gatewayNotProgrammedInvalid,
  gatewayProgrammedPending,
  listenerNotProgrammedInvalid,
  listenerProgrammedPending,
} from './conditions.ts';
import type { Condition, ConditionDraft } from './conditions.ts';
import type { ObjectStatus } from './status.ts';

export interface DataPlaneState {
  /** The data plane has applied (ACKed) the generation these statuses belong to. */
  acked: boolean;
  /** Listeners the data plane could not serve, by IR listener key (`<namespace>/<gateway>/<listener>`, ListenerSets' too), with why. */
  listenerErrors: ReadonlyMap<string, string>;
}

/** Replaces a Programmed=True condition by the draft, keeping its observedGeneration (and the run's time). */
function replaceProgrammed(conditions: Condition[], draft: ConditionDraft): Condition[] {
  return conditions.map((c) => (c.type === 'Programmed' && c.status === 'True' ? { ...c, ...draft } : c));
}

const PENDING = 'Waiting for the data plane to apply this configuration';

/** The statuses whose Programmed conditions follow the data plane (and go to the sink with every generation). */
export function followsDataPlane(
  status: ObjectStatus,
): status is Extract<ObjectStatus, { kind: 'Gateway' | 'ListenerSet' }> {
  return status.kind === 'Gateway' || status.kind === 'ListenerSet';
}

function applyToListeners(
  entry: Extract<ObjectStatus, { kind: 'Gateway' | 'ListenerSet' }>,
  state: DataPlaneState,
): ObjectStatus {
  const gateway = entry.kind === 'Gateway';
  const keyOf = (name: string) =>
    gateway
      ? listenerKey(entry.namespace, entry.name, name)
      : listenerSetListenerKey(entry.namespace, entry.name, name);
  let failed = 0;
  let programmed = 0;
  const listeners = entry.status.listeners.map((listener) => {
    const wasProgrammed = listener.conditions.some((c) => c.type === 'Programmed' && c.status === 'True');
    if (!wasProgrammed) return listener;
    programmed++;
    const error = state.listenerErrors.get(keyOf(listener.name));
    if (error !== undefined) {
      failed++;
      return {
        ...listener,
        conditions: replaceProgrammed(
          listener.conditions,
          listenerNotProgrammedInvalid(`The data plane cannot serve this listener: ${error}`),
        ),
      };
    }
    return state.acked
      ? listener
      : { ...listener, conditions: replaceProgrammed(listener.conditions, listenerProgrammedPending(PENDING)) };
  });
  let conditions = entry.status.conditions;
  if (programmed > 0 && failed === programmed) {
    const message = `The data plane cannot serve any listener of this ${entry.kind}`;
    conditions = replaceProgrammed(
      conditions,
      gateway ? gatewayNotProgrammedInvalid(message) : listenerSetNotProgrammedListenersNotValid(message),
    );
  } else if (!state.acked) {
    conditions = replaceProgrammed(
      conditions,
      gateway ? gatewayProgrammedPending(PENDING) : listenerSetProgrammedPending(PENDING),
    );
  }
  return { ...entry, status: { ...entry.status, conditions, listeners } } as ObjectStatus;
}

/**
 * The status with every condition at `time`: what the translator gives for a run at that time. A status remembered
 * from an earlier run (translation session) is brought to the pass's time before the data plane's state is folded
 * in, so that the Programmed transitions this makes carry the time they happen at.
 */
export function restamp(entry: ObjectStatus, time: string): ObjectStatus {
  const stamp = (conditions: Condition[]) =>
    conditions.map((c) => (c.lastTransitionTime === time ? c : { ...c, lastTransitionTime: time }));
  switch (entry.kind) {
    case 'Gateway':
    case 'ListenerSet':
      return {
        ...entry,
        status: {
          ...entry.status,
          conditions: stamp(entry.status.conditions),
          listeners: entry.status.listeners.map((l) => ({ ...l, conditions: stamp(l.conditions) })),
        },
      } as ObjectStatus;
    case 'GatewayClass':
      return { ...entry, status: { ...entry.status, conditions: stamp(entry.status.conditions) } };
    case 'BackendTLSPolicy':
    case 'XTelemetryPolicy':
    case 'XBackendTrafficPolicy':
      return {
        ...entry,
        status: { ancestors: entry.status.ancestors.map((a) => ({ ...a, conditions: stamp(a.conditions) })) },
      };
    default:
      return {
        ...entry,
        status: { parents: entry.status.parents.map((p) => ({ ...p, conditions: stamp(p.conditions) })) },
      };
  }
}

export function applyDataPlaneState(statuses: readonly ObjectStatus[], state: DataPlaneState): ObjectStatus[] {
  return statuses.map((entry) => (followsDataPlane(entry) ? applyToListeners(entry, state) : entry));
}
