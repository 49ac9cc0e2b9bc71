"""offline.values_usage: value keys a pinned chart never reads, against the real charts
(TRACTUSX_CHART_REPO) and the real helm, plus the scope tracker on small templates."""

from __future__ import annotations

import io
import os
import random
import tarfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from offline.render import RenderError, template_archive
from offline.values_usage import (
    ChartReferences,
    Render,
    dotted,
    referenced_paths,
    template_references,
    unread_values,
    value_leaves,
)

CLOUDWATCH = "prometheus-yet-another-cloudwatch-exporter-0.47.0.tgz"
CONNECTOR = "tractusx-connector-0.12.1.tgz"
STACK = "kube-prometheus-stack-88.5.3.tgz"


# --- Fixtures --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def chart_repo() -> Path:
    directory = os.environ.get("TRACTUSX_CHART_REPO")
    if not directory:
        pytest.fail("TRACTUSX_CHART_REPO is not set: point it at the pinned chart packages (e.g. /work/shared/charts)")
    return Path(directory)


def renderer(chart: Path) -> Render:
    """The chart rendered by the real helm, as the plan renders charts (offline/render.py)."""

    def render(values: Mapping[str, Any]) -> str:
        return template_archive(chart, "release", "default", "1.35", values=values)

    return render


def unread(chart: Path, values: Mapping[str, Any]) -> list[str]:
    return unread_values(chart, values, renderer(chart))


def refs(source: str) -> ChartReferences:
    return template_references(source)


# --- Leaves ----------------------------------------------------------------------------


def test_leaves_are_scalars_lists_and_empty_maps() -> None:
    values = {"a": {"b": 1, "c": {"d": [1, 2]}, "e": {}}, "f": None, "g": "x"}
    assert value_leaves(values) == [("a", "b"), ("a", "c", "d"), ("a", "e"), ("f",), ("g",)]


def test_dotted_brackets_keys_with_dots() -> None:
    assert dotted(("serviceMonitor", "enabled")) == "serviceMonitor.enabled"
    assert dotted(("sa", "annotations", "eks.amazonaws.com/role-arn")) == 'sa.annotations["eks.amazonaws.com/role-arn"]'


# --- The scope tracker on small templates ----------------------------------------------


def test_values_chains_from_any_holder() -> None:
    found = refs('{{ .Values.a.b }} {{ $.Values.c }} {{ $root.Values.d.e }} {{ include "x" .context.Values.f }}')
    assert found.read >= {("a", "b"), ("c",), ("d", "e"), ("f",)}
    assert found.covers(("a", "b")) and found.covers(("a",)) and not found.covers(("a", "c"))


def test_with_resolves_relative_fields_and_else_restores_the_dot() -> None:
    found = refs("{{ with .Values.svc }}{{ .port }}{{ else }}{{ .name }}{{ end }}{{ .type }}")
    assert found.covers(("svc", "port"))
    assert not found.covers(("svc", "name"))  # the else branch has the outer dot
    assert not found.covers(("name",)) and not found.covers(("svc", "type")) and not found.covers(("type",))


def test_with_then_to_yaml_of_the_dot_reads_the_subtree() -> None:
    found = refs("{{- with .Values.podAnnotations }}\n  {{- toYaml . | nindent 4 }}\n{{- end }}")
    assert found.covers(("podAnnotations", "example.com/any"))


def test_range_reads_its_subtree_whole_and_binds_the_element() -> None:
    found = refs("{{ range $name, $host := .Values.hosts }}{{ $host.tls.secret }}{{ end }}{{ $host.other }}")
    assert ("hosts", "*", "tls", "secret") in found.read
    assert found.covers(("hosts", "web", "anything"))
    assert not found.covers(("other",))


def test_range_dot_is_the_element() -> None:
    found = refs("{{ range .Values.mounts }}{{ .name }}{{ end }}")
    assert ("mounts", "*", "name") in found.read


def test_variables_resolve_and_stay_in_their_scope() -> None:
    source = (
        "{{ $svc := .Values.service }}{{ if $svc.enabled }}{{ $svc.port }}{{ end }}"
        '{{ define "t" }}{{ $svc.hidden }}{{ end }}'
        "{{ $svc.type }}"
    )
    found = refs(source)
    assert found.read == {("service",), ("service", "enabled"), ("service", "port"), ("service", "type")}
    assert found.wholesale == {("service", "port"), ("service", "type")}


