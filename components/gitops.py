"""GitOps: Argo CD (HA), one AppProject per product and the root Application
``tractus-x-umbrella`` that holds every Tractus-X application (playbook "Application
Updates": ``argocd app sync tractus-x-umbrella``).

Argo CD is installed by the program from the argo-helm ``argo-cd`` chart. The products
(connector, portal, identity provider) are Argo CD Applications: the root Application
renders them with the argo-helm ``argocd-apps`` chart from its ``helm.valuesObject``, so
every child's full spec (chart, exact version, values, sync policy) is part of the
program and reviewable in the offline plan (``build/plan/<stack>/applications/``).

No Ingress exposes the UI or API. Operators use the CLI in core mode (``argocd --core``),
which talks to the Kubernetes API with their kubeconfig (EKS access entries) and needs no
Argo CD account: the local ``admin`` account is therefore disabled, and with no SSO
configured the in-cluster API server accepts no login at all (README "Applications
(Argo CD)").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components import charts
from components.applications import ChildApplication
from components.chart_mirror import ChartMirror, argo_repository
from components.cluster import Cluster
from components.helm import chart_release
from components.namespaces import Namespaces
from components.registry import ImageRegistry
from components.traffic import INTERNET, Need, Pods, ServiceRef, api_client, scraped

NAMESPACE = "argocd"
# The argo-cd chart (components/charts.py) ships Argo CD v3.4.4 with the redis-ha
# subchart.
RELEASE = "argocd"
# argocd-apps 2.x takes ``applications`` as a map keyed by Application name (1.x took a
# list of objects with a ``name``).
APPS_CHART = charts.ARGOCD_APPS

ROOT_APPLICATION = "tractus-x-umbrella"
ROOT_PROJECT = "tractus-x-umbrella"
IN_CLUSTER = "https://kubernetes.default.svc"
SYNC_WAVE_ANNOTATION = "argocd.argoproj.io/sync-wave"
# Deleting an Application deletes what it deployed (Argo CD "App Deletion").
RESOURCES_FINALIZER = "resources-finalizer.argocd.argoproj.io"
ROOT_LABEL = "tractusx-platform/root-application"

# The connector crash-loops until its database and Vault answer: a failed sync is retried
# 30s, 1m, 2m, 4m, 8m, then every 10m, ten times in all (about an hour) before Argo CD
# stops and the Application shows SyncFailed.
SYNC_RETRY: Mapping[str, Any] = {
    "limit": 10,
    "backoff": {"duration": "30s", "factor": 2, "maxDuration": "10m"},
}
# ServerSideApply: large CRDs and field ownership shared with KEDA; PruneLast: removed
# objects go after the rest is healthy; RespectIgnoreDifferences: a sync leaves the
# replicas KEDA set alone too (not only the diff). No CreateNamespace: namespaces and
# their Pod Security levels are the program's (components/namespaces.py).
SERVER_SIDE_APPLY = "ServerSideApply=true"
SYNC_OPTIONS = (SERVER_SIDE_APPLY, "PruneLast=true", "RespectIgnoreDifferences=true")

# Argo CD 1.8 removed the health of Application objects; without it the root
# Application's sync waves would not wait for a child to become Healthy (Argo CD
# operator manual, "Health Checks" > "Argo CD App"). This is the documented check.
APPLICATION_HEALTH_LUA = """hs = {}
hs.status = "Progressing"
hs.message = ""
if obj.status ~= nil then
  if obj.status.health ~= nil then
    hs.status = obj.status.health.status
    if obj.status.health.message ~= nil then
      hs.message = obj.status.health.message
    end
  end
