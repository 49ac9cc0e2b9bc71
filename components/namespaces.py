"""The platform's namespaces, each with its Pod Security Standards level.

Every component that runs workloads gets its namespace from here, so the Pod Security
level of each namespace is decided in one place and a namespace exists before anything
is created in it. ``restricted`` is the default; each exception says why.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

RESTRICTED = "restricted"
BASELINE = "baseline"
PRIVILEGED = "privileged"


@dataclass(frozen=True)
class NamespaceSpec:
    name: str
    purpose: str
    pod_security: str = RESTRICTED
    exception: str = ""


# The namespaces the platform creates. kube-system is EKS's own and is not managed here.
# Reviewed against the charts' pod security defaults: cert-manager (controller, webhook,
# cainjector and its ACME solver pods), Traefik (non-root 65532, read-only root,
# unprivileged ports 8000/8443), KEDA (non-root, RuntimeDefault seccomp, no capabilities)
# and the backup jobs all run under `restricted`. Only the node exporter and the portal
# chart cannot. Vault (non-root uid 100, all capabilities dropped, RuntimeDefault seccomp,
# read-only root with /tmp as emptyDir, disable_mlock so it needs no IPC_LOCK), External
# Secrets (non-root 1000, read-only root, no capabilities, RuntimeDefault: the chart's
# defaults) and the central identity provider (the Bitnami keycloak chart's
# containerSecurityContext, and the program's own realm seeding Job: components/portal.py)
# run under `restricted` too.
PLATFORM_NAMESPACES: tuple[NamespaceSpec, ...] = (
    NamespaceSpec("tractus-x", "Tractus-X applications (connector, central identity provider, Redis)"),
    NamespaceSpec(
        "portal",
        "the Tractus-X portal (frontends, backend services, their migration and maintenance jobs)",
        pod_security=BASELINE,
        exception=(
            "the portal chart 2.5.0 gives every container a fixed securityContext (non-root, no privilege "
            "escalation, all capabilities dropped, read-only root) without a seccompProfile and has no value "
            "that sets one, pod or container (templates deployment-*, job-* and cronjob-*.yaml), so "
            "restricted refuses each of its pods; baseline admits them, and nothing else runs here"
        ),
    ),
    NamespaceSpec("backup", "database, configuration and certificate backups; weekly restore test"),
    NamespaceSpec("cert-manager", "cert-manager and its ACME solvers"),
    NamespaceSpec("traefik", "the ingress controller behind the Network Load Balancer"),
    NamespaceSpec("keda", "KEDA, which turns Prometheus queries into HPA metrics"),
    # The argo-cd chart gives every Argo CD container runAsNonRoot, no privilege
    # escalation, all capabilities dropped and the RuntimeDefault seccomp profile, and
    # components/gitops.py sets the same on the redis-ha subchart's Redis, Sentinel and
    # HAProxy containers (whose pods run as UID 1000 and 99); volumes are emptyDir,
    # ConfigMaps, Secrets and projected tokens only: `restricted` holds.
    NamespaceSpec("argocd", "Argo CD (application controller, API and repo servers, ApplicationSet, Redis HA)"),
    NamespaceSpec("vault", "HashiCorp Vault (HA raft) and its bootstrap Job"),
    NamespaceSpec("external-secrets", "External Secrets Operator: Vault paths become Kubernetes Secrets"),
    NamespaceSpec(
        "monitoring",
        "Prometheus, Alertmanager, Grafana, kube-state-metrics, node exporter, blackbox exporter",
        pod_security=PRIVILEGED,
        exception=(
            "prometheus-node-exporter reads the host's /proc and /sys through hostPath mounts "
            "with hostNetwork and hostPID, which baseline and restricted forbid"
        ),
    ),
)


def pod_security_labels(level: str, kubernetes_version: str) -> dict[str, str]:
    """Enforce, audit and warn at one level, pinned to the cluster's minor version.

    Pinning the version keeps an upgrade of the control plane from tightening the rules
    under running workloads; it moves with ``kubernetesVersion``.
    """
    labels = {}
    for mode in ("enforce", "audit", "warn"):
        labels[f"pod-security.kubernetes.io/{mode}"] = level
        labels[f"pod-security.kubernetes.io/{mode}-version"] = f"v{kubernetes_version}"
    return labels


class Namespaces(pulumi.ComponentResource):
    """Creates PLATFORM_NAMESPACES; ``namespace(name)`` gives one to depend on."""

    def __init__(
        self,
        name: str,
        kubernetes_version: str,
        provider: k8s.Provider,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("tractusx:platform:Namespaces", name, None, opts)
        self._created: dict[str, k8s.core.v1.Namespace] = {}
        for spec in PLATFORM_NAMESPACES:
            self._created[spec.name] = k8s.core.v1.Namespace(
                f"{name}-{spec.name}",
                metadata=k8s.meta.v1.ObjectMetaArgs(
                    name=spec.name,
                    labels={
                        "app.kubernetes.io/part-of": "tractusx-platform",
                        **pod_security_labels(spec.pod_security, kubernetes_version),
                    },
                    annotations={"tractusx-platform/purpose": spec.purpose}
                    | ({"tractusx-platform/pod-security-exception": spec.exception} if spec.exception else {}),
                ),
                opts=pulumi.ResourceOptions(parent=self, provider=provider),
            )
        self.register_outputs({"names": list(self._created)})

    @property
    def all(self) -> Mapping[str, k8s.core.v1.Namespace]:
        return dict(self._created)

    def namespace(self, name: str) -> k8s.core.v1.Namespace:
        if name not in self._created:
            raise KeyError(f"namespace {name!r} is not a platform namespace; add it to PLATFORM_NAMESPACES")
        return self._created[name]