def test_assignment_adds_to_what_a_variable_may_hold() -> None:
    found = refs("{{ $v := .Values.a }}{{ if .Values.b }}{{ $v = .Values.c }}{{ end }}{{ $v.x }}")
    assert {("a", "x"), ("c", "x")} <= found.read


def test_end_closes_if_with_range_define_and_block() -> None:
    source = (
        "{{ with .Values.a }}{{ if .on }}{{ range .list }}{{ end }}{{ end }}"
        '{{ define "d" }}{{ end }}{{ block "b" .Values.z }}{{ end }}{{ .inner }}{{ end }}{{ .outer }}'
    )
    found = refs(source)
    assert {("a", "on"), ("a", "list"), ("a", "inner")} <= found.read
    assert ("outer",) not in found.read and ("a", "outer") not in found.read
    assert ("z",) in found.wholesale  # handed to the block's body


def test_index_pluck_has_key_and_dig() -> None:
    source = (
        '{{ index .Values "a" "b" }}{{ if hasKey .Values.c "d" }}{{ end }}'
        '{{ pluck "e" .Values.f .Values.g | first }}{{ dig "h" "i" "none" .Values.AsMap }}'
        '{{ (index .Values.j "k").l }}'
    )
    found = refs(source)
    assert {("a", "b"), ("c", "d"), ("f", "e"), ("g", "e"), ("h", "i"), ("j", "k", "l")} <= found.read
    assert not found.covers(("c", "other"))


def test_index_with_a_key_known_only_at_render_time_is_a_wildcard() -> None:
    found = refs('{{ range $plane := list "control" "data" }}{{ index $.Values $plane "port" }}{{ end }}')
    assert found.covers(("control", "port")) and found.covers(("data", "port"))
    assert not found.covers(("control", "host"))


def test_to_yaml_and_printing_read_whole_but_tests_do_not() -> None:
    found = refs(
        "{{ if .Values.res }}{{ toYaml .Values.res | nindent 2 }}{{ end }}"
        '{{ if and .Values.probe (not .Values.off) }}{{ end }}{{ if eq .Values.mode "x" }}{{ end }}'
        '{{ .Values.labels | default dict | toJson }}{{ .Values.name | default "n" | quote }}'
    )
    assert found.covers(("res", "limits", "cpu"))
    assert found.covers(("labels", "team")) and found.covers(("name",))
    assert found.covers(("probe",)) and not found.covers(("probe", "path"))
    assert not found.covers(("mode", "sub"))


def test_subtrees_handed_to_templates_are_read_whole_but_the_whole_values_is_not() -> None:
    found = refs(
        '{{ include "image" .Values.image }}{{ include "labels" (dict "ctx" $ "Values" .Values "x" .Values.extra) }}'
        '{{ tpl .Values.config $ }}{{ include "all" . }}'
    )
    assert found.covers(("image", "anything")) and found.covers(("extra", "y")) and found.covers(("config", "k"))
    assert () not in found.wholesale
    assert not found.covers(("unrelated",))


def test_quoted_braces_and_comments_are_not_references() -> None:
    found = refs(
        '{{- /* {{ .Values.commented }} "quote */ -}}'
        '{{ .Values.bar | required ".Values.foo is required }}" }}{{ printf `}}%s` .Values.baz }}'
    )
    assert found.read == {("bar",), ("baz",)}


def test_else_if_and_else_with() -> None:
    found = refs(
        "{{ with .Values.a }}{{ .x }}{{ else with .Values.b }}{{ .y }}{{ else if .Values.c }}{{ .z }}{{ end }}"
    )
    assert {("a", "x"), ("b", "y"), ("c",)} <= found.read
    assert ("c", "z") not in found.read and ("z",) not in found.read


def test_an_action_that_does_not_parse_reads_its_values_whole_and_keeps_the_blocks() -> None:
    found = refs("{{ if .Values.a ) }}{{ with .Values.b }}{{ .c }}{{ end }}{{ end }}{{ .d }}")
    assert found.covers(("a", "anything"))
    assert ("b", "c") in found.read and ("d",) not in found.read


