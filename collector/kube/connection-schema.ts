/** The config fields that say where the Kubernetes API is, shared by every part that talks to it. */
import { Type } from '@sinclair/typebox';

export const kubeConnectionFields = {
  kubeconfig: Type.Optional(
    Type.String({
      description: "A kubeconfig file (K3s: /etc/rancher/k3s/k3s.yaml). Unset: the pod's service account when HomeStation runs in the cluster, else $KUBECONFIG, else ~/.kube/config.",
    }),
  ),
  context: Type.Optional(Type.String({ description: 'A context of the kubeconfig; unset: its current-context.' })),
};
