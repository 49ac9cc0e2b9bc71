"""offline.crd_schemas against the real CRDs of the pinned chart archives.

The CRDs are rendered once per session with the real helm from the pinned charts
(offline/render.py), as the plan renders them.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from typing import Any

import pytest

from components import charts
from components.charts import Chart
from offline.crd_schemas import CrdIndex, ListType, duplicate_list_key_findings, python_pattern
from offline.render import PULUMI, ChartSource, helm_template, parse_objects

KUBERNETES_VERSION = "1.35"

# The charts whose CRDs the platform's custom resources use, with the values that make
# them render their CRDs, and the namespace they are installed in.
CRD_CHARTS: tuple[tuple[Chart, str, dict[str, Any]], ...] = (
    (charts.KEDA, "keda", {}),
    (charts.CERT_MANAGER, "cert-manager", {"crds": {"enabled": True}}),
    (charts.ARGO_CD, "argocd", {}),
    (charts.EXTERNAL_SECRETS, "external-secrets", {}),
    (charts.TRAEFIK, "traefik", {}),
    (charts.KUBE_PROMETHEUS_STACK, "monitoring", {}),
)
# The values the connector chart 0.12.1 `required`s; none of them touches the env list.
CONNECTOR_VALUES = {
    "participant": {"id": "BPNL000000000001", "contextId": "did:web:connector.example.org"},
    "iatp": {
        "id": "did:web:connector.example.org",
        "sts": {
            "oauth": {
                "token_url": "https://sts.example.org/token",
                "client": {"id": "connector", "secret_alias": "sts-client-secret"},
            }
        },
    },
    "controlplane": {"bdrs": {"server": {"url": "https://bdrs.example.org/api"}}},
    "dataplane": {
        "token": {"signer": {"privatekey_alias": "token-signer"}, "verifier": {"publickey_alias": "token-verifier"}}
    },
    "postgresql": {"auth": {"username": "edc", "password": "$(EDC_DATABASE_PASSWORD)"}},
    "vault": {"hashicorp": {"token": "$(EDC_VAULT_TOKEN)"}},
}


def rendered(chart: Chart, release: str, namespace: str, values: dict[str, Any]) -> list[dict[str, Any]]:
    source = ChartSource("test", PULUMI, release, release, namespace, chart, values)
    return parse_objects(helm_template(source, KUBERNETES_VERSION))


@pytest.fixture(scope="session")
def crds() -> CrdIndex:
    objects = [obj for chart, namespace, values in CRD_CHARTS for obj in rendered(chart, namespace, namespace, values)]
    return CrdIndex.from_objects(objects, KUBERNETES_VERSION)


@pytest.fixture(scope="session")
def connector() -> dict[str, dict[str, Any]]:
    """The tractusx-connector 0.12.1 chart's Deployments, by name."""
    objects = rendered(charts.TRACTUSX_CONNECTOR, "edc", "tractus-x", CONNECTOR_VALUES)
    return {obj["metadata"]["name"]: obj for obj in objects if obj["kind"] == "Deployment"}


# --- valid objects, shaped as the platform writes them ---------------------------------