def test_covers_wildcards_ancestors_and_subtrees() -> None:
    found = ChartReferences(read=frozenset({("a", "*", "port"), ("b", "c")}), wholesale=frozenset({("w", "*")}))
    assert found.covers(("a", "web", "port")) and found.covers(("a", "web")) and found.covers(("b",))
    assert not found.covers(("a", "web", "host")) and not found.covers(("b", "d"))
    assert found.covers(("w", "x", "y", "z")) and found.covers(("w",)) and not found.covers(("v",))


def test_relocated_puts_a_subchart_under_its_key_and_keeps_global() -> None:
    sub = ChartReferences(read=frozenset({("port",), ("global", "region")}), wholesale=frozenset({("*",), ()}))
    moved = sub.relocated(("db",))
    assert moved.read == {("db", "port"), ("global", "region")}
    assert moved.wholesale == {("db", "*"), ("global",), ("db",)}


# --- Subcharts, aliases, libraries, globals (a chart built here, rendered by helm) -----

PARENT_CHART = {
    "parent/Chart.yaml": """
apiVersion: v2
name: parent
version: 0.1.0
dependencies:
  - {name: database, version: 0.1.0, alias: db, condition: db.enabled}
  - {name: common, version: 0.1.0}
""",
    "parent/templates/cm.yaml": """
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Values.name }}
data:
  team: {{ include "common.team" . | quote }}
""",
    "parent/charts/database/Chart.yaml": "apiVersion: v2\nname: database\nversion: 0.1.0\n",
    "parent/charts/database/templates/svc.yaml": """
apiVersion: v1
kind: Service
metadata:
  name: db
  annotations:
    region: {{ .Values.global.region | quote }}
spec:
  ports:
    - port: {{ .Values.port }}
""",
    "parent/charts/common/Chart.yaml": "apiVersion: v2\nname: common\ntype: library\nversion: 0.1.0\n",
    "parent/charts/common/templates/_helpers.tpl": '{{- define "common.team" -}}{{ .Values.team }}{{- end -}}\n',
}
PARENT_VALUES = {
    "name": "settings",
    "team": "platform",
    "typo": 1,
    "db": {"enabled": True, "port": 5432, "portt": 5433},
    "global": {"region": "eu-central-1", "regoin": "x"},
}


@pytest.fixture(scope="module")
def parent_chart(tmp_path_factory: pytest.TempPathFactory) -> Path:
    package = tmp_path_factory.mktemp("charts") / "parent-0.1.0.tgz"
    with tarfile.open(package, "w:gz") as archive:
        for name, text in PARENT_CHART.items():
            data = text.lstrip().encode()
            member = tarfile.TarInfo(name)
            member.size = len(data)
            archive.addfile(member, io.BytesIO(data))
    return package


def test_subchart_values_live_under_the_alias_and_globals_are_shared(parent_chart: Path) -> None:
    found = referenced_paths(parent_chart)
    assert found.covers(("db", "port"))  # the subchart's .Values.port
    assert not found.covers(("port",)) and not found.covers(("database", "port"))
    assert found.covers(("global", "region"))  # the subchart's .Values.global.region
    assert found.covers(("db", "enabled"))  # the dependency's condition, read by helm
    assert found.covers(("team",))  # the library's helper reads the including chart's values


def test_subchart_and_global_keys_confirmed_by_helm(parent_chart: Path) -> None:
    assert unread(parent_chart, PARENT_VALUES) == ["typo", "db.portt", "global.regoin"]


# --- Confirmation (a stand-in render) ---------------------------------------------------


def template_less_chart(folder: Path) -> Path:
    """A chart with no templates: every key is a candidate, so the render decides."""
    package = folder / "none.tgz"
    with tarfile.open(package, "w:gz") as archive:
        data = b"apiVersion: v2\nname: none\nversion: 0.1.0\n"
        member = tarfile.TarInfo("none/Chart.yaml")
        member.size = len(data)
        archive.addfile(member, io.BytesIO(data))
    return package


def test_random_lines_do_not_make_every_key_look_read(tmp_path: Path) -> None:
    package = template_less_chart(tmp_path)

    def render(values: Mapping[str, Any]) -> str:
        # `a` shows; a password is generated anew on every render.
        return f"a: {values.get('a')}\npassword: {random.random()}\n"

    assert unread_values(package, {"a": 1, "b": True, "c": {"d": "x"}}, render) == ["b", "c.d"]


