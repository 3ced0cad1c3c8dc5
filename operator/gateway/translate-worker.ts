// The piscina task: translate in a worker thread, so that a large snapshot (thousands of routes, certificate and
// regex checks) does not stall the operator's event loop (Lease renewal, watches). Input and output are plain,
// structured-cloneable data; the function is the same `translate` the operator can call in-thread.

import type { TranslateOptions } from './options.ts';
import type { ResourceSnapshot } from './resources.ts';
import { translate } from './translate.ts';
import type { TranslateResult } from './translate.ts';

export interface TranslateTask {
  resources: ResourceSnapshot;
  options: TranslateOptions;
}

export default function translateTask(task: TranslateTask): TranslateResult {
  return translate(task.resources, task.options);
}
