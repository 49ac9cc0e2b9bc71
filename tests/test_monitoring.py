"""monitoring: Prometheus as "Horizontal Scaling" sizes it, Alertmanager routing as
"Alerting Channels" says, Grafana's password generated, the playbook's alert rules."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml

from components import alerting, monitoring, replication
from components.alerts import Alert, AlertParameters, prometheus_rule_spec, rule_groups
from components.settings import DEFAULT_PROMETHEUS_URL, AlertingSettings, Secret
from offline.checks import is_secret, plain
from offline.harness import SECRET_PLACEHOLDER, StackRun
from offline.observability import alertmanager_config_passes_amtool, alertmanager_text, routes_for
from offline.render import StackRendering
from tests.conftest import IMAGE_REGISTRIES, release
from tests.promtool import require

RELEASE = "kubernetes:helm.sh/v3:Release"
SECRET = "kubernetes:core/v1:Secret"


def secret(run: StackRun, name: str) -> dict[str, Any]:
    (found,) = [r.inputs for r in run.of_type(SECRET) if r.inputs["metadata"]["name"] == name]
    return found


def secret_values(data: Any) -> dict[str, Any]:
    """stringData whose values are each secret (a map holding a secret arrives wrapped whole)."""
    if is_secret(data):
        return {key: {**data, "value": value} for key, value in data["value"].items()}
    return dict(data)


def test_prometheus_runs_as_the_playbook_sizes_it(stack: StackRun) -> None:
    stack_release = release(stack, "kube-prometheus-stack")
    assert stack_release.inputs["version"] == "88.5.3"
    spec = plain(stack_release.inputs["values"])["prometheus"]["prometheusSpec"]
    assert (spec["replicas"], spec["shards"], spec["retention"]) == (3, 2, "30d")
    assert spec["resources"] == {
        "requests": {"memory": "2Gi", "cpu": "1000m"},
        "limits": {"memory": "4Gi", "cpu": "2000m"},
    }
    claim = spec["storageSpec"]["volumeClaimTemplate"]["spec"]
    assert claim["storageClassName"] == "gp3-encrypted"
    assert spec["ruleSelectorNilUsesHelmValues"] is False  # the platform's PrometheusRule is picked up
    prometheus = plain(stack_release.inputs["values"])["prometheus"]
    assert prometheus["podDisruptionBudget"] == {"enabled": True, "minAvailable": 5}  # one pod at a time


def test_alertmanager_is_highly_available_and_reads_its_config_from_secrets(stack: StackRun) -> None:
    values = plain(release(stack, "kube-prometheus-stack").inputs["values"])
    spec = values["alertmanager"]["alertmanagerSpec"]
    assert spec["replicas"] >= 3
    assert values["alertmanager"]["podDisruptionBudget"] == {"enabled": True, "minAvailable": spec["replicas"] - 1}
    assert spec["configSecret"] == alerting.CONFIG_SECRET
    assert spec["useExistingSecret"] is True  # the chart renders no second, default config
    assert spec["secrets"] == [alerting.CREDENTIALS_SECRET]
    assert spec["storage"]["volumeClaimTemplate"]["spec"]["storageClassName"] == "gp3-encrypted"


def test_grafana_admin_password_is_generated_into_the_secret_the_chart_reads(stack: StackRun) -> None:
    values = plain(release(stack, "kube-prometheus-stack").inputs["values"])
    admin = values["grafana"]["admin"]
    grafana_secret = secret(stack, admin["existingSecret"])
    password = secret_values(grafana_secret["stringData"])[admin["passwordKey"]]
    assert is_secret(password)
    assert "adminPassword" not in values["grafana"]
    assert password["value"] not in json.dumps(values)


def test_alerting_credentials_live_only_in_their_secret(stack: StackRun) -> None:
    data = secret_values(secret(stack, alerting.CREDENTIALS_SECRET)["stringData"])
    assert set(data) == {alerting.PAGERDUTY_KEY, alerting.SLACK_KEY, alerting.SMTP_PASSWORD_KEY, "heartbeat-url"}
    assert all(is_secret(value) for value in data.values())
    config = alertmanager_text(stack)
    assert config is not None and SECRET_PLACEHOLDER not in config
    for r in stack.of_type(RELEASE):
        assert SECRET_PLACEHOLDER not in json.dumps(plain(r.inputs["values"]))


def test_the_prometheus_rule_carries_the_platforms_rule_groups(stack: StackRun) -> None:
    (rule,) = stack.of_type("kubernetes:monitoring.coreos.com/v1:PrometheusRule")
    prefix = f"tx-{stack.exports['environment']}"
    # A pilot-light dr stack's backup jobs are suspended, and so are their alerts.
    suspended = stack.exports["role"] == "dr" and not stack.exports["drActive"]
    # The dr stack replicates prod's backups and alerts on that replication.
    rule_id = replication.RULE_ID if stack.exports["role"] == "dr" else None
    # The dr stack watches prod's edge from its region.
    watches = stack.exports["role"] == "dr"
    expected = prometheus_rule_spec(
        rule_groups(AlertParameters(f"{prefix}-postgres", 100, suspended, rule_id, watches_primary_edge=watches))
    )
    assert plain(rule.inputs["spec"]) == expected
    stack_urn = release(stack, "kube-prometheus-stack").urn
    assert stack_urn in rule.dependencies  # its CRD comes with the chart


def test_blackbox_exporter_probes_every_served_host_where_its_ingress_routes(stack: StackRun) -> None:
    (probe,) = [
        p
        for p in stack.of_type("kubernetes:monitoring.coreos.com/v1:Probe")
        if p.inputs["metadata"]["name"] == "platform-endpoints"
    ]
    domain = stack.exports["domain"]
    assert probe.inputs["spec"]["targets"]["staticConfig"]["static"] == [
        f"https://edc.{domain}/api/v1/dsp",
        f"https://edc-data.{domain}/api/public",
    ]
    assert probe.inputs["spec"]["prober"]["url"].startswith(monitoring.BLACKBOX_RELEASE)
    blackbox = release(stack, "prometheus-blackbox-exporter")
    assert blackbox.inputs["version"] == "11.17.2"
    # Served: TLS verified, the product's answer (the connector's APIs say 401 to an
    # anonymous GET), never Traefik's own 404 for an unrouted host nor a 5xx.
    module = plain(blackbox.inputs["values"])["config"]["modules"][probe.inputs["spec"]["module"]]
    http = module["http"]
    assert http["fail_if_not_ssl"] is True and "insecure_skip_verify" not in str(module)
    assert 401 in http["valid_status_codes"] and 404 in http["valid_status_codes"]
    assert not any(code >= 500 for code in http["valid_status_codes"])
    assert http["fail_if_body_matches_regexp"] == ["^404 page not found"]


def test_cloudwatch_exporter_reads_metrics_only_through_its_own_service_account(stack: StackRun) -> None:
    values = plain(release(stack, "prometheus-yet-another-cloudwatch-exporter").inputs["values"])
    role_arn = values["serviceAccount"]["annotations"]["eks.amazonaws.com/role-arn"]
    (role,) = [r for r in stack.of_type("aws:iam/role:Role") if role_arn.endswith(r.name)]
    trust = json.loads(role.inputs["assumeRolePolicy"])
    assert json.dumps(trust).count("system:serviceaccount:monitoring:cloudwatch-exporter") == 1
    (statement,) = json.loads(monitoring.cloudwatch_policy())["Statement"]
    assert sorted(statement["Action"]) == ["cloudwatch:GetMetricData", "cloudwatch:ListMetrics", "tag:GetResources"]
    assert "AWS/RDS" in values["config"] and f"^{stack.exports['environment']}$" in values["config"]


def _alert_names(run: StackRun) -> set[str]:
    (rule,) = run.of_type("kubernetes:monitoring.coreos.com/v1:PrometheusRule")
    return {r["alert"] for group in plain(rule.inputs["spec"])["groups"] for r in group["rules"] if "alert" in r}


def test_dr_exports_the_s3_replication_metrics_of_prods_backup_bucket_from_prods_region(dr: StackRun) -> None:
    """README DR, backup RPO (S3 RTC 15 min): the replication rule's metrics live in AWS/S3 of
    the SOURCE bucket's region, per SourceBucket, DestinationBucket and RuleId."""
    (config,) = dr.of_type("aws:s3/bucketReplicationConfig:BucketReplicationConfig")
    (rule,) = config.inputs["rules"]
    (provider,) = [p for p in dr.of_type("pulumi:providers:aws") if p.name.endswith("-primary-region")]
    values = plain(release(dr, "prometheus-yet-another-cloudwatch-exporter").inputs["values"])
    (job,) = yaml.safe_load(values["config"])["static"]
    assert job["namespace"] == "AWS/S3"
    assert job["regions"] == [provider.inputs["region"]] != [dr.exports["region"]]
    assert job["dimensions"] == [
        {"name": "SourceBucket", "value": config.inputs["bucket"]},
        {"name": "DestinationBucket", "value": rule["destination"]["bucket"].removeprefix("arn:aws:s3:::")},
        {"name": "RuleId", "value": rule["id"]},
    ]
    assert job["dimensions"][0]["value"] != job["dimensions"][1]["value"]
    assert {(m["name"], tuple(m["statistics"])) for m in job["metrics"]} == {
        ("ReplicationLatency", ("Maximum",)),
        ("OperationsFailedReplication", ("Sum",)),
    }
    assert {"BackupReplicationFailing", "BackupReplicationLagging"} <= _alert_names(dr)
    # The alerts select the series of the rule the dr stack configured, not another one.
    (prometheus_rule,) = dr.of_type("kubernetes:monitoring.coreos.com/v1:PrometheusRule")
    exprs = [
        r["expr"]
        for group in plain(prometheus_rule.inputs["spec"])["groups"]
        for r in group["rules"]
        if r.get("alert", "").startswith("BackupReplication")
    ]
    assert len(exprs) == 2 and all(f'dimension_RuleId="{rule["id"]}"' in expr for expr in exprs)