SCALED_OBJECT: dict[str, Any] = {
    "apiVersion": "keda.sh/v1alpha1",
    "kind": "ScaledObject",
    "metadata": {"name": "edc", "namespace": "tractus-x", "labels": {"app.kubernetes.io/part-of": "tractus-x"}},
    "spec": {
        "scaleTargetRef": {"name": "edc-controlplane"},
        "minReplicaCount": 2,
        "maxReplicaCount": 6,
        "triggers": [{"type": "cpu", "metricType": "Utilization", "metadata": {"value": "70"}}],
    },
}
CERTIFICATE: dict[str, Any] = {
    "apiVersion": "cert-manager.io/v1",
    "kind": "Certificate",
    "metadata": {"name": "portal", "namespace": "tractus-x"},
    "spec": {
        "secretName": "portal-tls",
        "dnsNames": ["portal.example.org"],
        "issuerRef": {"name": "letsencrypt", "kind": "ClusterIssuer", "group": "cert-manager.io"},
        "duration": "2160h",
        "renewBefore": "360h",
        "privateKey": {"algorithm": "ECDSA", "size": 256, "rotationPolicy": "Always"},
        "usages": ["server auth"],
    },
}
CLUSTER_ISSUER: dict[str, Any] = {
    "apiVersion": "cert-manager.io/v1",
    "kind": "ClusterIssuer",
    "metadata": {"name": "letsencrypt"},
    "spec": {
        "acme": {
            "server": "https://acme-v02.api.letsencrypt.org/directory",
            "email": "ops@example.org",
            "privateKeySecretRef": {"name": "letsencrypt-account"},
            "solvers": [{"http01": {"ingress": {"ingressClassName": "traefik"}}}],
        }
    },
}
APPLICATION: dict[str, Any] = {
    "apiVersion": "argoproj.io/v1alpha1",
    "kind": "Application",
    "metadata": {"name": "edc", "namespace": "argocd", "finalizers": ["resources-finalizer.argocd.argoproj.io"]},
    "spec": {
        "project": "default",
        "source": {
            "repoURL": "https://eclipse-tractusx.github.io/charts/dev",
            "chart": "tractusx-connector",
            "targetRevision": "0.12.1",
            "helm": {"releaseName": "edc", "valuesObject": {"fullnameOverride": "edc"}},
        },
        "destination": {"server": "https://kubernetes.default.svc", "namespace": "tractus-x"},
        "syncPolicy": {
            "automated": {"prune": True, "selfHeal": True},
            "syncOptions": ["ServerSideApply=true", "CreateNamespace=true"],
        },
    },
}
EXTERNAL_SECRET: dict[str, Any] = {
    "apiVersion": "external-secrets.io/v1",
    "kind": "ExternalSecret",
    "metadata": {"name": "edc-db", "namespace": "tractus-x"},
    "spec": {
        "refreshInterval": "1h",
        "secretStoreRef": {"kind": "ClusterSecretStore", "name": "vault"},
        "target": {"name": "edc-db", "creationPolicy": "Owner"},
        "data": [{"secretKey": "password", "remoteRef": {"key": "tractusx/edc-db", "property": "password"}}],
    },
}
CLUSTER_SECRET_STORE: dict[str, Any] = {
    "apiVersion": "external-secrets.io/v1",
    "kind": "ClusterSecretStore",
    "metadata": {"name": "vault"},
    "spec": {
        "provider": {
            "vault": {
                "server": "https://vault.vault.svc:8200",
                "path": "secret",
                "version": "v2",
                "auth": {
                    "kubernetes": {
                        "mountPath": "kubernetes",
                        "role": "external-secrets",
                        "serviceAccountRef": {"name": "external-secrets", "namespace": "external-secrets"},
                    }
                },
            }
        }
    },
}
SERVICE_MONITOR: dict[str, Any] = {
    "apiVersion": "monitoring.coreos.com/v1",
    "kind": "ServiceMonitor",
    "metadata": {"name": "edc", "namespace": "tractus-x", "labels": {"release": "monitoring"}},
    "spec": {
        "selector": {"matchLabels": {"app.kubernetes.io/name": "tractusx-connector-controlplane"}},
        "namespaceSelector": {"matchNames": ["tractus-x"]},
        "endpoints": [{"port": "metrics", "path": "/metrics", "interval": "30s"}],
    },
}
PROMETHEUS_RULE: dict[str, Any] = {
    "apiVersion": "monitoring.coreos.com/v1",
    "kind": "PrometheusRule",
    "metadata": {"name": "edc", "namespace": "tractus-x"},
    "spec": {
        "groups": [
            {
                "name": "edc",
                "rules": [
                    {
                        "alert": "EdcDown",
                        "expr": "up == 0",
                        "for": "5m",
                        "labels": {"severity": "critical"},
                        "annotations": {"summary": "the connector is down"},
                    }
                ],
            }
        ]
    },
}
INGRESS_ROUTE: dict[str, Any] = {
    "apiVersion": "traefik.io/v1alpha1",
    "kind": "IngressRoute",
    "metadata": {"name": "portal", "namespace": "tractus-x"},
    "spec": {
        "entryPoints": ["websecure"],
        "routes": [
            {
                "match": "Host(`portal.example.org`)",
                "kind": "Rule",
                "services": [{"name": "portal", "port": 80}],
                "middlewares": [{"name": "security-headers"}],
            }
        ],
        "tls": {"secretName": "portal-tls"},
    },
}
MIDDLEWARE: dict[str, Any] = {
    "apiVersion": "traefik.io/v1alpha1",
    "kind": "Middleware",
    "metadata": {"name": "security-headers", "namespace": "tractus-x"},
    "spec": {"headers": {"stsSeconds": 31536000, "stsIncludeSubdomains": True, "frameDeny": True}},
}
VALID = [
    SCALED_OBJECT,
    CERTIFICATE,
    CLUSTER_ISSUER,
    APPLICATION,
    EXTERNAL_SECRET,
    CLUSTER_SECRET_STORE,
    SERVICE_MONITOR,
    PROMETHEUS_RULE,
    INGRESS_ROUTE,
    MIDDLEWARE,
]


