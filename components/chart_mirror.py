"""The stack's own copy of every pinned chart: OCI artifacts in the stack's private ECR.

Why: a dr stack is activated while prod's region is lost, and at that moment neither
``pulumi up -s dr`` (Helm releases fetch their chart on every preview and update) nor
Argo CD's sync (it renders each Application from its chart repository) should depend on a
public chart repository. So every chart of ``components/charts.PINNED`` is copied once,
before the stack deploys from it, into one ECR repository per chart in the stack's own
region, ``<account>.dkr.ecr.<region>.amazonaws.com/<prefix>/charts/<name>:<version>``
(``helm push`` names the repository after the chart and tags it with the chart version:
Helm docs, "Use OCI-based registries"; AWS ECR User Guide, "Pushing a Helm chart to an
Amazon ECR private repository"). Tags are immutable, so a version once copied can never
be replaced, and the repositories are encrypted with a customer key of the stack.

Who does what:
- this component creates the repositories and their key, and gives Argo CD a repository
  credential (an ECR token, valid 12 hours, refreshed by External Secrets' ECR generator
  under an IRSA role that may only get the token and pull from these repositories);
- ``python -m chartmirror`` (``make mirror-charts``) fills the repositories from the
  pinned charts and logs helm in to the registry for ``pulumi up`` (README "Charts");
- ``ChartMirror.release_transformation`` points every Helm release of the stack at the
  copy, and components/gitops.py points the Argo CD Applications and projects at it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from components import charts
from components.aws_context import AwsContext
from components.charts import Chart
from components.cluster import Cluster
from components.iam import policy_document
from components.keys import customer_key
from components.namespaces import Namespaces
from components.traffic import INTERNET, Need, Pods

HELM_RELEASE = "kubernetes:helm.sh/v3:Release"
ARGOCD_NAMESPACE = "argocd"
# The service account whose IRSA role External Secrets' ECR generator assumes
# (ECRAuthorizationToken spec.auth.jwt.serviceAccountRef: External Secrets requests a
# token for it and calls sts:AssumeRoleWithWebIdentity with the role of its annotation).
READER_SERVICE_ACCOUNT = "chart-mirror-reader"
GENERATOR = "chart-mirror"
# The Argo CD repository Secret External Secrets writes (Argo CD operator manual,
# "Declarative Setup" > "Repositories": a Secret labelled secret-type repository; Helm
# OCI repositories have type helm, enableOCI "true" and the url without oci://).
REPOSITORY_SECRET = "chart-mirror-repository"
ARGOCD_SECRET_TYPE = {"argocd.argoproj.io/secret-type": "repository"}
# An ECR authorization token is valid for 12 hours (ECR API reference,
# GetAuthorizationToken); a new one every hour leaves 11 hours for a failed refresh.
TOKEN_REFRESH = "1h"
ESO_API_VERSION = "external-secrets.io/v1"
GENERATOR_API_VERSION = "generators.external-secrets.io/v1alpha1"
# External Secrets' controller, which runs the generator (the external-secrets chart's
# pod labels, components/secrets.py).
ESO_CONTROLLER = Pods("external-secrets", {"app.kubernetes.io/name": "external-secrets"})
# Pull, and nothing else: the token plus reading manifests and layers (AWS ECR User Guide,
# "Private repository policy examples": pulling needs ecr:BatchGetImage and
# ecr:GetDownloadUrlForLayer; ecr:GetAuthorizationToken has no resource-level scope).
PULL_ACTIONS = ("ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer")


@dataclass(frozen=True)
class ChartMirror:
    """Where a stack's copy of the pinned charts is: its ECR registry and the prefix of
    the stack's repositories in it."""

    registry: str  # <account>.dkr.ecr.<region>.amazonaws.com
    prefix: str

    @staticmethod
    def of_stack(ctx: AwsContext, name_prefix: str) -> ChartMirror:
        # ECR's registry host in the aws partition; aws-cn's ends in amazonaws.com.cn
        # (AWS ECR User Guide, "Amazon ECR private registry").
        suffix = "amazonaws.com.cn" if ctx.partition == "aws-cn" else "amazonaws.com"
        return ChartMirror(f"{ctx.account_id}.dkr.ecr.{ctx.region}.{suffix}", name_prefix)

    @property
    def path(self) -> str:
        """The registry path the charts are pushed under and Argo CD reads them from."""
        return f"{self.registry}/{self.prefix}/charts"

    def repository_name(self, chart: Chart) -> str:
        return f"{self.prefix}/charts/{chart.name}"

    def oci_chart(self, chart: Chart) -> str:
        """The chart as Helm names an OCI chart: ``oci://<registry>/<repository>``."""
        return f"oci://{self.path}/{chart.name}"

    def release_transformation(
        self, args: pulumi.ResourceTransformationArgs
    ) -> pulumi.ResourceTransformationResult | None:
        """Every Helm release of the stack reads its chart from the copy: the chart as an
        OCI reference, at the same pinned version, without a chart repository.

        The pulumi-kubernetes Release takes an ``oci://`` chart with no repository
        (provider/pkg/provider/helm_release.go, resolveChartName) and pulls it with a
        registry client whose credentials come from helm's registry config
        (getActionConfig: registry.ClientOptCredentialsFile), not from repositoryOpts'
        username and password (pulumi/pulumi-kubernetes#1914), so ``python -m chartmirror
        login`` writes a fresh ECR token there before ``pulumi up``.
        """
        if args.type_ != HELM_RELEASE:
            return None
        chart = pinned(str(args.props["chart"]), str(args.props["version"]))
        props = {**args.props, "chart": self.oci_chart(chart), "repository_opts": None}
        return pulumi.ResourceTransformationResult(props, args.opts)