def test_prod_replicates_nothing_so_it_exports_and_alerts_on_no_replication(prod: StackRun) -> None:
    values = plain(release(prod, "prometheus-yet-another-cloudwatch-exporter").inputs["values"])
    assert "static" not in yaml.safe_load(values["config"])
    assert not {"BackupReplicationFailing", "BackupReplicationLagging"} & _alert_names(prod)


def test_cloudwatch_exporter_is_scraped_through_the_service_its_service_monitor_selects(
    renderings: dict[str, StackRendering],
) -> None:
    for rendering in renderings.values():
        (chart,) = [c for c in rendering.charts if c.source.chart.name == "prometheus-yet-another-cloudwatch-exporter"]
        (monitor,) = [o for o in chart.objects if o["kind"] == "ServiceMonitor"]
        (service,) = [o for o in chart.objects if o["kind"] == "Service"]
        labels = service["metadata"]["labels"]
        assert monitor["spec"]["selector"]["matchLabels"].items() <= labels.items()
        (endpoint,) = monitor["spec"]["endpoints"]
        assert endpoint["port"] in {port["name"] for port in service["spec"]["ports"]}
        # ReplicaLag is published every minute: YACE asks CloudWatch and Prometheus asks YACE
        # as often (at their defaults, 300 s each, a lag would reach the alert ten minutes late).
        assert endpoint["interval"] == "60s"
        (deployment,) = [o for o in chart.objects if o["kind"] == "Deployment"]
        assert "--scraping-interval=60" in deployment["spec"]["template"]["spec"]["containers"][0]["command"]