def test_a_render_error_under_a_change_counts_as_read(tmp_path: Path) -> None:
    package = template_less_chart(tmp_path)

    def render(values: Mapping[str, Any]) -> str:
        if "needed" not in values:
            raise RuntimeError("needed is required")
        return "same\n"

    assert unread_values(package, {"needed": "x", "ignored": "y"}, render) == ["ignored"]


# --- The real charts --------------------------------------------------------------------

YACE_VALUES: dict[str, Any] = {
    "serviceAccount": {
        "create": True,
        "name": "yace",
        "annotations": {"eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/yace"},
    },
    "config": "apiVersion: v1alpha1\ndiscovery:\n  jobs: []\n",
    "service": {"enabled": True},
    "serviceMonitor": {"enabled": True, "interval": "300s"},
    "podSecurityContext": {"runAsNonRoot": True, "runAsUser": 65534, "seccompProfile": {"type": "RuntimeDefault"}},
    "resources": {"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"cpu": "200m", "memory": "256Mi"}},
}


def test_cloudwatch_exporter_reports_service_enabled(chart_repo: Path) -> None:
    # The chart always renders its Service and has no such switch; every other key
    # (serviceMonitor.enabled, resources.limits.memory, ...) is read.
    assert unread(chart_repo / CLOUDWATCH, YACE_VALUES) == ["service.enabled"]


def test_cloudwatch_exporter_reports_a_global_no_template_reads(chart_repo: Path) -> None:
    values = {**YACE_VALUES, "global": {"imageRegistry": "registry.example"}}
    assert unread(chart_repo / CLOUDWATCH, values) == ["service.enabled", "global.imageRegistry"]


def test_cloudwatch_exporter_key_only_in_a_disabled_branch_is_not_reported(chart_repo: Path) -> None:
    # serviceMonitor.interval is read only inside `if .Values.serviceMonitor.enabled`:
    # off, it makes no difference to the rendering, yet it is the chart's key and takes
    # effect when the ServiceMonitor is switched on, so it is not reported.
    values = {**YACE_VALUES, "serviceMonitor": {"enabled": False, "interval": "300s"}}
    render = renderer(chart_repo / CLOUDWATCH)
    assert render(values) == render({**values, "serviceMonitor": {"enabled": False}})
    assert unread_values(chart_repo / CLOUDWATCH, values, render) == ["service.enabled"]


def test_cloudwatch_exporter_static_references(chart_repo: Path) -> None:
    found = referenced_paths(chart_repo / CLOUDWATCH)
    assert found.covers(("serviceMonitor", "enabled")) and found.covers(("resources", "limits", "memory"))
    # only inside `with .Values.service.annotations` + `toYaml .`
    assert found.covers(("service", "annotations", "example.com/team"))
    assert not found.covers(("service", "enabled"))


# What tractusx-connector 0.12.1 needs to render: its `required` values.
CONNECTOR_VALUES: dict[str, Any] = {
    "install": {"postgresql": False, "vault": False},
    "participant": {"id": "BPNL000000000001"},
    "iatp": {
        "id": "did:web:connector.example.org",
        "trustedIssuers": ["did:web:issuer.example.org"],
        "sts": {
            "dim": {"url": "https://wallet.example.org/sts"},
            "div": {"url": "https://wallet.example.org/sts"},
            "oauth": {
                "token_url": "https://wallet.example.org/oauth/token",
                "client": {"id": "connector", "secret_alias": "sts-client-secret"},
            },
        },
    },
    "controlplane": {"bdrs": {"server": {"url": "https://bdrs.example.org/api"}}},
    "dataplane": {"token": {"signer": {"privatekey_alias": "signer"}, "verifier": {"publickey_alias": "verifier"}}},
}


def test_connector_reports_the_sts_div_url(chart_repo: Path) -> None:
    # 0.12.1 reads iatp.sts.dim.url; iatp.id, the trusted issuers and the rest are read.
    assert unread(chart_repo / CONNECTOR, CONNECTOR_VALUES) == ["iatp.sts.div.url"]


def test_connector_subchart_of_a_disabled_dependency_is_still_its_key(chart_repo: Path) -> None:
    # The Vault subchart is off (install.vault: false), but vault.server.dev.enabled is
    # its key (read in a switched-off branch); vault.serverr is not.
    values = {**CONNECTOR_VALUES, "vault": {"server": {"dev": {"enabled": True}}, "serverr": {"x": 1}}}
    assert unread(chart_repo / CONNECTOR, values) == ["iatp.sts.div.url", "vault.serverr.x"]


REQUESTS = {"requests": {"cpu": "100m", "memory": "256Mi"}, "limits": {"cpu": "500m", "memory": "512Mi"}}
VOLUME = {"storageClassName": "gp3", "accessModes": ["ReadWriteOnce"]}
# kube-prometheus-stack as the platform configures it (about 100 leaves), with a few keys
# the chart does not have. Grafana's admin password is left to the chart, which makes a
# new one on every render: the comparison has to see through it.
STACK_VALUES: dict[str, Any] = {
    "crds": {"enabled": True},
    "global": {"imageRegistry": "registry.example.org", "imagePullSecrets": ["pull"], "notAGlobal": "x"},
    "defaultRules": {"disabled": {"KubePodCrashLooping": True, "KubeHpaMaxedOut": True}},
    "prometheus": {
        "thanosService": {"enabled": True},
        "thanosServiceMonitor": {"enabled": True},
        "podDisruptionBudget": {"enabled": True, "minAvailable": 5},
        # Read only through `$serviceValues := .Values.prometheus.servicePerReplica`,
        # inside `if .Values.prometheus.servicePerReplica.enabled` (off).
        "servicePerReplica": {"clusterIP": "None"},
        "prometheusSpec": {
            "replicas": 3,
            "shards": 2,
            "retention": "15d",
            "retentionSize": "45GB",
            "resources": REQUESTS,
            "storageSpec": {
                "volumeClaimTemplate": {"spec": {**VOLUME, "resources": {"requests": {"storage": "50Gi"}}}}
            },
            "externalLabels": {"cluster": "tx", "environment": "prod", "shard": "$(SHARD)"},
            "additionalAlertRelabelConfigs": [{"action": "labeldrop", "regex": "shard"}],
            "thanos": {"image": "quay.io/thanos/thanos:v0.39.2", "version": "v0.39.2", "resources": REQUESTS},
            "ruleSelectorNilUsesHelmValues": False,
            "serviceMonitorSelectorNilUsesHelmValues": False,
            "podMonitorSelectorNilUsesHelmValues": False,
            "probeSelectorNilUsesHelmValues": False,
            "podAntiAffinity": "soft",
            "podAntiAffinityTopologyKey": "topology.kubernetes.io/zone",
            "scrapeInterval": "30s",
            "evaluationInterval": "30s",
            "walCompression": True,
            "priorityClassName": "system-cluster-critical",
            "securityContext": {"runAsNonRoot": True, "runAsUser": 1000, "runAsGroup": 2000, "fsGroup": 2000},
            "notAKey": True,
        },
    },
    "alertmanager": {
        "podDisruptionBudget": {"enabled": True, "minAvailable": 2},
        "alertmanagerSpec": {
            "replicas": 3,
            "configSecret": "alertmanager-config",
            "useExistingSecret": True,
            "secrets": ["alertmanager-credentials"],
            "storage": {"volumeClaimTemplate": {"spec": {**VOLUME, "resources": {"requests": {"storage": "5Gi"}}}}},
            "resources": REQUESTS,
            "podAntiAffinity": "soft",
            "podAntiAffinityTopologyKey": "topology.kubernetes.io/zone",
            "retention": "120h",
            "logLevel": "info",
        },
    },
    "grafana": {
        "replicas": 2,
        "notAKey": 1,
        "sidecar": {
            "dashboards": {"enabled": True, "label": "grafana_dashboard", "searchNamespace": "ALL"},
            "datasources": {"url": "http://thanos-query.monitoring:9090"},
        },
        "resources": REQUESTS,
    },
    "kube-state-metrics": {"replicas": 2, "resources": REQUESTS},
    "prometheus-node-exporter": {"resources": REQUESTS, "hostNetwork": True},
    "prometheusOperator": {
        "resources": REQUESTS,
        "admissionWebhooks": {
            "patch": {"resources": REQUESTS},
            # Read only as `.securityContext` inside `with ...patchWebhookJob`.
            "patchWebhookJob": {"securityContext": {"runAsUser": 2000}, "notAKey": "x"},
        },
    },
    "kubeStateMetrics": {"enabled": True},
    "nodeExporter": {"enabled": True},
    "kubeControllerManager": {"enabled": False},
    "kubeScheduler": {"enabled": False},
    "kubeEtcd": {"enabled": False},
    "kubeProxy": {"enabled": True},
}


@pytest.fixture(scope="module")
def stack_unread(chart_repo: Path) -> list[str]:
    return unread(chart_repo / STACK, STACK_VALUES)


def test_stack_reports_exactly_the_keys_it_does_not_have(stack_unread: list[str]) -> None:
    assert len(value_leaves(STACK_VALUES)) == 100
    assert stack_unread == [
        "global.notAGlobal",
        "prometheus.prometheusSpec.notAKey",
        "grafana.notAKey",
        "prometheusOperator.admissionWebhooks.patchWebhookJob.notAKey",
    ]


def test_stack_subchart_keys(chart_repo: Path, stack_unread: list[str]) -> None:
    found = referenced_paths(chart_repo / STACK)
    assert found.covers(("grafana", "replicas")) and "grafana.replicas" not in stack_unread
    assert not found.covers(("grafana", "notAKey")) and "grafana.notAKey" in stack_unread
    # kube-state-metrics has no alias: its values are under the chart's name.
    assert found.covers(("kube-state-metrics", "replicas")) and not found.covers(("kubeStateMetrics", "replicas"))
    assert found.covers(("kubeStateMetrics", "enabled"))  # the dependency's condition


def test_stack_global_keys(chart_repo: Path, stack_unread: list[str]) -> None:
    found = referenced_paths(chart_repo / STACK)
    assert found.covers(("global", "imageRegistry")) and found.covers(("global", "imagePullSecrets"))
    assert not found.covers(("global", "notAGlobal")) and not found.covers(("grafana", "global", "imageRegistry"))
    assert "global.imageRegistry" not in stack_unread and "global.notAGlobal" in stack_unread


def test_stack_key_read_only_inside_a_with_block(chart_repo: Path, stack_unread: list[str]) -> None:
    found = referenced_paths(chart_repo / STACK)
    leaf = ("prometheusOperator", "admissionWebhooks", "patchWebhookJob", "securityContext", "runAsUser")
    assert found.covers(leaf) and dotted(leaf) not in stack_unread
    assert not found.covers(("prometheusOperator", "admissionWebhooks", "patchWebhookJob", "notAKey"))


def test_stack_key_under_a_to_yaml_subtree_is_not_reported(chart_repo: Path, stack_unread: list[str]) -> None:
    found = referenced_paths(chart_repo / STACK)
    assert found.covers(("prometheus", "prometheusSpec", "resources", "limits", "cpu"))
    assert found.covers(("prometheus", "prometheusSpec", "externalLabels", "anyLabel"))
    assert "prometheus.prometheusSpec.externalLabels.shard" not in stack_unread


def test_stack_key_read_only_in_a_disabled_branch_is_not_reported(chart_repo: Path, stack_unread: list[str]) -> None:
    # servicePerReplica.clusterIP makes no difference while servicePerReplica is off
    # (helm shows it), but it is the chart's key: not reported (module docstring).
    values = {
        "grafana": {"admin": {"existingSecret": "grafana-admin"}},  # no random password
        "prometheus": {"servicePerReplica": {"clusterIP": "None"}},
    }
    render = renderer(chart_repo / STACK)
    assert render(values) == render({**values, "prometheus": {"servicePerReplica": {}}})
    assert referenced_paths(chart_repo / STACK).covers(("prometheus", "servicePerReplica", "clusterIP"))
    assert "prometheus.servicePerReplica.clusterIP" not in stack_unread


def test_a_failing_baseline_render_is_an_error(chart_repo: Path) -> None:
    # The key is a candidate, so the baseline is rendered: helm's error is raised.
    with pytest.raises(RenderError, match=r"\.Values\.iatp\.sts\.oauth\.token_url is required"):
        unread(chart_repo / CONNECTOR, {"iatp": {"sts": {"div": {"url": "https://x"}}}})