end
return hs
"""

# Chart README "High Availability" (without autoscaling): redis-ha, one application
# controller (it shards by cluster, and this installation manages one), two of each
# stateless component. Fixed replicas, so the chart's HPAs stay off.
CONTROLLER_REPLICAS = 1
SERVER_REPLICAS = 2
REPO_SERVER_REPLICAS = 2
APPLICATION_SET_REPLICAS = 2
REDIS_HA_REPLICAS = 3  # redis-ha's hard anti-affinity needs three nodes; the cluster has 3+

RESOURCES: Mapping[str, Mapping[str, Mapping[str, str]]] = {
    "controller": {"requests": {"cpu": "500m", "memory": "1Gi"}, "limits": {"cpu": "2", "memory": "2Gi"}},
    "server": {"requests": {"cpu": "100m", "memory": "256Mi"}, "limits": {"cpu": "500m", "memory": "512Mi"}},
    "repoServer": {"requests": {"cpu": "250m", "memory": "512Mi"}, "limits": {"cpu": "1", "memory": "1Gi"}},
    "applicationSet": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"cpu": "500m", "memory": "256Mi"}},
    "redis": {"requests": {"cpu": "100m", "memory": "256Mi"}, "limits": {"cpu": "500m", "memory": "512Mi"}},
    "sentinel": {"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"cpu": "200m", "memory": "128Mi"}},
    "haproxy": {"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"cpu": "250m", "memory": "256Mi"}},
    "small": {"requests": {"cpu": "10m", "memory": "32Mi"}, "limits": {"cpu": "100m", "memory": "64Mi"}},
}

# Pod labels the chart sets (app.kubernetes.io/name is "<release>-<component>").
REPO_SERVER_LABELS = {"app.kubernetes.io/name": f"{RELEASE}-repo-server"}
# The Argo CD CLI in core mode finds Redis by this label (the chart's redis-ha.haproxy.labels).
HAPROXY_LABELS = {"app.kubernetes.io/name": f"{RELEASE}-redis-ha-haproxy"}
# The redis-ha chart's server pods (its templates/_helpers.tpl labels).
REDIS_HA_LABELS = {"app": "redis-ha", "release": RELEASE}
REDIS_PORT = 6379
SENTINEL_PORT = 26379

_CONTAINER_SECURITY = {
    "runAsNonRoot": True,
    "readOnlyRootFilesystem": True,
    "allowPrivilegeEscalation": False,
    "seccompProfile": {"type": "RuntimeDefault"},
    "capabilities": {"drop": ["ALL"]},
}


@dataclass(frozen=True)
class GitOpsArgs:
    cluster: Cluster
    namespaces: Namespaces
    applications: Sequence[ChildApplication]
    # Node groups and the monitoring stack (ServiceMonitor CRDs) before Argo CD; the
    # secrets component (Vault, its bootstrap, External Secrets) before the root Application.
    release_depends_on: Sequence[pulumi.Resource]
    images: ImageRegistry
    depends_on: Sequence[pulumi.Resource] = ()
    # The stack's copy of the charts the Applications read; None: the charts' own repositories.
    chart_mirror: ChartMirror | None = None


def _metrics() -> dict[str, Any]:
    return {"enabled": True, "serviceMonitor": {"enabled": True}}


def _stateless(component: str, replicas: int) -> dict[str, Any]:
    """A Deployment of the chart at fixed replicas, with a PDB keeping one pod up."""
    return {
        "replicas": replicas,
        "pdb": {"enabled": True, "minAvailable": 1},
        "resources": dict(RESOURCES[component]),
        "metrics": _metrics(),
        "containerSecurityContext": dict(_CONTAINER_SECURITY),
    }


def chart_values(images: ImageRegistry) -> dict[str, Any]:
    """The argo-cd chart's values: HA, metrics, no UI exposure, no local accounts."""
    return {
        # The platform keeps the namespace's NetworkPolicies (components/network_policies.py),
        # default deny included; the chart's own (on by default since 10.0.0) let every
        # client reach the API server. Every Argo CD component runs global.image.
        "global": {
            "networkPolicy": {"create": False},
            "image": {"repository": images.image("quay.io/argoproj/argocd")},
        },
        "crds": {"install": True, "keep": True},
        "configs": {
            "cm": {
                "admin.enabled": False,
                "exec.enabled": False,
                "resource.customizations.health.argoproj.io_Application": APPLICATION_HEALTH_LUA,
            },
        },
        # No SSO provider is configured and notifications have no channel: off rather than idle.
        "dex": {"enabled": False},
        "notifications": {"enabled": False},
        "controller": {
            "replicas": CONTROLLER_REPLICAS,
            # One replica: a PDB could only block every node drain (minAvailable 1) or
            # allow it anyway; the StatefulSet's pod restarts on another node in a minute.
            "pdb": {"enabled": False},
            "resources": dict(RESOURCES["controller"]),
            "metrics": _metrics(),
            "containerSecurityContext": dict(_CONTAINER_SECURITY),
        },
        "server": {
            **_stateless("server", SERVER_REPLICAS),
            "autoscaling": {"enabled": False},
            "ingress": {"enabled": False},
        },
        "repoServer": {**_stateless("repoServer", REPO_SERVER_REPLICAS), "autoscaling": {"enabled": False}},
        "applicationSet": _stateless("applicationSet", APPLICATION_SET_REPLICAS),
        "redis": {"enabled": False},
        "redisSecretInit": {"resources": dict(RESOURCES["small"])},
        "redis-ha": {
            "enabled": True,
            "image": {"repository": images.image("ecr-public.aws.com/docker/library/redis")},
            "replicas": REDIS_HA_REPLICAS,
            "hardAntiAffinity": True,
            # Argo CD's Redis is a cache it rebuilds from the cluster and the charts.
            "persistentVolume": {"enabled": False},
            "containerSecurityContext": dict(_CONTAINER_SECURITY),
            "podDisruptionBudget": {"maxUnavailable": 1},
            "redis": {"resources": dict(RESOURCES["redis"])},
            "sentinel": {"resources": dict(RESOURCES["sentinel"])},
            "init": {"resources": dict(RESOURCES["small"])},
            "splitBrainDetection": {"resources": dict(RESOURCES["small"])},
            "haproxy": {
                "enabled": True,
                "image": {"repository": images.image("ecr-public.aws.com/docker/library/haproxy")},
                "labels": dict(HAPROXY_LABELS),
                "containerSecurityContext": dict(_CONTAINER_SECURITY),
                "podDisruptionBudget": {"maxUnavailable": 1},
                "resources": dict(RESOURCES["haproxy"]),
                "init": {"resources": dict(RESOURCES["small"])},
                "metrics": {"enabled": True, "serviceMonitor": {"enabled": True}},
            },
        },
    }