def test_grafana_has_a_dashboard_for_each_key_metric_area(stack: StackRun) -> None:
    maps = [r.inputs for r in stack.of_type("kubernetes:core/v1:ConfigMap") if r.name.startswith("tractusx-monitoring")]
    names = {m["metadata"]["name"] for m in maps if m["metadata"]["labels"] == {monitoring.DASHBOARD_LABEL: "1"}}
    expected = {"cluster-health", "edc-connector", "databases", "backups", "certificates", "slas"}
    assert names == {f"dashboard-{area}" for area in expected}


SETTINGS = AlertingSettings(
    email_to=("platform-team@example.com",),
    email_from="alerts@example.com",
    smtp_smarthost="smtp.example.com:587",
    smtp_username="alerts@example.com",
    pagerduty_routing_key=Secret("key"),
    slack_webhook_url=Secret("https://hooks.slack.com/services/T0/B0/X"),
    smtp_password=Secret("password"),
    heartbeat_url=Secret("https://hc-ping.com/0f6e1f3a-5c1d-4b1e-9a7d-3b0c2f1e4d5a"),
)


@pytest.mark.parametrize(
    ("severity", "receivers"),
    [("critical", ("email-alerts", "pagerduty-critical")), ("warning", ("email-alerts", "slack-warnings")),
     ("info", ("email-alerts",))],
)  # fmt: skip
def test_each_severity_reaches_the_alerting_channels(severity: str, receivers: tuple[str, ...]) -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "alertmanager.yaml"
        path.write_text(alerting.alertmanager_yaml(SETTINGS))
        assert routes_for(require("amtool"), path, {"alertname": "X", "severity": severity}) == receivers


