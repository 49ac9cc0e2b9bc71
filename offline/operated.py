"""Objects no chart renders and no program creates, but that the cluster and its operators do.

Selectors and addresses of the platform point at them too (a NetworkPolicy for
Prometheus, a ServiceMonitor of the kubelet), so the wiring checks (offline/wiring.py)
see them beside what is rendered. Each is derived from what the stack does create, from
the source named next to it:

- Kubernetes: the API server keeps the Service ``default/kubernetes`` (port ``https``, 443,
  labels ``component: apiserver``, ``provider: kubernetes``) for every cluster
  (kubernetes/kubernetes pkg/controlplane/controller/kubernetesservice).
- EKS: the CoreDNS add-on runs pods labelled ``k8s-app: kube-dns`` behind Service
  ``kube-system/kube-dns`` (ports ``dns`` 53/UDP, ``dns-tcp`` 53/TCP, ``metrics`` 9153)
  (EKS user guide, "Manage CoreDNS"; the add-on's manifest).
- prometheus-operator: each Prometheus (one StatefulSet per shard) and Alertmanager runs
  pods with the labels its CRD documents under ``spec.podMetadata`` ("prometheus",
  "app.kubernetes.io/{name,instance,managed-by}", "operator.prometheus.io/{name,shard}";
  "alertmanager" and the same app labels), plus ``spec.podMetadata.labels``, behind the
  governing Services ``prometheus-operated`` (``web`` 9090; with a Thanos sidecar also
  ``grpc`` 10901 and ``http`` 10902 on the pod) and ``alertmanager-operated``
  (``web`` 9093, ``tcp-mesh`` 9094); with ``--kubelet-service=<namespace>/<name>`` it keeps
  that Service for the kubelets (``https-metrics`` 10250, ``http-metrics`` 10255,
  ``cadvisor`` 4194; labels ``k8s-app`` and ``app.kubernetes.io/name`` ``kubelet``)
  (prometheus-operator pkg/prometheus/server/statefulset.go,
  pkg/alertmanager/statefulset.go, pkg/kubelet/controller.go).
- cert-manager: for a Certificate whose issuer solves ACME challenges over HTTP-01, and
  for an Ingress carrying a cert-manager issuer annotation (ingress-shim makes the
  Certificate beside it), the solver pod runs in the Certificate's namespace, labelled
  ``acme.cert-manager.io/http01-solver: "true"``, listening on 8089 (cert-manager
  pkg/issuer/acme/http/pod.go).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from components.certificates import SOLVER_LABELS, SOLVER_PORT
from offline.render import Placed

OPERATED = "created by the cluster or an operator"
API_SERVER_LABELS = {"component": "apiserver", "provider": "kubernetes"}
DNS_PORTS = (("dns", 53, "UDP"), ("dns-tcp", 53, "TCP"), ("metrics", 9153, "TCP"))
KUBELET_LABELS = {
    "k8s-app": "kubelet",
    "app.kubernetes.io/name": "kubelet",
    "app.kubernetes.io/managed-by": "prometheus-operator",
}
ALERTMANAGER_PORTS = (("web", 9093, "TCP"), ("tcp-mesh", 9094, "TCP"), ("udp-mesh", 9094, "UDP"))
# The config-reloader container the operator adds to every Prometheus and Alertmanager pod
# (pkg/operator/config_reloader.go: ContainerPort "reloader-web", configReloaderPort 8080).
RELOADER_PORT = ("reloader-web", 8080, "TCP")
ISSUER_ANNOTATIONS = ("cert-manager.io/cluster-issuer", "cert-manager.io/issuer")


def _service(
    namespace: str,
    name: str,
    ports: Iterable[tuple[str, int, str]],
    selector: Mapping[str, str],
    labels: Mapping[str, str] | None = None,
) -> Placed:
    return Placed(
        OPERATED,
        namespace,
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": name, "namespace": namespace, "labels": dict(labels or {})},
            "spec": {
                "selector": dict(selector),
                "ports": [{"name": n, "port": p, "protocol": protocol} for n, p, protocol in ports],
            },
        },
    )


def _pod(
    namespace: str,
    name: str,
    labels: Mapping[str, str],
    ports: Iterable[tuple[str, int, str]] = (),
    service_account: str | None = None,
) -> Placed:
    """A pod as its controller creates it; ``ports`` are (name, containerPort, protocol)."""
    container_ports = [{"name": n, "containerPort": p, "protocol": protocol} for n, p, protocol in ports]
    spec: dict[str, Any] = {"containers": [{"name": name, "ports": container_ports}]}
    if service_account:
        spec["serviceAccountName"] = service_account
    return Placed(
        OPERATED,
        namespace,
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name, "namespace": namespace, "labels": dict(labels)},
            "spec": spec,
        },
    )


def cluster_objects() -> list[Placed]:
    """The API server's Service and EKS's CoreDNS, on every cluster."""
    dns = {"k8s-app": "kube-dns"}
    namespaces = [
        Placed(OPERATED, "", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
        for name in ("default", "kube-system")
    ]
    return [
        *namespaces,
        _service("default", "kubernetes", [("https", 443, "TCP")], {}, API_SERVER_LABELS),
        _pod("kube-system", "coredns", dns, DNS_PORTS),
        _service("kube-system", "kube-dns", DNS_PORTS, dns, {**dns, "kubernetes.io/name": "CoreDNS"}),
    ]


def _labels_of(obj: Mapping[str, Any]) -> dict[str, str]:
    return dict(((obj.get("spec") or {}).get("podMetadata") or {}).get("labels") or {})


def prometheus_operator_objects(objects: Iterable[Placed]) -> Iterator[Placed]:
    for placed in objects:
        obj, namespace = placed.obj, placed.namespace
        kind, name = obj.get("kind"), str((obj.get("metadata") or {}).get("name"))
        group = str(obj.get("apiVersion", "")).split("/")[0]
        if group == "monitoring.coreos.com" and kind == "Prometheus":
            shards = int((obj.get("spec") or {}).get("shards") or 1)
            for shard in range(shards):
                labels = {
                    **_labels_of(obj),
                    "prometheus": name,
                    "app.kubernetes.io/name": "prometheus",
                    "app.kubernetes.io/instance": name,
                    "app.kubernetes.io/managed-by": "prometheus-operator",
                    "operator.prometheus.io/name": name,
                    "operator.prometheus.io/shard": str(shard),
                }
                yield _pod(
                    namespace,
                    f"prometheus-{name}-shard-{shard}",
                    labels,
                    [*_prometheus_ports(obj), RELOADER_PORT],
                    (obj.get("spec") or {}).get("serviceAccountName"),
                )
            selector = {"app.kubernetes.io/name": "prometheus"}
            yield _service(namespace, "prometheus-operated", [("web", 9090, "TCP")], selector)
        elif group == "monitoring.coreos.com" and kind == "Alertmanager":
            labels = {
                **_labels_of(obj),
                "alertmanager": name,
                "app.kubernetes.io/name": "alertmanager",
                "app.kubernetes.io/instance": name,
                "app.kubernetes.io/managed-by": "prometheus-operator",
            }
            yield _pod(
                namespace,
                f"alertmanager-{name}",
                labels,
                [*ALERTMANAGER_PORTS, RELOADER_PORT],
                (obj.get("spec") or {}).get("serviceAccountName"),
            )
            selector = {"app.kubernetes.io/name": "alertmanager"}
            yield _service(namespace, "alertmanager-operated", ALERTMANAGER_PORTS, selector)
        else:
            yield from _kubelet_service(obj)


def _prometheus_ports(prometheus: Mapping[str, Any]) -> list[tuple[str, int, str]]:
    """Prometheus's web port, and with ``spec.thanos`` the Thanos sidecar's gRPC and HTTP
    ports, which the operator adds as a container of the same pod."""
    ports = [("web", 9090, "TCP")]
    if (prometheus.get("spec") or {}).get("thanos") is not None:
        ports += [("grpc", 10901, "TCP"), ("http", 10902, "TCP")]
    return ports


def _kubelet_service(obj: Mapping[str, Any]) -> Iterator[Placed]:
    """The kubelet Service the operator keeps when its Deployment says --kubelet-service."""
    if obj.get("kind") != "Deployment":
        return
    for container in (((obj.get("spec") or {}).get("template") or {}).get("spec") or {}).get("containers") or []:
        for arg in container.get("args") or []:
            if str(arg).startswith("--kubelet-service="):
                namespace, name = str(arg).split("=", 1)[1].split("/", 1)
                ports = [("https-metrics", 10250, "TCP"), ("http-metrics", 10255, "TCP"), ("cadvisor", 4194, "TCP")]
                yield _service(namespace, name, ports, {}, KUBELET_LABELS)


def _http01_issuers(objects: Iterable[Placed]) -> set[tuple[str, str, str]]:
    """(kind, namespace, name) of every Issuer and ClusterIssuer with an HTTP-01 solver."""
    found = set()
    for placed in objects:
        obj = placed.obj
        if obj.get("kind") not in ("Issuer", "ClusterIssuer") or not str(obj.get("apiVersion")).startswith(
            "cert-manager.io/"
        ):
            continue
        solvers = (((obj.get("spec") or {}).get("acme")) or {}).get("solvers") or []
        if any("http01" in solver for solver in solvers):
            namespace = placed.namespace if obj["kind"] == "Issuer" else ""
            found.add((str(obj["kind"]), namespace, str(obj["metadata"]["name"])))
    return found


def acme_solver_namespaces(objects: Iterable[Placed]) -> set[str]:
    """The namespaces cert-manager runs HTTP-01 solver pods in: those of the Certificates
    (and of the Ingresses ingress-shim makes Certificates for) that an HTTP-01 issuer signs."""
    placed = list(objects)
    issuers = _http01_issuers(placed)
    namespaces = set()
    for namespace, obj in ((p.namespace, p.obj) for p in placed):
        if obj.get("kind") == "Certificate" and str(obj.get("apiVersion")).startswith("cert-manager.io/"):
            ref = (obj.get("spec") or {}).get("issuerRef") or {}
            kind = ref.get("kind", "Issuer")
            if (kind, namespace if kind == "Issuer" else "", ref.get("name")) in issuers:
                namespaces.add(namespace)
        elif obj.get("kind") == "Ingress":
            annotations = (obj.get("metadata") or {}).get("annotations") or {}
            for annotation in ISSUER_ANNOTATIONS:
                if annotation not in annotations:
                    continue
                kind = "ClusterIssuer" if annotation.endswith("cluster-issuer") else "Issuer"
                if (kind, namespace if kind == "Issuer" else "", annotations[annotation]) in issuers:
                    namespaces.add(namespace)
    return namespaces


def cert_manager_objects(objects: Iterable[Placed]) -> Iterator[Placed]:
    for namespace in sorted(acme_solver_namespaces(objects)):
        yield _pod(namespace, "cm-acme-http-solver", SOLVER_LABELS, [("http", SOLVER_PORT, "TCP")])


def operated_objects(objects: Iterable[Placed]) -> list[Placed]:
    """Everything the cluster and its operators create for the stack's objects."""
    placed = list(objects)
    return [*cluster_objects(), *prometheus_operator_objects(placed), *cert_manager_objects(placed)]
