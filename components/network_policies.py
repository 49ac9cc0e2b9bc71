"""The NetworkPolicies of every platform namespace, as data.

Playbook "Network Policies": every namespace denies all traffic by default
(``default-deny-all``, ingress and egress) and allows only what its workloads need. A
default-deny on egress also blocks DNS, so every namespace gets ``allow-dns`` to
kube-dns in kube-system: without it no pod resolves a Service name and the namespace is
dead; a default deny without DNS is a bug.

Namespaces are selected by ``kubernetes.io/metadata.name``, the label the API server
sets on every namespace. The playbook selects ``name: ingress-nginx``, a label nothing
sets, so its rule would match no namespace.

On EKS the Kubernetes API (private endpoint) and the nodes (kubelet, node exporter) are
reached at addresses in the VPC, and RDS lives in the VPC: those rules use the VPC CIDR.
The cluster's control plane calls admission webhooks and aggregated APIs from ENIs in the
VPC as well, so their ingress is allowed from the VPC CIDR.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from components import certificates, edc, gitops, ingress, monitoring, portal_values, redis, traffic, vault_spec
from components import connector_values as connector
from components.autoscaling import KEDA_NAMESPACE
from components.schedules import BACKUP_NAMESPACE
from components.traffic import Need

ANYWHERE = "0.0.0.0/0"
# The EC2 instance metadata service (IMDS), reachable from pods unless a policy says no.
METADATA_CIDR = "169.254.169.254/32"
NAMESPACE_LABEL = "kubernetes.io/metadata.name"

# Each namespace as the component that runs workloads there names it.
INGRESS_NAMESPACE = ingress.NAMESPACE
MONITORING_NAMESPACE = monitoring.NAMESPACE
CERT_MANAGER_NAMESPACE = certificates.NAMESPACE
ARGOCD_NAMESPACE = gitops.NAMESPACE

DNS_PORT = 53
KUBERNETES_API_PORT = 443
HTTPS_PORT = 443
HTTP_PORT = 80
POSTGRES_PORT = 5432
REDIS_PORT = redis.PORT
SMTP_SUBMISSION_PORT = 587
KUBELET_PORT = 10250
NODE_EXPORTER_PORT = 9100
ALERTMANAGER_MESH_PORT = 9094
GRAFANA_PORT = 3000
# Traefik chart defaults: the web and websecure entry points listen on 8000 and 8443.
TRAEFIK_WEB_PORT = 8000
TRAEFIK_WEBSECURE_PORT = 8443
# cert-manager's HTTP-01 solver pods serve the challenge on 8089.
ACME_SOLVER_PORT = 8089
ACME_SOLVER_LABELS = {"acme.cert-manager.io/http01-solver": "true"}
# The namespaces of the Certificates signed over HTTP-01 (the platform's, and those
# ingress-shim makes beside the connector's Ingresses): cert-manager's solvers run there.
ACME_SOLVER_NAMESPACES = tuple(sorted({certificates.CERTIFICATE_NAMESPACE, edc.NAMESPACE}))
# KEDA: the metrics API server (aggregated API) and the admission webhooks.
KEDA_METRICS_API_PORT = 6443
KEDA_WEBHOOK_PORT = 9443

# Playbook "Network Policies": the portal and the EDC connectors. The portal runs in its own
# namespace (Pod Security baseline), its identity provider in tractus-x.
PORTAL_NAMESPACE = portal_values.PORTAL_NAMESPACE
IDENTITY_PROVIDER_NAMESPACE = portal_values.CENTRALIDP_NAMESPACE
PORTAL_PORT = 8080
REDIS_LABELS = {"app.kubernetes.io/name": redis.NAME}
# prometheus-operator labels every Prometheus pod it runs with this.
PROMETHEUS_LABELS = {"app.kubernetes.io/name": "prometheus"}
# KEDA and Grafana query Thanos Query, never a single (partial) Prometheus shard.
THANOS_QUERY_LABELS = monitoring.THANOS_QUERY_LABELS
THANOS_QUERY_PORT = monitoring.THANOS_QUERY_HTTP_PORT
KUBE_DNS_LABELS = {"k8s-app": "kube-dns"}
# Vault (namespace vault, Service vault.vault.svc:8200), which the connector talks to itself.
VAULT_PORT = 8200

# Vault: its API (8200) and the raft/request-forwarding cluster port (8201); the
# External Secrets webhook listens on 10250 (the chart's webhook.port).
VAULT_NAMESPACE = vault_spec.NAMESPACE
ESO_NAMESPACE = vault_spec.ESO_NAMESPACE
VAULT_API_PORT = VAULT_PORT
VAULT_CLUSTER_PORT = 8201
VAULT_SERVER_LABELS = {"app.kubernetes.io/name": "vault", "component": "server"}
ESO_WEBHOOK_PORT = 10250

DEFAULT_DENY = "default-deny-all"


@dataclass(frozen=True)
class ClusterNetwork:
    """The addresses the policies name: the VPC (RDS, nodes), and where pods reach the
    Kubernetes API."""

    vpc_cidr: str
    service_cidr: str  # the cluster's Service addresses: inside the cluster, never the internet
    api_service_ip: str  # the `kubernetes` Service's ClusterIP, the service CIDR's first address
    api_endpoint_cidrs: tuple[str, ...]  # the cluster's subnets, where the API endpoint's ENIs are


@dataclass(frozen=True)
class Peer:
    """A namespace (optionally narrowed to pods) or a CIDR block."""

    namespace: str | None = None
    pods: Mapping[str, str] | None = None
    cidr: str | None = None
    any_namespace: bool = False
    except_cidrs: tuple[str, ...] = ()  # parts of ``cidr`` left out

    def manifest(self) -> dict[str, Any]:
        if self.cidr is not None:
            block: dict[str, Any] = {"cidr": self.cidr}
            if self.except_cidrs:
                block["except"] = list(self.except_cidrs)
            return {"ipBlock": block}
        peer: dict[str, Any] = {}
        if self.any_namespace:
            peer["namespaceSelector"] = {}
        elif self.namespace is not None:
            peer["namespaceSelector"] = {"matchLabels": {NAMESPACE_LABEL: self.namespace}}
        if self.pods is not None:
            peer["podSelector"] = {"matchLabels": dict(self.pods)}
        return peer


@dataclass(frozen=True)
class Rule:
    """Traffic from (ingress) or to (egress) ``peers`` on ``ports``; no ports means all."""

    peers: tuple[Peer, ...]
    ports: tuple[int, ...] = ()
    protocols: tuple[str, ...] = ("TCP",)

    def manifest(self, direction: str) -> dict[str, Any]:
        rule: dict[str, Any] = {direction: [peer.manifest() for peer in self.peers]}
        if self.ports:
            rule["ports"] = [{"protocol": p, "port": port} for port in self.ports for p in self.protocols]
        return rule


@dataclass(frozen=True)
class Policy:
    name: str
    namespace: str
    purpose: str
    pods: Mapping[str, str] = field(default_factory=dict)  # empty: every pod of the namespace
    ingress: tuple[Rule, ...] | None = None  # None: the policy does not govern ingress
    egress: tuple[Rule, ...] | None = None

    @property
    def policy_types(self) -> list[str]:
        return [kind for kind, rules in (("Ingress", self.ingress), ("Egress", self.egress)) if rules is not None]

    def spec(self) -> dict[str, Any]:
        spec: dict[str, Any] = {
            "podSelector": {"matchLabels": dict(self.pods)} if self.pods else {},
            "policyTypes": self.policy_types,
        }
        if self.ingress:
            spec["ingress"] = [rule.manifest("from") for rule in self.ingress]
        if self.egress:
            spec["egress"] = [rule.manifest("to") for rule in self.egress]
        return spec


def _in(namespace: str, pods: Mapping[str, str] | None = None) -> Peer:
    return Peer(namespace=namespace, pods=pods)


def _common(namespace: str) -> list[Policy]:
    """What every namespace gets: deny all, DNS, and scraping by Prometheus."""
    return [
        Policy(DEFAULT_DENY, namespace, "deny all traffic not allowed by another policy", ingress=(), egress=()),
        Policy(
            "allow-dns",
            namespace,
            "name resolution through kube-dns; a default deny without it breaks every Service lookup",
            egress=(Rule((_in("kube-system", KUBE_DNS_LABELS),), (DNS_PORT,), ("UDP", "TCP")),),
        ),
        Policy(
            "allow-prometheus-scrape",
            namespace,
            "Prometheus in monitoring scrapes the metrics ports of this namespace's pods",
            ingress=(Rule((_in(MONITORING_NAMESPACE, PROMETHEUS_LABELS),)),),
        ),
    ]


def _internet(net: ClusterNetwork, *also_except: str) -> Peer:
    """Addresses outside the cluster. A 0.0.0.0/0 block would also match the cluster's
    Service addresses (EKS's agent judges egress to a ClusterIP before translation), the
    `kubernetes` Service's among them, and the instance metadata service: both are cut out,
    so API access stays with allow-kubernetes-api."""
    return Peer(cidr=ANYWHERE, except_cidrs=(*also_except, net.service_cidr, METADATA_CIDR))


def _kubernetes_api(namespace: str, net: ClusterNetwork, pods: Mapping[str, str] | None = None) -> Policy:
    """The Kubernetes API, as EKS's network policy agent sees a client reach it: through
    the `kubernetes` Service, whose ClusterIP it judges before kube-proxy translates it
    (the agent's eBPF program sits at the pod's veth; amazon-network-policy-controller-k8s
    pkg/resolvers/endpoints.go, getMatchingServiceClusterIPs), and at the private
    endpoint's addresses, the control plane's network interfaces in the cluster's subnets,
    for clients that dial the endpoint's name (EKS user guide, "Network requirements")."""
    peers = (Peer(cidr=f"{net.api_service_ip}/32"), *(Peer(cidr=cidr) for cidr in net.api_endpoint_cidrs))
    return Policy(
        "allow-kubernetes-api",
        namespace,
        "the Kubernetes API: the kubernetes Service's address and the private endpoint in the cluster's subnets",
        pods=pods or {},
        egress=(Rule(peers, (KUBERNETES_API_PORT,)),),
    )


def _database(namespace: str, net: ClusterNetwork) -> Policy:
    return Policy(
        "allow-database",
        namespace,
        "PostgreSQL (RDS) in the VPC",
        egress=(Rule((Peer(cidr=net.vpc_cidr),), (POSTGRES_PORT,)),),
    )


def _within(namespace: str, purpose: str) -> Policy:
    peers = (_in(namespace),)
    return Policy("allow-within-namespace", namespace, purpose, ingress=(Rule(peers),), egress=(Rule(peers),))


@dataclass(frozen=True)
class PortalTraffic:
    """The portal's and the central identity provider's pods, when they run."""

    portal_pods: Mapping[str, str]  # every pod of the portal chart
    identity_provider_pods: Mapping[str, str]  # Keycloak's pods
    identity_provider_port: int
    identity_provider_cluster_port: int  # Keycloak's replicas talk to each other (JGroups)


def _outside(net: ClusterNetwork) -> tuple[Rule, ...]:
    """The portal and Keycloak call the identity providers (the central one at its public
    host, through the ingress controller), the data space's services and the SMTP relay,
    all outside the cluster."""
    return (Rule((_internet(net),), (HTTPS_PORT, SMTP_SUBMISSION_PORT)),)


def _portal(net: ClusterNetwork, portal: PortalTraffic | None) -> list[Policy]:
    """Playbook "Network Policies" (allow-portal-ingress), for the pods of the portal chart,
    the only workload of its namespace: the ingress controller in; out, the outside world
    and the database (RDS) for every pod, since the chart's Jobs and CronJobs (migrations,
    maintenance, the processes worker) carry none of its labels; and cert-manager's HTTP-01
    solvers for the certificates of its Ingresses, which run here while the portal does."""
    if portal is None:
        return []
    namespace = PORTAL_NAMESPACE
    return [
        Policy(
            "allow-portal-ingress",
            namespace,
            "the ingress controller reaches the portal's frontends and backend services",
            pods=portal.portal_pods,
            ingress=(Rule((_in(INGRESS_NAMESPACE),), (PORTAL_PORT,)),),
        ),
        Policy(
            "allow-portal-egress",
            namespace,
            "the portal's services, jobs and processes worker call the identity providers, the data space's "
            "services and the SMTP relay",
            egress=_outside(net),
        ),
        _acme_solver(namespace),
        _database(namespace, net),
    ]


def _identity_provider(namespace: str, portal: PortalTraffic, net: ClusterNetwork) -> list[Policy]:
    """Keycloak brokers to the shared identity provider and sends mail; the realm seeding
    Job beside it calls its Service."""
    keycloak = portal.identity_provider_pods
    outside = _outside(net)
    return [
        Policy(
            "allow-identity-provider",
            namespace,
            "the ingress controller and the realm seeding Job reach Keycloak; its replicas form one cluster",
            pods=keycloak,
            ingress=(
                Rule((_in(INGRESS_NAMESPACE),), (portal.identity_provider_port,)),
                Rule((Peer(pods={}),), (portal.identity_provider_port,)),
                Rule((Peer(pods=keycloak),), (portal.identity_provider_cluster_port,)),
            ),
            egress=(*outside, Rule((Peer(pods=keycloak),), (portal.identity_provider_cluster_port,))),
        ),
        Policy(
            "allow-identity-provider-clients",
            namespace,
            "the realm seeding Job calls Keycloak's Service inside the namespace",
            egress=(Rule((Peer(pods=keycloak),), (portal.identity_provider_port,)),),
        ),
    ]


def _tractus_x(net: ClusterNetwork, portal: PortalTraffic | None) -> list[Policy]:
    namespace = IDENTITY_PROVIDER_NAMESPACE
    return [
        *(_identity_provider(namespace, portal, net) if portal is not None else []),
        *connector_policies(net),
        Policy(
            "allow-redis",
            namespace,
            "Redis (Valkey) serves the namespace's applications",
            pods=REDIS_LABELS,
            ingress=(Rule((Peer(pods={}),), (REDIS_PORT,)),),
        ),
        Policy(
            "allow-redis-clients",
            namespace,
            "the namespace's applications use Redis (Valkey)",
            egress=(Rule((Peer(pods=REDIS_LABELS),), (REDIS_PORT,)),),
        ),
        _database(namespace, net),
    ]


def connector_policies(net: ClusterNetwork) -> list[Policy]:
    """The flows of the platform's connector (components/edc.py), plane by plane.

    In: partners through the ingress controller on the public endpoint only (DSP on the
    control plane, the public API on the data plane), Prometheus on the metrics port, and
    each plane from the other on its control port. Out: PostgreSQL (RDS, in the VPC),
    Vault, the other plane's control port, and HTTPS to the internet (partners' connectors,
    the STS, the BDRS, DID documents), which excludes the VPC and the instance metadata
    service. DNS and the namespace's shared rules (allow-database) come from the
    namespace's policies. Management and control APIs are reachable from nowhere else.
    """
    namespace = edc.NAMESPACE
    control, data = connector.CONTROL_PLANE_ENDPOINTS, connector.DATA_PLANE_ENDPOINTS
    prometheus = Rule((_in(MONITORING_NAMESPACE, PROMETHEUS_LABELS),), (connector.METRICS_PORT,))
    out = (
        Rule((Peer(cidr=net.vpc_cidr),), (POSTGRES_PORT,)),
        Rule((_in(VAULT_NAMESPACE),), (VAULT_PORT,)),
        Rule((_internet(net, net.vpc_cidr),), (HTTPS_PORT,)),
    )
    return [
        Policy(
            "allow-edc-controlplane",
            namespace,
            "the connector's control plane: DSP from partners, metrics, the data plane's calls; database, Vault, "
            "the data plane, partners and the identity services over HTTPS",
            pods=edc.CONTROL_PLANE_LABELS,
            ingress=(
                Rule((_in(INGRESS_NAMESPACE),), (control["protocol"]["port"],)),
                prometheus,
                Rule((Peer(pods=edc.DATA_PLANE_LABELS),), (control["control"]["port"],)),
            ),
            egress=(*out, Rule((Peer(pods=edc.DATA_PLANE_LABELS),), (data["control"]["port"],))),
        ),
        Policy(
            "allow-edc-dataplane",
            namespace,
            "the connector's data plane: its public API from partners, metrics, the control plane's signaling; "
            "database, Vault, the control plane, partners' data over HTTPS",
            pods=edc.DATA_PLANE_LABELS,
            ingress=(
                Rule((_in(INGRESS_NAMESPACE),), (data["public"]["port"],)),
                prometheus,
                Rule((Peer(pods=edc.CONTROL_PLANE_LABELS),), (data["control"]["port"],)),
            ),
            egress=(*out, Rule((Peer(pods=edc.CONTROL_PLANE_LABELS),), (control["control"]["port"],))),
        ),
    ]


def _traefik(net: ClusterNetwork) -> list[Policy]:
    namespace = INGRESS_NAMESPACE
    return [
        Policy(
            "allow-web-ingress",
            namespace,
            "clients through the Network Load Balancer, which preserves their addresses",
            ingress=(Rule((Peer(cidr=ANYWHERE),), (TRAEFIK_WEB_PORT, TRAEFIK_WEBSECURE_PORT)),),
        ),
        Policy(
            "allow-backends",
            namespace,
            "the applications it routes to and cert-manager's HTTP-01 solvers",
            egress=(
                Rule((_in("tractus-x"), _in(PORTAL_NAMESPACE))),
                Rule(tuple(_in(ns, ACME_SOLVER_LABELS) for ns in ACME_SOLVER_NAMESPACES), (ACME_SOLVER_PORT,)),
            ),
        ),
        _kubernetes_api(namespace, net),
    ]


def _cert_manager(net: ClusterNetwork) -> list[Policy]:
    namespace = CERT_MANAGER_NAMESPACE
    return [
        Policy(
            "allow-acme",
            namespace,
            "the ACME server and the HTTP-01 self-check against the public hostnames",
            egress=(Rule((_internet(net),), (HTTPS_PORT, HTTP_PORT)),),
        ),
        Policy(
            "allow-webhook",
            namespace,
            "the API server calls the webhook from the control plane's ENIs in the VPC",
            ingress=(Rule((Peer(cidr=net.vpc_cidr),), (KUBELET_PORT,)),),
        ),
        _kubernetes_api(namespace, net),
    ]


def _acme_solver(namespace: str) -> Policy:
    """cert-manager runs an HTTP-01 solver pod in the namespace of the Certificate it
    solves for (cert-manager pkg/issuer/acme/http/pod.go); Let's Encrypt's request reaches
    it through the ingress controller."""
    return Policy(
        "allow-acme-solver",
        namespace,
        "the ingress controller forwards HTTP-01 challenges to cert-manager's solver pods",
        pods=ACME_SOLVER_LABELS,
        ingress=(Rule((_in(INGRESS_NAMESPACE),), (ACME_SOLVER_PORT,)),),
    )


def _monitoring(net: ClusterNetwork) -> list[Policy]:
    namespace = MONITORING_NAMESPACE
    return [
        Policy(
            "allow-scrape-targets",
            namespace,
            "Prometheus scrapes metrics ports in every namespace; kubelets and node exporters on the nodes",
            pods=PROMETHEUS_LABELS,
            egress=(
                Rule((Peer(any_namespace=True, pods={}),)),
                Rule((Peer(cidr=net.vpc_cidr),), (KUBELET_PORT, NODE_EXPORTER_PORT)),
            ),
        ),
        Policy(
            "allow-external-apis",
            namespace,
            "AWS APIs (CloudWatch exporter), PagerDuty and Slack over HTTPS, mail over SMTP",
            egress=(Rule((_internet(net),), (HTTPS_PORT, SMTP_SUBMISSION_PORT)),),
        ),
        _within(
            namespace,
            "Grafana to Thanos Query, Thanos Query to the Prometheus sidecars (gRPC 10901), "
            "Prometheus to Alertmanager, the Alertmanager mesh (9094)",
        ),
        Policy(
            "allow-grafana-ingress",
            namespace,
            "the ingress controller reaches Grafana when it is exposed",
            pods={"app.kubernetes.io/name": "grafana"},
            ingress=(Rule((_in(INGRESS_NAMESPACE),), (GRAFANA_PORT,)),),
        ),
        Policy(
            "allow-keda-queries",
            namespace,
            "KEDA queries Thanos Query (every Prometheus shard) for the custom scaling metrics",
            pods=THANOS_QUERY_LABELS,
            ingress=(Rule((_in(KEDA_NAMESPACE),), (THANOS_QUERY_PORT,)),),
        ),
        Policy(
            "allow-operator-webhook",
            namespace,
            "the API server calls prometheus-operator's admission webhook from the VPC",
            ingress=(Rule((Peer(cidr=net.vpc_cidr),), (KUBELET_PORT,)),),
        ),
        # Prometheus discovers its targets, the operator manages the StatefulSets,
        # kube-state-metrics and Grafana's sidecars watch the API.
        _kubernetes_api(namespace, net),
    ]


def _vault_api(namespace: str) -> Policy:
    return Policy(
        "allow-vault",
        namespace,
        "Vault's API in namespace vault",
        egress=(Rule((_in(VAULT_NAMESPACE, VAULT_SERVER_LABELS),), (VAULT_API_PORT,)),),
    )


def vault_clients(flows: Sequence[Need]) -> tuple[Peer, ...]:
    """Exactly the workloads that declare they use Vault's API (components/traffic.py):
    External Secrets, the bootstrap Job, the Vault backup jobs, the connector's planes."""
    service = vault_spec.API_SERVICE
    peers = {
        (need.source.namespace, tuple(sorted(need.source.labels.items())))
        for need in flows
        if isinstance(need.source, traffic.Pods) and need.destination == service and need.port == VAULT_API_PORT
    }
    return tuple(Peer(namespace=ns, pods=dict(labels)) for ns, labels in sorted(peers))


def _vault(net: ClusterNetwork, flows: Sequence[Need]) -> list[Policy]:
    """Vault serves its API to the workloads that declare they use it; the pods form a raft
    cluster; auto-unseal calls AWS KMS (no VPC endpoint: its public regional endpoint over
    HTTPS, the metadata address excluded) and Kubernetes auth calls the API server
    (TokenReview)."""
    namespace = VAULT_NAMESPACE
    servers = (Peer(pods=VAULT_SERVER_LABELS),)
    return [
        Policy(
            "allow-vault-clients",
            namespace,
            "the workloads that declare they use Vault's API (External Secrets, the bootstrap Job, the Vault "
            "backup jobs, the connector); the other Vault pods (request forwarding)",
            pods=VAULT_SERVER_LABELS,
            ingress=(Rule((*vault_clients(flows), *servers), (VAULT_API_PORT,)),),
        ),
        Policy(
            "allow-raft",
            namespace,
            "raft replication and request forwarding among the Vault pods; retry_join through the API port",
            pods=VAULT_SERVER_LABELS,
            ingress=(Rule(servers, (VAULT_CLUSTER_PORT,)),),
            egress=(Rule(servers, (VAULT_API_PORT, VAULT_CLUSTER_PORT)),),
        ),
        Policy(
            "allow-kms",
            namespace,
            "AWS KMS (auto-unseal) and STS (IRSA) over HTTPS",
            pods=VAULT_SERVER_LABELS,
            egress=(Rule((_internet(net),), (HTTPS_PORT,)),),
        ),
        Policy(
            "allow-bootstrap",
            namespace,
            "the bootstrap Job initialises and configures Vault",
            pods={"app.kubernetes.io/name": vault_spec.BOOTSTRAP},
            egress=(Rule(servers, (VAULT_API_PORT,)),),
        ),
        _kubernetes_api(namespace, net),
    ]


def _external_secrets(net: ClusterNetwork) -> list[Policy]:
    namespace = ESO_NAMESPACE
    return [
        _vault_api(namespace),
        Policy(
            "allow-webhook",
            namespace,
            "the API server calls the validating webhook from the control plane's ENIs in the VPC",
            ingress=(Rule((Peer(cidr=net.vpc_cidr),), (ESO_WEBHOOK_PORT,)),),
        ),
        _kubernetes_api(namespace, net),
    ]


def _backup(net: ClusterNetwork) -> list[Policy]:
    namespace = BACKUP_NAMESPACE
    return [
        _database(namespace, net),
        _vault_api(namespace),
        Policy(
            "allow-aws-apis",
            namespace,
            "S3, STS and KMS over HTTPS (and the Kubernetes API for configuration backups)",
            egress=(Rule((_internet(net),), (HTTPS_PORT,)),),
        ),
        _kubernetes_api(namespace, net),
    ]


def _keda(net: ClusterNetwork) -> list[Policy]:
    namespace = KEDA_NAMESPACE
    return [
        Policy(
            "allow-api-server",
            namespace,
            "the API server calls the metrics adapter (aggregated API) and the admission webhooks from the VPC",
            ingress=(Rule((Peer(cidr=net.vpc_cidr),), (KEDA_METRICS_API_PORT, KEDA_WEBHOOK_PORT)),),
        ),
        Policy(
            "allow-prometheus-queries",
            namespace,
            "the Prometheus triggers query Thanos Query in monitoring",
            egress=(Rule((_in(MONITORING_NAMESPACE, THANOS_QUERY_LABELS),), (THANOS_QUERY_PORT,)),),
        ),
        _within(namespace, "the metrics adapter reads scaler metrics from the operator over gRPC"),
        _kubernetes_api(namespace, net),
    ]


def _argocd(net: ClusterNetwork) -> list[Policy]:
    """Argo CD has no Ingress (operators use ``argocd --core``, which goes through the
    Kubernetes API and port-forwards): nothing comes in but Prometheus."""
    namespace = ARGOCD_NAMESPACE
    return [
        _within(
            namespace,
            "API server and application controller to the repo server (8081) and to Redis through HAProxy "
            "(6379); HAProxy to the Redis servers, Redis replication and Sentinel (6379, 26379)",
        ),
        Policy(
            "allow-chart-repositories",
            namespace,
            "the repo server fetches the pinned charts from their HTTPS repositories on the internet",
            pods=gitops.REPO_SERVER_LABELS,
            egress=(Rule((_internet(net),), (HTTPS_PORT,)),),
        ),
        # The application controller applies and watches every Application's objects;
        # the API server, the ApplicationSet controller and the Redis secret job read
        # Argo CD's Secrets and ConfigMaps.
        _kubernetes_api(namespace, net),
    ]


_BY_NAMESPACE: dict[str, Callable[[ClusterNetwork], list[Policy]]] = {
    ARGOCD_NAMESPACE: _argocd,
    BACKUP_NAMESPACE: _backup,
    CERT_MANAGER_NAMESPACE: _cert_manager,
    INGRESS_NAMESPACE: _traefik,
    KEDA_NAMESPACE: _keda,
    MONITORING_NAMESPACE: _monitoring,
    ESO_NAMESPACE: _external_secrets,
}


def network_policies(
    namespaces: Sequence[str], net: ClusterNetwork, portal: PortalTraffic | None = None, flows: Sequence[Need] = ()
) -> list[Policy]:
    """Every namespace's policies; a namespace without its own allow rules is refused so a
    new namespace cannot come up with only a default deny nobody thought through.

    ``portal``: the portal's and Keycloak's pods while they run (none otherwise)."""

    def tractus_x(network: ClusterNetwork) -> list[Policy]:
        return _tractus_x(network, portal)

    def portal_namespace(network: ClusterNetwork) -> list[Policy]:
        return _portal(network, portal)

    def vault_namespace(network: ClusterNetwork) -> list[Policy]:
        return _vault(network, flows)

    builders = {
        **_BY_NAMESPACE,
        "tractus-x": tractus_x,
        PORTAL_NAMESPACE: portal_namespace,
        VAULT_NAMESPACE: vault_namespace,
    }
    unknown = [name for name in namespaces if name not in builders]
    if unknown:
        raise KeyError(f"no NetworkPolicies defined for namespaces {unknown}; add them to components.network_policies")
    return [policy for name in namespaces for policy in (*_common(name), *_solvers(name), *builders[name](net))]


def _solvers(namespace: str) -> list[Policy]:
    return [_acme_solver(namespace)] if namespace in ACME_SOLVER_NAMESPACES else []