@pytest.mark.parametrize(
    ("heartbeat", "alertname", "receivers"),
    [(True, "Watchdog", ("watchdog-heartbeat",)), (False, "Watchdog", ("null",)),
     (True, "InfoInhibitor", ("null",)), (False, "InfoInhibitor", ("null",))],
)  # fmt: skip
def test_the_always_firing_watchdog_goes_to_the_heartbeat_alone_and_info_inhibitor_nowhere(
    heartbeat: bool, alertname: str, receivers: tuple[str, ...]
) -> None:
    """The dead man's switch: Watchdog pings the external heartbeat and no human channel."""
    settings = SETTINGS if heartbeat else dataclasses.replace(SETTINGS, heartbeat_url=None)
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "alertmanager.yaml"
        path.write_text(alerting.alertmanager_yaml(settings))
        assert routes_for(require("amtool"), path, {"alertname": alertname, "severity": "none"}) == receivers


def test_the_heartbeat_pings_every_minute_from_a_file_and_never_as_resolved() -> None:
    config = alerting.alertmanager_config(SETTINGS)
    (route,) = [r for r in config["route"]["routes"] if r["receiver"] == "watchdog-heartbeat"]
    assert (route["group_wait"], route["group_interval"], route["repeat_interval"]) == ("0s", "1m", "1m")
    (receiver,) = [r for r in config["receivers"] if r["name"] == "watchdog-heartbeat"]
    assert receiver["webhook_configs"] == [
        {"url_file": "/etc/alertmanager/secrets/alertmanager-credentials/heartbeat-url", "send_resolved": False}
    ]
    assert "hc-ping.com" not in alerting.alertmanager_yaml(SETTINGS)


def test_the_pinned_amtool_reads_url_file_and_still_refuses_a_bad_configuration(prod: StackRun) -> None:
    """Debian 12's amtool 0.25 refuses url_file (`field url_file not found`); the pinned one
    (tools/install-amtool) reads it, and still refuses a receiver it cannot use."""
    amtool = require("amtool")
    version = subprocess.run([amtool, "--version"], capture_output=True, text=True, check=True)
    assert version.stdout.startswith("amtool, version 0.28.1")
    assert "url_file: /etc/alertmanager/secrets/alertmanager-credentials/heartbeat-url" in str(alertmanager_text(prod))
    assert alertmanager_config_passes_amtool(prod) == []
    config = next(r for r in prod.of_type(SECRET) if r.inputs["metadata"]["name"] == alerting.CONFIG_SECRET)
    document = alerting.alertmanager_config(SETTINGS)
    (heartbeat,) = [r for r in document["receivers"] if r["name"] == "watchdog-heartbeat"]
    heartbeat["webhook_configs"][0]["url"] = "https://hc-ping.com/0f6e1f3a-5c1d-4b1e-9a7d-3b0c2f1e4d5a"
    broken = dataclasses.replace(
        config, inputs={**config.inputs, "stringData": {alerting.CONFIG_KEY: yaml.safe_dump(document)}}
    )
    (finding,) = alertmanager_config_passes_amtool(dataclasses.replace(prod, resources=[broken]))
    assert finding.startswith("amtool check-config:") and "at most one of url & url_file must be configured" in finding