def changed(manifest: dict[str, Any], change: Callable[[dict[str, Any]], object]) -> dict[str, Any]:
    copied = copy.deepcopy(manifest)
    change(copied)
    return copied


def test_the_index_holds_the_crds_of_the_pinned_charts(crds: CrdIndex) -> None:
    # keda 6, cert-manager 6, argo-cd 3, external-secrets 25, traefik 29, kube-prometheus-stack 10;
    # the charts' other objects (Deployments, Services, ...) are not CRDs.
    assert len(crds.crds) == 79
    assert crds.knows("keda.sh/v1alpha1", "ScaledObject")
    assert crds.knows("external-secrets.io/v1beta1", "ExternalSecret")  # defined, but no longer served
    assert not crds.knows("keda.sh/v1alpha1", "ScaledThing")
    assert not crds.knows("apps/v1", "Deployment")


@pytest.mark.parametrize("manifest", VALID, ids=[m["kind"] for m in VALID])
def test_valid_custom_resources_have_no_findings(crds: CrdIndex, manifest: dict[str, Any]) -> None:
    assert crds.findings(manifest) == []


def test_unknown_fields_are_refused(crds: CrdIndex) -> None:
    def add_unknown(m: dict[str, Any]) -> None:
        m["spec"]["pollingIntervall"] = 30
        m["spec"]["triggers"][0]["metricsType"] = "Utilization"
        m["metadata"]["label"] = {"a": "b"}

    assert crds.findings(changed(SCALED_OBJECT, add_unknown)) == [
        "metadata.label: unknown field",
        "spec.pollingIntervall: unknown field",
        "spec.triggers[0].metricsType: unknown field",
    ]


def test_wrong_types_are_refused(crds: CrdIndex) -> None:
    def mistype(m: dict[str, Any]) -> None:
        m["spec"]["minReplicaCount"] = "two"
        m["metadata"]["labels"] = {"app.kubernetes.io/part-of": 3}

    assert crds.findings(changed(SCALED_OBJECT, mistype)) == [
        "metadata.labels[app.kubernetes.io/part-of]: 3 is not of type 'string', 'null'",
        "spec.minReplicaCount: 'two' is not of type 'integer'",
    ]


def test_missing_required_fields_are_refused(crds: CrdIndex) -> None:
    def drop_required(m: dict[str, Any]) -> None:
        del m["spec"]["scaleTargetRef"]
        del m["spec"]["triggers"][0]["type"]

    assert crds.findings(changed(SCALED_OBJECT, drop_required)) == [
        "spec.scaleTargetRef: Required value",
        "spec.triggers[0].type: Required value",
    ]
    assert crds.findings(changed(SCALED_OBJECT, lambda m: m.pop("spec"))) == ["spec: Required value"]


def test_enum_violations_are_refused(crds: CrdIndex) -> None:
    def use_dsa(m: dict[str, Any]) -> None:
        m["spec"]["privateKey"]["algorithm"] = "DSA"

    assert crds.findings(changed(CERTIFICATE, use_dsa)) == [
        "spec.privateKey.algorithm: 'DSA' is not one of ['RSA', 'ECDSA', 'Ed25519']"
    ]


def test_format_byte_is_checked(crds: CrdIndex) -> None:
    def set_ca_bundle(m: dict[str, Any]) -> None:
        m["spec"]["acme"]["caBundle"] = "not base64!"

    assert crds.findings(changed(CLUSTER_ISSUER, set_ca_bundle)) == [
        "spec.acme.caBundle: 'not base64!' is not a 'byte'"
    ]


def test_a_kind_no_crd_defines_is_refused(crds: CrdIndex) -> None:
    manifest = changed(SCALED_OBJECT, lambda m: m.update(kind="ScaledThing"))
    assert crds.findings(manifest) == ["no CRD serves keda.sh/v1alpha1 ScaledThing"]


def test_a_version_the_crd_does_not_serve_is_refused(crds: CrdIndex) -> None:
    # external-secrets 2.x keeps v1beta1 in the CRD with served: false.
    manifest = changed(EXTERNAL_SECRET, lambda m: m.update(apiVersion="external-secrets.io/v1beta1"))
    assert crds.findings(manifest) == ["no CRD serves external-secrets.io/v1beta1 ExternalSecret"]