def pinned(name: str, version: str) -> Chart:
    """The pinned chart of that name and version; any other chart is refused."""
    for chart in charts.PINNED:
        if (chart.name, chart.version) == (name, version):
            return chart
    raise ValueError(f"chart {name} {version} is not pinned in components/charts.py, so it has no copy")


def argo_repository(chart: Chart, mirror: ChartMirror | None) -> str:
    """The repoURL an Argo CD Application reads ``chart`` from: the stack's copy, or
    (``chartSource: upstream``) the chart's own repository."""
    return mirror.path if mirror is not None else chart.repository


def reader_policy(repository_arns: Sequence[str]) -> str:
    """The ECR generator's role: a token, and pulling from the chart repositories only."""
    return policy_document(
        [
            {"Sid": "AuthorizationToken", "Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"},
            {"Sid": "PullCharts", "Effect": "Allow", "Action": list(PULL_ACTIONS), "Resource": list(repository_arns)},
        ]
    )


def repository_secret_template(mirror: ChartMirror) -> dict[str, Any]:
    """The Argo CD repository Secret, filled from the generator's ``username`` and
    ``password`` (External Secrets docs, generator "AWS Elastic Container Registry")."""
    return {
        "type": "Opaque",
        "metadata": {"labels": dict(ARGOCD_SECRET_TYPE)},
        "data": {
            "name": "chart-mirror",
            "type": "helm",
            "enableOCI": "true",
            "url": mirror.path,
            "username": "{{ .username }}",
            "password": "{{ .password }}",
        },
    }


def generator_spec(region: str) -> dict[str, Any]:
    return {"region": region, "auth": {"jwt": {"serviceAccountRef": {"name": READER_SERVICE_ACCOUNT}}}}


def external_secret_spec(mirror: ChartMirror) -> dict[str, Any]:
    return {
        "refreshInterval": TOKEN_REFRESH,
        "target": {
            "name": REPOSITORY_SECRET,
            "creationPolicy": "Owner",
            "template": repository_secret_template(mirror),
        },
        "dataFrom": [
            {
                "sourceRef": {
                    "generatorRef": {
                        "apiVersion": GENERATOR_API_VERSION,
                        "kind": "ECRAuthorizationToken",
                        "name": GENERATOR,
                    }
                }
            }
        ],
    }


@dataclass(frozen=True)
class ChartRepositoriesArgs:
    mirror: ChartMirror
    ctx: AwsContext
    tags: Mapping[str, str]