def test_the_plan_check_fails_when_a_severity_misses_its_channel(prod: StackRun) -> None:
    assert alertmanager_config_passes_amtool(prod) == []
    require("amtool")
    no_slack = dataclasses.replace(SETTINGS, slack_webhook_url=None)
    config = next(r for r in prod.of_type(SECRET) if r.inputs["metadata"]["name"] == alerting.CONFIG_SECRET)
    broken = dataclasses.replace(
        config, inputs={**config.inputs, "stringData": {alerting.CONFIG_KEY: alerting.alertmanager_yaml(no_slack)}}
    )
    run = dataclasses.replace(prod, resources=[broken])
    assert alertmanager_config_passes_amtool(run) == [
        "severity=warning goes to email-alerts, not slack-warnings, email-alerts"
    ]


def test_the_plan_check_fails_when_the_watchdog_reaches_a_human_channel(prod: StackRun) -> None:
    config = next(r for r in prod.of_type(SECRET) if r.inputs["metadata"]["name"] == alerting.CONFIG_SECRET)
    document = alerting.alertmanager_config(SETTINGS)
    heartbeat = next(r for r in document["route"]["routes"] if r["receiver"] == "watchdog-heartbeat")
    heartbeat["receiver"] = "email-alerts"
    broken = dataclasses.replace(
        config, inputs={**config.inputs, "stringData": {alerting.CONFIG_KEY: yaml.safe_dump(document)}}
    )
    assert alertmanager_config_passes_amtool(dataclasses.replace(prod, resources=[broken])) == [
        "Watchdog goes to email-alerts, not watchdog-heartbeat or null"
    ]


def test_a_critical_alert_silences_the_warning_of_the_same_alert_and_target() -> None:
    (rule,) = alerting.alertmanager_config(SETTINGS)["inhibit_rules"]
    assert rule["source_matchers"] == ['severity="critical"']
    assert rule["target_matchers"] == ['severity="warning"']
    assert {"alertname", "namespace", "instance", "service"} <= set(rule["equal"])


def test_email_uses_alertmanagers_fields_not_the_playbooks_subject_and_body() -> None:
    config = alerting.alertmanager_config(SETTINGS)
    email = next(r for r in config["receivers"] if r["name"] == "email-alerts")["email_configs"][0]
    assert "subject" not in email and "body" not in email
    assert email["headers"]["Subject"] == "Tractus-X Alert: {{ .GroupLabels.alertname }}"
    assert config["global"]["smtp_require_tls"] is True


def test_every_dashboard_query_is_valid_promql(tmp_path: Path) -> None:
    """promtool parses each panel's query (as a recording rule)."""
    records = [
        {"record": f"dashboard:{area.replace('-', '_')}:{index}", "expr": expr}
        for area, panels in monitoring.DASHBOARDS.items()
        for index, (_, _, expr) in enumerate(panels)
    ]
    path = tmp_path / "dashboards.yaml"
    path.write_text(json.dumps({"groups": [{"name": "dashboards", "rules": records}]}))
    command = [require("promtool"), "check", "rules", str(path)]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


# --- the query layer over the Prometheus shards ------------------------------------------