@pytest.mark.parametrize("port", [80, "websecure"])
def test_int_or_string_takes_either(crds: CrdIndex, port: int | str) -> None:
    manifest = changed(INGRESS_ROUTE, lambda m: m["spec"]["routes"][0]["services"][0].update(port=port))
    assert crds.findings(manifest) == []


def test_int_or_string_takes_nothing_else(crds: CrdIndex) -> None:
    manifest = changed(INGRESS_ROUTE, lambda m: m["spec"]["routes"][0]["services"][0].update(port=80.5))
    assert crds.findings(manifest) == [
        "spec.routes[0].services[0].port: 80.5 is not valid under any of the given schemas"
    ]


def test_preserve_unknown_fields_keeps_any_subtree(crds: CrdIndex) -> None:
    values = {"controlplane": {"env": {"A": "1"}, "ingresses": [{"enabled": True, "tls": None}]}, "replicas": 2}

    def set_values(m: dict[str, Any]) -> None:
        m["spec"]["source"]["helm"]["valuesObject"] = values

    assert crds.findings(changed(APPLICATION, set_values)) == []
    # Beside that subtree, the Application's fields are closed again.
    misspelt = changed(APPLICATION, lambda m: m["spec"]["source"]["helm"].update(valueObject=values))
    assert crds.findings(misspelt) == ["spec.source.helm.valueObject: unknown field"]


def test_cel_rules_are_counted_not_evaluated(crds: CrdIndex) -> None:
    too_few = changed(SCALED_OBJECT, lambda m: m["spec"].update(minReplicaCount=7))
    assert crds.cel_rule_count("keda.sh/v1alpha1", "ScaledObject") == 1
    assert crds.findings(too_few) == []  # the rule below would refuse it on the cluster
    assert crds.unchecked_cel_rules(too_few) == [
        "spec: !has(self.minReplicaCount) || self.minReplicaCount <= "
        "(has(self.maxReplicaCount) ? self.maxReplicaCount : 100)"
    ]


def test_go_patterns_with_inline_flags_are_checked(crds: CrdIndex) -> None:
    # PrometheusRule's partial_response_strategy has the RE2 pattern ^(?i)(abort|warn)?$.
    assert python_pattern("^(?i)(abort|warn)?$") == "^(?i:(abort|warn)?$)"
    assert python_pattern("x(?i)y|z") == "x(?i:y)|(?i:z)"
    assert crds.unchecked_patterns("monitoring.coreos.com/v1", "PrometheusRule") == ()

    def set_strategy(value: str) -> Callable[[dict[str, Any]], object]:
        return lambda m: m["spec"]["groups"][0].update(partial_response_strategy=value)

    assert crds.findings(changed(PROMETHEUS_RULE, set_strategy("Warn"))) == []
    assert crds.findings(changed(PROMETHEUS_RULE, set_strategy("ignore"))) == [
        "spec.groups[0].partial_response_strategy: 'ignore' does not match '^(?i:(abort|warn)?$)'"
    ]


# --- server-side apply: keyed lists ----------------------------------------------------


def deployment(containers: Sequence[dict[str, Any]]) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "tractus-x"},
        "spec": {
            "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": list(containers)}},
        },
    }


def container(name: str = "app", **fields: Any) -> dict[str, Any]:
    return {"name": name, "image": "registry.example.org/web:1.0", **fields}


CONTAINERS = '.spec.template.spec.containers[name="app"]'


def test_duplicate_env_names_are_found() -> None:
    env = [{"name": "FOO", "value": "1"}, {"name": "BAR", "value": "2"}, {"name": "FOO", "value": "3"}]
    assert duplicate_list_key_findings(deployment([container(env=env)])) == [
        f'Deployment/web: {CONTAINERS}.env: duplicate entries for key [name="FOO"]'
    ]


def test_duplicate_container_names_are_found() -> None:
    assert duplicate_list_key_findings(deployment([container(), container()])) == [
        'Deployment/web: .spec.template.spec.containers: duplicate entries for key [name="app"]'
    ]