def projects(applications: Sequence[ChildApplication], mirror: ChartMirror | None = None) -> dict[str, dict[str, Any]]:
    """One AppProject spec per product: its applications' chart repositories and
    namespaces exactly, nothing cluster-scoped (Namespaces included)."""
    by_project: dict[str, list[ChildApplication]] = {}
    for app in applications:
        by_project.setdefault(app.project, []).append(app)
    if ROOT_PROJECT in by_project:
        raise ValueError(f"project {ROOT_PROJECT!r} is the root Application's; choose another project name")
    return {
        name: _project(
            f"Tractus-X {name}: {', '.join(sorted(a.name for a in apps))}",
            sorted({argo_repository(a.chart, mirror) for a in apps}),
            sorted({a.namespace for a in apps}),
        )
        for name, apps in sorted(by_project.items())
    }


def root_project(mirror: ChartMirror | None = None) -> dict[str, Any]:
    """The root Application's project: Applications in argocd from the argocd-apps chart, nothing else."""
    spec = _project(f"the root Application {ROOT_APPLICATION}", [argo_repository(APPS_CHART, mirror)], [NAMESPACE])
    spec["namespaceResourceWhitelist"] = [{"group": "argoproj.io", "kind": "Application"}]
    return spec


def _project(description: str, repositories: Sequence[str], namespaces: Sequence[str]) -> dict[str, Any]:
    return {
        "description": description,
        "sourceRepos": list(repositories),
        "destinations": [{"server": IN_CLUSTER, "namespace": namespace} for namespace in namespaces],
        # An empty whitelist allows no cluster-scoped kind; the blacklist says so for
        # every kind (Namespaces, ClusterRoles, CRDs, webhooks) in case one is added.
        "clusterResourceWhitelist": [],
        "clusterResourceBlacklist": [{"group": "*", "kind": "*"}],
    }


def sync_policy(server_side_apply: bool = True) -> dict[str, Any]:
    """Automated sync with retries. Without server-side apply, Argo CD applies as
    ``kubectl apply`` does (client-side, with the last-applied annotation); the other
    options work the same either way (Argo CD user guide, "Sync Options")."""
    options = [o for o in SYNC_OPTIONS if server_side_apply or o != SERVER_SIDE_APPLY]
    return {
        "automated": {"prune": True, "selfHeal": True},
        "retry": {"limit": SYNC_RETRY["limit"], "backoff": dict(SYNC_RETRY["backoff"])},
        "syncOptions": options,
    }


