// The operator's link to its data plane, the same in file and Kubernetes mode: a Publisher whose connection events
// drive the reconciler. The reconciler is created after the publisher (it publishes through it), hence the getter.

import type { Logger } from 'pino';
import { Publisher } from '../publisher/publisher.ts';
import type { PublisherEvents } from '../publisher/publisher.ts';
import type { Reconciler } from './reconciler.ts';

export function linkDataPlane(
  socketPath: string,
  instance: string,
  log: Logger,
  reconciler: () => Reconciler | null,
  /** Also told of stats and of each publish's answer (the console). */
  observer?: Pick<PublisherEvents, 'stats' | 'published'>,
): Publisher {
  return new Publisher({
    socketPath,
    instance,
    events: {
      connected: (hello) => {
        log.info(
          { dataplane: hello.instance, generation: hello.generation, shards: hello.shards },
          'connected to the data plane',
        );
        // A data plane that restarted holds nothing: give it the configuration again.
        reconciler()?.trigger();
      },
      disconnected: () => log.warn('lost the data plane connection; reconnecting'),
      // Bind errors and retries of the data plane feed Programmed of the Gateways concerned.
      stats: (stats) => {
        reconciler()?.dataPlaneStats(stats);
        observer?.stats?.(stats);
      },
      published: observer?.published,
    },
  });
}