class ChartRepositories(pulumi.ComponentResource):
    """One KMS-encrypted ECR repository with immutable tags per pinned chart."""

    key: aws.kms.Key
    repositories: dict[str, aws.ecr.Repository]

    def __init__(self, name: str, args: ChartRepositoriesArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("tractusx:charts:ChartRepositories", name, None, opts)
        self.key = customer_key(
            f"{name}-key",
            alias=f"{args.mirror.prefix}-charts",
            description=f"ECR repositories of {args.mirror.prefix}'s copy of the pinned Helm charts",
            ctx=args.ctx,
            parent=self,
            tags=args.tags,
        )
        self.repositories = {
            chart.name: aws.ecr.Repository(
                f"{name}-{chart.name}",
                name=args.mirror.repository_name(chart),
                image_tag_mutability="IMMUTABLE",
                encryption_configurations=[
                    aws.ecr.RepositoryEncryptionConfigurationArgs(encryption_type="KMS", kms_key=self.key.arn)
                ],
                tags=dict(args.tags),
                opts=pulumi.ResourceOptions(parent=self),
            )
            for chart in charts.PINNED
        }
        self.register_outputs({"repositories": {n: r.repository_url for n, r in self.repositories.items()}})

    @property
    def arns(self) -> list[pulumi.Output[str]]:
        return [repository.arn for repository in self.repositories.values()]


@dataclass(frozen=True)
class ArgoCdChartAccessArgs:
    mirror: ChartMirror
    repositories: ChartRepositories
    cluster: Cluster
    namespaces: Namespaces
    region: str
    # External Secrets (its CRDs, generators included) before the generator.
    depends_on: Sequence[pulumi.Resource] = ()


class ArgoCdChartAccess(pulumi.ComponentResource):
    """Argo CD's credential for the copy: a repository Secret that External Secrets keeps
    filled with a fresh ECR token."""

    secret: k8s.apiextensions.CustomResource

    def __init__(self, name: str, args: ArgoCdChartAccessArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("tractusx:charts:ArgoCdChartAccess", name, None, opts)
        provider = args.cluster.k8s_provider
        role = args.cluster.irsa_role(
            f"{name}-reader",
            namespace=ARGOCD_NAMESPACE,
            service_account=READER_SERVICE_ACCOUNT,
            description="External Secrets' ECR generator: pulls the stack's copy of the pinned charts for Argo CD",
            inline_policy=pulumi.Output.all(*args.repositories.arns).apply(reader_policy),
            parent=self,
        )
        namespace = args.namespaces.namespace(ARGOCD_NAMESPACE)
        account = k8s.core.v1.ServiceAccount(
            f"{name}-reader",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=READER_SERVICE_ACCOUNT,
                namespace=ARGOCD_NAMESPACE,
                annotations={"eks.amazonaws.com/role-arn": role.arn},
            ),
            # No pod runs as this account; External Secrets only requests its tokens.
            automount_service_account_token=False,
            opts=pulumi.ResourceOptions(parent=self, provider=provider, depends_on=[namespace]),
        )
        generator = k8s.apiextensions.CustomResource(
            f"{name}-generator",
            api_version=GENERATOR_API_VERSION,
            kind="ECRAuthorizationToken",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=GENERATOR, namespace=ARGOCD_NAMESPACE),
            spec=generator_spec(args.region),
            opts=pulumi.ResourceOptions(parent=self, provider=provider, depends_on=[account, role, *args.depends_on]),
        )
        self.secret = k8s.apiextensions.CustomResource(
            f"{name}-repository",
            api_version=ESO_API_VERSION,
            kind="ExternalSecret",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=REPOSITORY_SECRET,
                namespace=ARGOCD_NAMESPACE,
                # Pulumi waits until the Secret is written (pulumi-kubernetes `pulumi.com/waitFor`).
                annotations={"pulumi.com/waitFor": "condition=Ready"},
                labels={"app.kubernetes.io/part-of": "tractusx-platform"},
            ),
            spec=external_secret_spec(args.mirror),
            opts=pulumi.ResourceOptions(parent=self, provider=provider, depends_on=[generator]),
        )
        self.register_outputs({"repositorySecret": REPOSITORY_SECRET})


def flows() -> tuple[Need, ...]:
    """External Secrets' controller gets the ECR token (ECR's API and STS, for the IRSA
    role) over HTTPS; Argo CD's repo server already reaches the registry (components/gitops.py)."""
    return (Need(ESO_CONTROLLER, INTERNET, 443, "External Secrets gets Argo CD's ECR token (ECR API and STS)"),)
