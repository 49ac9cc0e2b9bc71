"""Access control in the cluster: RBAC and NetworkPolicies.

Playbook "Access Control" and "Compliance and Auditing". The namespaces and their Pod
Security levels come from ``components.namespaces``; this component adds who may do what
(roles bound to the groups the cluster's access entries map IAM principals to) and which
traffic may flow (``components.network_policies``). The playbook's EDC security and audit
ConfigMaps are gone: the connector of this generation takes its identity settings from its
chart's values and its credentials from Vault (components/edc.py; the property mapping is
components/edc_properties.py).

Playbook "Access Logging" gives a Kubernetes audit policy. EKS runs the API server with
its own audit policy, which cannot be replaced; the cluster sends that audit log to
CloudWatch (``components/cluster.py``, log type ``audit``). The playbook's policy would
also have logged Secrets at RequestResponse level, writing every credential's value into
the audit log.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

import pulumi
import pulumi_kubernetes as k8s

from components.namespaces import Namespaces
from components.network_policies import ClusterNetwork, Policy, network_policies
from components.settings import ACCESS_LEVEL_GROUPS
from components.traffic import Need

DEVELOPER_NAMESPACE = "tractus-x"

READ = ["get", "list"]
WRITE = ["get", "list", "create", "update", "patch"]

# Playbook "Kubernetes RBAC" grants readonly every core resource, which includes Secrets:
# anyone with read-only access could read every credential in the cluster. The read-only
# role lists the core resources instead, Secrets left out. The "extensions" API group the
# playbook names no longer serves any resource; its kinds live in apps and networking.k8s.io.
READONLY_CORE_RESOURCES = [
    "configmaps",
    "endpoints",
    "events",
    "limitranges",
    "namespaces",
    "nodes",
    "persistentvolumeclaims",
    "persistentvolumes",
    "pods",
    "pods/log",
    "replicationcontrollers",
    "resourcequotas",
    "serviceaccounts",
    "services",
]


@dataclass(frozen=True)
class RoleSpec:
    name: str
    level: str  # access level of ACCESS_LEVEL_GROUPS the role is bound to
    rules: Sequence[dict[str, Any]]
    namespace: str | None = None  # None: a ClusterRole bound cluster-wide


RBAC_ROLES: tuple[RoleSpec, ...] = (
    RoleSpec("platform-admin", "admin", [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}]),
    RoleSpec(
        "developer",
        "developer",
        [
            {"apiGroups": [""], "resources": ["pods", "services", "configmaps"], "verbs": WRITE},
            {"apiGroups": ["apps"], "resources": ["deployments", "replicasets"], "verbs": WRITE},
        ],
        namespace=DEVELOPER_NAMESPACE,
    ),
    RoleSpec(
        "readonly",
        "readonly",
        [
            {"apiGroups": [""], "resources": READONLY_CORE_RESOURCES, "verbs": READ},
            {"apiGroups": ["apps"], "resources": ["*"], "verbs": READ},
        ],
    ),
)


@dataclass(frozen=True)
class SecurityArgs:
    namespaces: Namespaces
    provider: k8s.Provider
    network: ClusterNetwork
    # What the components' workloads need (components/traffic.py): the policies allow exactly that.
    flows: Sequence[Need]


class Security(pulumi.ComponentResource):
    def __init__(self, name: str, args: SecurityArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("tractusx:security:Security", name, None, opts)
        self._name = name
        self._args = args
        for spec in RBAC_ROLES:
            self._role(spec)
        self.network_policies = [self._network_policy(policy) for policy in self._policies()]
        self.register_outputs({"network_policies": len(self.network_policies)})

    def _opts(self, namespace: str | None = None) -> pulumi.ResourceOptions:
        # kube-system is EKS's: the policies of the platform's workloads there wait for no namespace.
        created = self._args.namespaces.all
        depends_on = [created[namespace]] if namespace is not None and namespace in created else []
        return pulumi.ResourceOptions(parent=self, provider=self._args.provider, depends_on=depends_on)

    def _role(self, spec: RoleSpec) -> None:
        """The role, and its binding to the group of its access level (the binding reads
        the role's name, so it waits for the role)."""
        role_type: Any = k8s.rbac.v1.ClusterRole if spec.namespace is None else k8s.rbac.v1.Role
        binding_type: Any = k8s.rbac.v1.ClusterRoleBinding if spec.namespace is None else k8s.rbac.v1.RoleBinding
        role = role_type(
            f"{self._name}-{spec.name}",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=spec.name, namespace=spec.namespace),
            rules=[k8s.rbac.v1.PolicyRuleArgs(**_snake(rule)) for rule in spec.rules],
            opts=self._opts(spec.namespace),
        )
        binding_type(
            f"{self._name}-{spec.name}-binding",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=spec.name, namespace=spec.namespace),
            role_ref=k8s.rbac.v1.RoleRefArgs(
                api_group="rbac.authorization.k8s.io",
                kind="ClusterRole" if spec.namespace is None else "Role",
                name=role.metadata.name,
            ),
            subjects=[
                k8s.rbac.v1.SubjectArgs(
                    kind="Group", name=ACCESS_LEVEL_GROUPS[spec.level], api_group="rbac.authorization.k8s.io"
                )
            ],
            opts=self._opts(spec.namespace),
        )

    def _policies(self) -> list[Policy]:
        return network_policies(list(self._args.namespaces.all), self._args.network, self._args.flows)

    def _network_policy(self, policy: Policy) -> k8s.networking.v1.NetworkPolicy:
        return k8s.networking.v1.NetworkPolicy(
            f"{self._name}-{policy.namespace}-{policy.name}",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=policy.name,
                namespace=policy.namespace,
                annotations={"tractusx-platform/purpose": policy.purpose},
            ),
            spec=cast("k8s.networking.v1.NetworkPolicySpecArgsDict", policy.spec()),
            opts=self._opts(policy.namespace),
        )


def _snake(rule: dict[str, Any]) -> dict[str, Any]:
    return {"api_groups": rule["apiGroups"], "resources": rule["resources"], "verbs": rule["verbs"]}
