// What the provider keeps of an API object, and when a change is only a status change (which does not reach the
// store: our own status writes must not cause another translation).

import type { ApiObject } from '../framework/resource.ts';

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

/** What we keep of an object: everything but managedFields and kubectl's copy of the last applied manifest. */
export function trimObject(object: ApiObject): ApiObject {
  const metadata = object.metadata;
  if (
    metadata === undefined ||
    (metadata.managedFields === undefined && metadata.annotations?.[LAST_APPLIED] === undefined)
  )
    return object;
  const { managedFields: _dropped, ...rest } = metadata;
  if (rest.annotations?.[LAST_APPLIED] !== undefined) {
    const { [LAST_APPLIED]: _applied, ...annotations } = rest.annotations;
    rest.annotations = annotations;
  }
  return { ...object, metadata: rest };
}

/** True when two versions of an object differ in nothing but status and resourceVersion. */
export function onlyStatusChanged(previous: ApiObject, current: ApiObject): boolean {
  const strip = (o: ApiObject) =>
    JSON.stringify({ ...o, status: undefined, metadata: { ...o.metadata, resourceVersion: undefined } });
  return strip(previous) === strip(current);
}