def test_ports_are_keyed_by_container_port_and_protocol() -> None:
    # protocol defaults to TCP, so an omitted protocol is the same key as "TCP".
    same = [{"containerPort": 8080}, {"containerPort": 8080, "protocol": "TCP", "name": "http"}]
    assert duplicate_list_key_findings(deployment([container(ports=same)])) == [
        f'Deployment/web: {CONTAINERS}.ports: duplicate entries for key [containerPort=8080,protocol="TCP"]'
    ]
    different = [{"containerPort": 8080, "protocol": "TCP"}, {"containerPort": 8080, "protocol": "UDP"}]
    assert duplicate_list_key_findings(deployment([container(ports=different)])) == []


def test_service_ports_are_keyed_by_port_and_protocol() -> None:
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "web"},
        "spec": {"ports": [{"port": 80, "name": "http"}, {"port": 80, "protocol": "TCP", "name": "web"}]},
    }
    assert duplicate_list_key_findings(service) == [
        'Service/web: .spec.ports: duplicate entries for key [port=80,protocol="TCP"]'
    ]


def test_atomic_lists_may_repeat_items() -> None:
    toleration = {"key": "dedicated", "operator": "Exists", "effect": "NoSchedule"}
    manifest = deployment([container()])
    manifest["spec"]["template"]["spec"]["tolerations"] = [toleration, toleration]
    assert duplicate_list_key_findings(manifest) == []


def test_a_keyed_item_without_its_key_is_found() -> None:
    manifest = deployment([container(env=[{"value": "1"}])])
    assert duplicate_list_key_findings(manifest) == [
        f"Deployment/web: {CONTAINERS}.env: element 0: associative list with keys has an element that omits key "
        'field "name" (and doesn\'t have default value)'
    ]


def test_crd_list_map_keys_are_used(crds: CrdIndex) -> None:
    assert crds.list_map_keys("monitoring.coreos.com/v1", "PrometheusRule") == {
        ".spec.groups": ListType("map", ("name",)),
        ".status.bindings": ListType("map", ("group", "resource", "name", "namespace")),
        ".status.bindings[*].conditions": ListType("map", ("type",)),
    }
    twice = changed(PROMETHEUS_RULE, lambda m: m["spec"]["groups"].append(copy.deepcopy(m["spec"]["groups"][0])))
    assert duplicate_list_key_findings(twice, crds) == [
        'PrometheusRule/edc: .spec.groups: duplicate entries for key [name="edc"]'
    ]
    assert duplicate_list_key_findings(PROMETHEUS_RULE, crds) == []


def test_crd_list_sets_are_used(crds: CrdIndex) -> None:
    protocols = ["PrometheusProto", "OpenMetricsText1.0.0", "PrometheusProto"]
    manifest = changed(SERVICE_MONITOR, lambda m: m["spec"].update(scrapeProtocols=protocols))
    assert crds.findings(manifest) == []  # the schema itself takes it; apply does not
    assert duplicate_list_key_findings(manifest, crds) == [
        'ServiceMonitor/edc: .spec.scrapeProtocols: duplicate entries for key [="PrometheusProto"]'
    ]


def test_the_root_metadata_of_a_custom_resource_is_typed(crds: CrdIndex) -> None:
    finalizer = "resources-finalizer.argocd.argoproj.io"
    manifest = changed(APPLICATION, lambda m: m["metadata"].update(finalizers=[finalizer, finalizer]))
    assert duplicate_list_key_findings(manifest, crds) == [
        f'Application/edc: .metadata.finalizers: duplicate entries for key [="{finalizer}"]'
    ]


def test_kinds_without_a_schema_have_nothing_to_check() -> None:
    assert duplicate_list_key_findings(PROMETHEUS_RULE) == []


def test_the_connector_chart_lists_six_controlplane_variables_twice(connector: dict[str, dict[str, Any]]) -> None:
    # tractusx-connector 0.12.1, templates/deployment-controlplane.yaml: the catalog
    # settings are rendered twice into the controlplane container's env.
    env = '.spec.template.spec.containers[name="tractusx-connector"].env'
    assert duplicate_list_key_findings(connector["edc-tractusx-connector-controlplane"]) == [
        f'Deployment/edc-tractusx-connector-controlplane: {env}: duplicate entries for key [name="{name}"]'
        for name in (
            "WEB_HTTP_CATALOG_PORT",
            "WEB_HTTP_CATALOG_PATH",
            "WEB_HTTP_CATALOG_AUTH_TYPE",
            "WEB_HTTP_CATALOG_AUTH_KEY",
            "EDC_CATALOG_CACHE_EXECUTION_ENABLED",
            "TX_EDC_CATALOG_NODE_LIST_FILE",
        )
    ]
    assert duplicate_list_key_findings(connector["edc-tractusx-connector-dataplane"]) == []