def thanos_query(run: StackRun, type_: str) -> dict[str, Any]:
    wanted = {"name": monitoring.THANOS_QUERY, "namespace": monitoring.NAMESPACE}
    (found,) = [
        dict(plain(r.inputs))
        for r in run.of_type(type_)
        if {key: r.inputs.get("metadata", {}).get(key) for key in wanted} == wanted
    ]
    return found


def test_every_prometheus_pod_serves_its_series_to_the_query_layer_through_a_sidecar(stack: StackRun) -> None:
    prometheus = plain(release(stack, "kube-prometheus-stack").inputs["values"])["prometheus"]
    assert prometheus["thanosService"] == {"enabled": True}  # the headless discovery Service
    assert prometheus["thanosServiceMonitor"] == {"enabled": True}  # sidecar metrics scraped
    thanos = prometheus["prometheusSpec"]["thanos"]
    assert thanos["image"] == f"{IMAGE_REGISTRIES[stack.stack]}/quay/thanos/thanos:{thanos['version']}"
    assert thanos["version"] == monitoring.THANOS_VERSION and thanos["version"] != "latest"
    assert set(thanos["resources"]) == {"requests", "limits"}
    assert "objectStorageConfig" not in thanos  # query fan-out only: nothing is uploaded
    # Shards carry their own external label, so deduplication never merges two shards.
    labels = prometheus["prometheusSpec"]["externalLabels"]
    assert labels[monitoring.SHARD_LABEL] == "$(SHARD)"
    assert monitoring.REPLICA_LABEL not in labels  # the operator sets it per pod
    # ... and alerts leave without it, so Alertmanager groups and inhibits them as before.
    relabel = prometheus["prometheusSpec"]["additionalAlertRelabelConfigs"]
    assert relabel == [{"action": "labeldrop", "regex": monitoring.SHARD_LABEL}]


def test_thanos_query_reaches_every_sidecar_and_merges_only_the_replicas_of_a_shard(stack: StackRun) -> None:
    spec = thanos_query(stack, "kubernetes:apps/v1:Deployment")["spec"]
    (container,) = spec["template"]["spec"]["containers"]
    args = container["args"]
    assert args[0] == "query"
    assert "--endpoint=dnssrv+_grpc._tcp.kube-prometheus-stack-thanos-discovery.monitoring.svc.cluster.local" in args
    replica_labels = [a.split("=", 1)[1] for a in args if a.startswith("--query.replica-label=")]
    assert replica_labels == ["prometheus_replica"]  # never the shard label
    assert f"--http-address=0.0.0.0:{monitoring.THANOS_QUERY_HTTP_PORT}" in args
    assert f"--grpc-address=0.0.0.0:{monitoring.THANOS_GRPC_PORT}" in args
    assert container["image"] == f"{IMAGE_REGISTRIES[stack.stack]}/quay/thanos/thanos:v0.40.1"


def test_thanos_query_is_highly_available_hardened_and_probed(stack: StackRun) -> None:
    spec = thanos_query(stack, "kubernetes:apps/v1:Deployment")["spec"]
    assert spec["replicas"] >= 2
    pod = spec["template"]["spec"]
    (spread,) = pod["topologySpreadConstraints"]
    assert spread["topologyKey"] == "topology.kubernetes.io/zone"
    assert spread["labelSelector"]["matchLabels"] == spec["selector"]["matchLabels"]
    (container,) = pod["containers"]
    context = container["securityContext"]
    assert context["runAsNonRoot"] is True and context["readOnlyRootFilesystem"] is True
    assert context["capabilities"] == {"drop": ["ALL"]} and context["allowPrivilegeEscalation"] is False
    assert context["seccompProfile"] == {"type": "RuntimeDefault"}
    assert set(container["resources"]) == {"requests", "limits"}
    assert container["readinessProbe"]["httpGet"]["path"] == "/-/ready"
    assert container["livenessProbe"]["httpGet"]["path"] == "/-/healthy"
    assert pod["automountServiceAccountToken"] is False
    budget = thanos_query(stack, "kubernetes:policy/v1:PodDisruptionBudget")["spec"]
    assert budget["minAvailable"] == spec["replicas"] - 1
    assert budget["selector"] == spec["selector"]


