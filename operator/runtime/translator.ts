// How the reconciler gets a translation: in a piscina worker when the pool is available (so that a 10k-route
// translation does not stall the operator's event loop), or in-thread (tests, tiny configs).

import { translate } from '../gateway/translate.ts';
import type { TranslateResult } from '../gateway/translate.ts';
import type { ResourceSnapshot } from '../gateway/resources.ts';
import type { TranslateOptions } from '../gateway/options.ts';

export interface Translator {
  translate(resources: ResourceSnapshot, options: TranslateOptions): Promise<TranslateResult>;
  close(): Promise<void>;
}

export function inThreadTranslator(): Translator {
  return {
    translate: async (resources, options) => translate(resources, options),
    close: async () => undefined,
  };
}
