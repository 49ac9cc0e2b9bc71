"""Node autoscaling with the Kubernetes cluster-autoscaler.

Why cluster-autoscaler and not Karpenter: the platform's capacity is declared as EKS
managed node groups whose min/desired/max are validated against the playbook's
production sizes. cluster-autoscaler scales exactly those groups inside their min and
max, so the validated floor always holds and node upgrades stay EKS rolling updates
(maxUnavailable 25%). Karpenter launches instances outside the node groups, which would
bypass both the validated sizes and the managed update path.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components import charts
from components.aws_context import AwsContext
from components.cluster import Cluster
from components.helm import chart_release
from components.iam import policy_document
from components.registry import ImageRegistry
from components.traffic import INTERNET, Need, Pods, api_client, name_resolution

# Chart 9.59.0 ships cluster-autoscaler 1.35.0; the image tag is set per Kubernetes minor.
IMAGE_REPOSITORY = "registry.k8s.io/autoscaling/cluster-autoscaler"
# The autoscaler's minor version must match the cluster's Kubernetes minor version. Each
# tag is an upstream release (kubernetes/autoscaler cluster-autoscaler-1.34.5, -1.35.2,
# -1.36.1 release notes list these images).
IMAGE_TAGS = {"1.34": "v1.34.5", "1.35": "v1.35.2", "1.36": "v1.36.1"}

NAMESPACE = "kube-system"
RELEASE_NAME = "cluster-autoscaler"
SERVICE_ACCOUNT = "cluster-autoscaler"
REPLICAS = 2


@dataclass(frozen=True)
class NodeAutoscalerArgs:
    cluster: Cluster
    cluster_name: str
    kubernetes_version: str
    ctx: AwsContext
    depends_on: Sequence[pulumi.Resource]
    images: ImageRegistry


def autoscaler_policy(cluster_name: str) -> str:
    """Read anything; resize or terminate only the Auto Scaling groups of this cluster.

    EKS tags the Auto Scaling group of every managed node group with both tags below,
    so the write actions cannot touch another cluster's nodes (EKS Best Practices,
    "Employ least privileged access to the IAM role").
    """
    return policy_document(
        [
            {
                "Sid": "Discover",
                "Effect": "Allow",
                "Action": [
                    "autoscaling:DescribeAutoScalingGroups",
                    "autoscaling:DescribeAutoScalingInstances",
                    "autoscaling:DescribeLaunchConfigurations",
                    "autoscaling:DescribeScalingActivities",
                    "autoscaling:DescribeTags",
                    "ec2:DescribeImages",
                    "ec2:DescribeInstanceTypes",
                    "ec2:DescribeLaunchTemplateVersions",
                    "ec2:GetInstanceTypesFromInstanceRequirements",
                    "eks:DescribeNodegroup",
                ],
                "Resource": "*",
            },
            {
                "Sid": "ScaleOwnNodeGroups",
                "Effect": "Allow",
                "Action": ["autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"],
                "Resource": "*",
                "Condition": {
                    "StringEquals": {
                        "aws:ResourceTag/k8s.io/cluster-autoscaler/enabled": "true",
                        f"aws:ResourceTag/k8s.io/cluster-autoscaler/{cluster_name}": "owned",
                    }
                },
            },
        ]
    )


def chart_values(
    cluster_name: str, region: str, kubernetes_version: str, role_arn: Any, images: ImageRegistry
) -> Mapping[str, Any]:
    return {
        "cloudProvider": "aws",
        "awsRegion": region,
        "autoDiscovery": {"clusterName": cluster_name},
        "image": {"repository": images.image(IMAGE_REPOSITORY), "tag": IMAGE_TAGS[kubernetes_version]},
        # Two replicas with leader election: a node drain never leaves the cluster
        # without an autoscaler.
        "replicaCount": REPLICAS,
        "podDisruptionBudget": {"maxUnavailable": 1},
        "priorityClassName": "system-cluster-critical",
        "rbac": {
            "create": True,
            "serviceAccount": {
                "create": True,
                "name": SERVICE_ACCOUNT,
                "annotations": {"eks.amazonaws.com/role-arn": role_arn},
            },
        },
        "extraArgs": {
            "balance-similar-node-groups": True,
            "skip-nodes-with-system-pods": False,
            "expander": "least-waste",
        },
        "resources": {"requests": {"cpu": "100m", "memory": "300Mi"}, "limits": {"cpu": "500m", "memory": "600Mi"}},
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": 65534,
            "fsGroup": 65534,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "containerSecurityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
        },
        "topologySpreadConstraints": [
            {
                "maxSkew": 1,
                "topologyKey": "topology.kubernetes.io/zone",
                "whenUnsatisfiable": "ScheduleAnyway",
                "labelSelector": {"matchLabels": {"app.kubernetes.io/instance": RELEASE_NAME}},
            }
        ],
    }


class NodeAutoscaler(pulumi.ComponentResource):
    release: k8s.helm.v3.Release

    def __init__(self, name: str, args: NodeAutoscalerArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("tractusx:cluster:NodeAutoscaler", name, None, opts)
        role = args.cluster.irsa_role(
            f"{name}-role",
            namespace=NAMESPACE,
            service_account=SERVICE_ACCOUNT,
            description=f"cluster-autoscaler of {args.cluster_name}: resizes its own node groups",
            inline_policy=autoscaler_policy(args.cluster_name),
            parent=self,
        )
        self.release = chart_release(
            f"{name}-release",
            release=RELEASE_NAME,
            chart=charts.CLUSTER_AUTOSCALER,
            namespace=NAMESPACE,
            values=chart_values(args.cluster_name, args.ctx.region, args.kubernetes_version, role.arn, args.images),
            parent=self,
            provider=args.cluster.k8s_provider,
            depends_on=args.depends_on,
        )
        self.register_outputs({"role_arn": role.arn, "release": self.release.name})


def flows() -> tuple[Need, ...]:
    """cluster-autoscaler (in kube-system, where no namespace-wide default covers it): it
    watches the API and calls the EC2 Auto Scaling and EC2 APIs (and STS for IRSA)."""
    autoscaler = Pods(NAMESPACE, {"app.kubernetes.io/name": "aws-cluster-autoscaler"})
    return (
        api_client(autoscaler, "cluster-autoscaler"),
        Need(autoscaler, INTERNET, 443, "cluster-autoscaler calls the EC2 Auto Scaling, EC2 and STS APIs"),
        *name_resolution(autoscaler, "cluster-autoscaler"),
    )
