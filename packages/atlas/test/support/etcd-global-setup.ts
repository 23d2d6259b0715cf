// The atlas-etcd project's servers: one etcd member for the whole run, stopped after it.
import type { TestProject } from 'vitest/node';
import { startEtcdCluster } from './etcd-cluster.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    etcdEndpoints: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const cluster = await startEtcdCluster(1);
  project.provide('etcdEndpoints', cluster.endpoints.join(','));
  return () => cluster.stop();
}