def test_grafana_and_keda_query_thanos_query(stack: StackRun) -> None:
    service = thanos_query(stack, "kubernetes:core/v1:Service")["spec"]
    http = {p["name"]: p["port"] for p in service["ports"]}["http"]
    assert f"http://thanos-query.monitoring.svc:{http}" == monitoring.THANOS_QUERY_URL
    values = plain(release(stack, "kube-prometheus-stack").inputs["values"])
    assert values["grafana"]["sidecar"]["datasources"]["url"] == monitoring.THANOS_QUERY_URL
    assert DEFAULT_PROMETHEUS_URL == monitoring.THANOS_QUERY_URL  # KEDA's default serverAddress


def test_thanos_query_metrics_are_scraped(stack: StackRun) -> None:
    monitor = thanos_query(stack, "kubernetes:monitoring.coreos.com/v1:ServiceMonitor")["spec"]
    service = thanos_query(stack, "kubernetes:core/v1:Service")
    assert monitor["selector"]["matchLabels"] == service["metadata"]["labels"]
    (endpoint,) = monitor["endpoints"]
    assert endpoint["port"] in {p["name"] for p in service["spec"]["ports"]}
    assert endpoint["path"] == "/metrics"


def test_default_rules_that_duplicate_a_platform_alert_are_off(stack: StackRun) -> None:
    values = plain(release(stack, "kube-prometheus-stack").inputs["values"])
    assert values["defaultRules"]["disabled"] == {"KubePodCrashLooping": True, "KubeHpaMaxedOut": True}
    groups = rule_groups(AlertParameters("tx-prod-postgres", 100))
    shipped = {rule.alert for group in groups for rule in group.rules if isinstance(rule, Alert)}
    # Each chart rule turned off is replaced by a platform alert that ships.
    assert set(monitoring.REPLACED_DEFAULT_RULES.values()) <= shipped


def test_the_dr_stack_probes_the_primarys_edge_from_its_own_region(prod: StackRun, dr: StackRun) -> None:
    """Detection outside prod's region: dr's blackbox exporter asks prod's load balancer, by
    its own name, for the connector's DSP route with the served host's Host header and TLS
    name; PrimaryEdgeDown pages from dr's Alertmanager."""
    probes = {
        p.inputs["metadata"]["name"]: plain(p.inputs) for p in dr.of_type("kubernetes:monitoring.coreos.com/v1:Probe")
    }
    edge = probes["primary-edge"]["spec"]
    host = f"edc.{dr.exports['domain']}"
    assert edge["jobName"] == "primary-edge" and edge["module"] == monitoring.PRIMARY_EDGE_MODULE
    assert edge["targets"]["staticConfig"]["static"] == [f"https://{prod.exports['ingressHostname']}/api/v1/dsp"]
    blackbox = plain(release(dr, "prometheus-blackbox-exporter").inputs["values"])
    module = blackbox["config"]["modules"][monitoring.PRIMARY_EDGE_MODULE]["http"]
    assert module["headers"] == {"Host": host} and module["tls_config"] == {"server_name": host}
    assert module["fail_if_not_ssl"] is True
    rules = next(r for r in dr.of_type("kubernetes:monitoring.coreos.com/v1:PrometheusRule"))
    assert "primary.alerts" in {g["name"] for g in plain(rules.inputs)["spec"]["groups"]}
    # prod watches no primary.
    assert [p.inputs["metadata"]["name"] for p in prod.of_type("kubernetes:monitoring.coreos.com/v1:Probe")] == [
        "platform-endpoints"
    ]
    prod_rules = next(r for r in prod.of_type("kubernetes:monitoring.coreos.com/v1:PrometheusRule"))
    assert "primary.alerts" not in {g["name"] for g in plain(prod_rules.inputs)["spec"]["groups"]}
