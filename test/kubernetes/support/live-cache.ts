// The sinks' `live` view in tests, as operator/kubernetes.ts wires it: the real provider's reflector caches of the
// kinds a sink reads, with every change passed on to the sink. A map refreshed by hand would skip the very lag between
// a write and its echo that the sinks must cope with.

import type { Logger } from 'pino';
import type { KubeClient } from '../../../operator/framework/kube-client.ts';
import { WATCHED_KINDS } from '../../../operator/kubernetes/kinds.ts';
import { KubernetesProvider } from '../../../operator/kubernetes/provider.ts';
import { ResourceStore } from '../../../operator/store/resource-store.ts';

export async function startLiveCache(
  client: KubeClient,
  kinds: readonly string[],
  log: Logger,
  onLiveChange: (kind: string, key: string) => void,
): Promise<KubernetesProvider> {
  const provider = new KubernetesProvider({
    client,
    store: new ResourceStore(),
    log,
    kinds: WATCHED_KINDS.filter((k) => kinds.includes(k.kind)),
    onLiveChange,
  });
  await provider.start();
  return provider;
}
