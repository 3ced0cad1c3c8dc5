// Where the operator's API credentials come from: the kubeconfig file(s) named by --kubeconfig / KUBECONFIG (a
// ':'-separated list is merged as kubectl does, the first file's context winning), else the pod's service account
// (in-cluster), else ~/.kube/config — client-node's KubeConfig does the loading and keeps rotating tokens fresh.

import { KubeConfig } from '@kubernetes/client-node';

export function loadKubeConfig(paths: string | undefined): KubeConfig {
  const config = new KubeConfig();
  const files = (paths ?? '').split(':').filter((p) => p !== '');
  if (files.length === 0) {
    config.loadFromDefault();
  } else {
    config.loadFromFile(files[0]);
    for (const file of files.slice(1)) {
      const more = new KubeConfig();
      more.loadFromFile(file);
      config.mergeConfig(more, true);
    }
  }
  if (config.getCurrentCluster() === null)
    throw new Error(
      `no Kubernetes cluster in the kubeconfig${files.length > 0 ? ` (${files.join(', ')})` : ''} and not running in a cluster`,
    );
  return config;
}

/** The namespace of the current context (in-cluster: the pod's namespace), if any. */
export function contextNamespace(config: KubeConfig): string | undefined {
  return config.getContextObject(config.getCurrentContext())?.namespace || undefined;
}