def child_application(app: ChildApplication, mirror: ChartMirror | None = None) -> dict[str, Any]:
    """One entry of argocd-apps' ``applications`` map (rendered as an Application in argocd)."""
    entry: dict[str, Any] = {
        "namespace": NAMESPACE,
        "additionalLabels": {**app.labels, ROOT_LABEL: ROOT_APPLICATION},
        # argocd-apps quotes annotation values; the wave is a string in the Application.
        "additionalAnnotations": {SYNC_WAVE_ANNOTATION: str(app.sync_wave)},
        "finalizers": [RESOURCES_FINALIZER],
        "project": app.project,
        "source": {
            "repoURL": argo_repository(app.chart, mirror),
            "chart": app.chart.name,
            "targetRevision": app.chart.version,
            "helm": {"releaseName": app.release, "valuesObject": app.values},
        },
        "destination": {"server": IN_CLUSTER, "namespace": app.namespace},
        "syncPolicy": sync_policy(app.server_side_apply),
    }
    ignored = [
        {
            "group": "apps",
            "kind": "Deployment",
            "name": deployment,
            "namespace": app.namespace,
            "jsonPointers": ["/spec/replicas"],
        }
        for deployment in app.scaled_deployments
    ]
    # Secrets the chart renders with random values and External Secrets fills from Vault
    # (SyncedSecret.chart_renders): their data is External Secrets'. With the sync option
    # RespectIgnoreDifferences, a sync keeps the live data instead of the chart's. The
    # charts render those values as stringData, which the API server writes over data:
    # a sync must leave out both, or each one would overwrite the Vault values.
    ignored += [
        {
            "group": "",
            "kind": "Secret",
            "name": secret,
            "namespace": app.namespace,
            "jsonPointers": ["/data", "/stringData"],
        }
        for secret in app.chart_rendered_secrets
    ]
    if ignored:
        entry["ignoreDifferences"] = ignored
    return entry


def root_values(applications: Sequence[ChildApplication], mirror: ChartMirror | None = None) -> dict[str, Any]:
    """The argocd-apps values of the root Application: every child by name."""
    names = [app.name for app in applications]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ValueError(f"Application names must be unique: {duplicates}")
    if ROOT_APPLICATION in names:
        raise ValueError(f"{ROOT_APPLICATION!r} is the root Application; a child cannot have its name")
    return {"applications": {app.name: child_application(app, mirror) for app in applications}}


class GitOps(pulumi.ComponentResource):
    """Argo CD, the products' AppProjects and the root Application."""

    def __init__(self, name: str, args: GitOpsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("tractusx:gitops:GitOps", name, None, opts)
        provider = args.cluster.k8s_provider
        namespace = args.namespaces.namespace(NAMESPACE)
        self.release = chart_release(
            f"{name}-argocd",
            release=RELEASE,
            chart=charts.ARGO_CD,
            namespace=NAMESPACE,
            values=chart_values(args.images),
            parent=self,
            provider=provider,
            depends_on=[namespace, *args.release_depends_on],
        )
        # The Application and AppProject CRDs come with the release.
        after_release = pulumi.ResourceOptions(parent=self, provider=provider, depends_on=[self.release])
        self.projects = [
            self._project(name, project, spec, after_release)
            for project, spec in {
                **projects(args.applications, args.chart_mirror),
                ROOT_PROJECT: root_project(args.chart_mirror),
            }.items()
        ]
        self.root = k8s.apiextensions.CustomResource(
            f"{name}-root",
            api_version="argoproj.io/v1alpha1",
            kind="Application",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=ROOT_APPLICATION,
                namespace=NAMESPACE,
                # Deleting the root (pulumi destroy) deletes the children, whose own
                # finalizers delete what they deployed.
                finalizers=[RESOURCES_FINALIZER],
                labels={"app.kubernetes.io/part-of": "tractusx-platform"},
            ),
            spec={
                "project": ROOT_PROJECT,
                "source": {
                    "repoURL": argo_repository(APPS_CHART, args.chart_mirror),
                    "chart": APPS_CHART.name,
                    "targetRevision": APPS_CHART.version,
                    "helm": {
                        "releaseName": ROOT_APPLICATION,
                        "valuesObject": root_values(args.applications, args.chart_mirror),
                    },
                },
                "destination": {"server": IN_CLUSTER, "namespace": NAMESPACE},
                "syncPolicy": sync_policy(),
            },
            opts=pulumi.ResourceOptions(
                parent=self,
                provider=provider,
                depends_on=[self.release, *self.projects, *args.depends_on],
            ),
        )
        self.namespace = NAMESPACE
        self.register_outputs({"namespace": NAMESPACE, "rootApplication": ROOT_APPLICATION})

    def _project(
        self, name: str, project: str, spec: Mapping[str, Any], opts: pulumi.ResourceOptions
    ) -> k8s.apiextensions.CustomResource:
        return k8s.apiextensions.CustomResource(
            f"{name}-project-{project}",
            api_version="argoproj.io/v1alpha1",
            kind="AppProject",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=project, namespace=NAMESPACE, labels={"app.kubernetes.io/part-of": "tractusx-platform"}
            ),
            spec=dict(spec),
            opts=opts,
        )


def flows() -> tuple[Need, ...]:
    """Argo CD: the controller and API server render through the repo server and cache in
    Redis through HAProxy; HAProxy finds the master through the Sentinels, the Redis servers
    replicate and the Sentinels talk to each other, all at the per-replica "announce"
    Services (the redis-ha chart's haproxy.cfg and sentinel configuration); the repo server
    fetches the pinned charts from the internet."""

    def component(name: str) -> Pods:
        return Pods(NAMESPACE, {"app.kubernetes.io/name": f"{RELEASE}-{name}"})

    controller, server, repo = component("application-controller"), component("server"), component("repo-server")
    applicationset, secret_init = component("applicationset-controller"), component("redis-secret-init")
    haproxy = Pods(NAMESPACE, HAPROXY_LABELS)
    redis_servers = Pods(NAMESPACE, REDIS_HA_LABELS)
    repo_service = ServiceRef(NAMESPACE, f"{RELEASE}-repo-server", REPO_SERVER_LABELS)
    # A Service is admitted by naming its selector's labels (EKS matches Services by them).
    redis = ServiceRef(NAMESPACE, f"{RELEASE}-redis-ha-haproxy", {"app": "redis-ha-haproxy", "release": RELEASE})
    announce = [
        ServiceRef(NAMESPACE, f"{RELEASE}-redis-ha-announce-{index}", REDIS_HA_LABELS)
        for index in range(REDIS_HA_REPLICAS)
    ]
    return (
        Need(repo, INTERNET, 443, "the repo server fetches the pinned charts"),
        Need(controller, repo_service, 8081, "the application controller renders manifests"),
        Need(server, repo_service, 8081, "the API server renders manifests"),
        Need(controller, redis, REDIS_PORT, "the application controller caches in Redis"),
        Need(server, redis, REDIS_PORT, "the API server caches in Redis"),
        Need(repo, redis, REDIS_PORT, "the repo server caches rendered manifests in Redis"),
        *(
            Need(source, service, port, why)
            for service in announce
            for source, port, why in (
                (haproxy, SENTINEL_PORT, "HAProxy asks the Sentinels for the master"),
                (haproxy, REDIS_PORT, "HAProxy forwards to the Redis master"),
                (redis_servers, REDIS_PORT, "the Redis replicas replicate from the master"),
                (redis_servers, SENTINEL_PORT, "the Sentinels talk to each other"),
            )
        ),
        *(api_client(pods, "Argo CD") for pods in (controller, server, repo, applicationset, secret_init)),
        api_client(haproxy, "Redis's HAProxy (its service account is bound to a role by the redis-ha chart)"),
        scraped(controller, 8082, "Argo CD's application controller"),
        scraped(applicationset, 8080, "Argo CD's ApplicationSet controller"),
        scraped(repo, 8084, "Argo CD's repo server"),
        scraped(server, 8083, "Argo CD's API server"),
        scraped(haproxy, 9101, "Redis's HAProxy"),
    )
