"""The EDC connector: issue 7's connector wiring, under mocks, on both stacks.

Playbook "EDC Connector Performance", "EDC Security Configuration", "Horizontal Scaling",
"Alert Configuration" (EDCConnectorDown), "Network Policies"; the values are those of the
tractusx-connector chart (components/connector_values.py).
"""

from __future__ import annotations

import json
from typing import Any

from components import connector_values as chart
from components import edc, edc_properties
from components.database import EDC_DATABASE
from components.settings import SECRET_KEYS
from offline.checks import plain
from offline.crd_schemas import CrdIndex
from offline.harness import ApplicationRun, StackRun, run_stack
from policy import rules
from tests.conftest import IMAGE_REGISTRIES

SERVICE_MONITOR = "kubernetes:monitoring.coreos.com/v1:ServiceMonitor"
SCALED_OBJECT = "kubernetes:keda.sh/v1alpha1:ScaledObject"
NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
JOB = "kubernetes:batch/v1:Job"


def connector(run: StackRun) -> ApplicationRun:
    return run.application_runs[edc.APPLICATION]


def values(run: StackRun) -> dict[str, Any]:
    return dict(connector(run).values)


def owner_password(run: StackRun) -> str:
    """The connector's database password: generated on prod, the replicated one on dr."""
    return str(run.exports["databaseOwnerPasswords"][EDC_DATABASE.name])


def test_the_connector_is_the_pinned_chart_in_its_project_and_wave(stack: StackRun) -> None:
    app = connector(stack).application
    assert (app.chart.name, app.chart.version) == ("tractusx-connector", "0.12.1")
    assert app.chart.repository == "https://eclipse-tractusx.github.io/charts/dev"
    assert (app.project, app.namespace, app.release, app.sync_wave) == ("tractus-x-edc", "tractus-x", "edc", 1)
    v = values(stack)
    # The chart's bundled PostgreSQL and Vault are off; its v2beta1 HPAs are off.
    assert v["install"] == {"postgresql": False, "vault": False}
    for plane in chart.PLANES:
        assert v[plane]["autoscaling"] == {"enabled": False}
        assert v[plane]["image"]["tag"] == "0.12.1"


def test_autoscaler_targets_are_the_charts_deployment_names(stack: StackRun) -> None:
    # The chart names its Deployments <fullname>-<plane>; fullnameOverride makes that <release>-<plane>.
    assert values(stack)["fullnameOverride"] == edc.RELEASE
    app = connector(stack).application
    assert tuple(app.scaled_deployments) == ("edc-controlplane", "edc-dataplane")
    targets = {r.inputs["spec"]["scaleTargetRef"]["name"] for r in stack.of_type(SCALED_OBJECT)}
    assert set(app.scaled_deployments) <= targets


def test_the_database_is_the_platforms_rds_with_the_password_from_a_secret(stack: StackRun) -> None:
    v = values(stack)
    address, port = stack.exports["databaseAddress"], stack.exports["databasePort"]
    assert v["postgresql"]["jdbcUrl"] == (
        f"jdbc:postgresql://{address}:{int(port)}/edc?sslmode=verify-full&sslrootcert=/truststore/rds-ca.pem"
    )
    # The RDS CA bundle comes from the platform's backup image (by digest), as for the init Job.
    for plane in chart.PLANES:
        rds_ca = v[plane]["initContainers"][0]
        assert rds_ca["name"] == "rds-ca" and rds_ca["image"] == stack.exports["backupImage"]
        assert "/etc/ssl/certs/rds-global-bundle.pem" in rds_ca["command"][-1]
    # The chart's required plain password is a reference the kubelet fills from the
    # Secret database-edc (envFrom): no password in the values, no duplicate env entry.
    assert v["postgresql"]["auth"] == {"username": "edc_owner", "password": "$(EDC_DATABASE_PASSWORD)"}
    for plane in chart.PLANES:
        assert "database-edc" in v[plane]["envSecretNames"]
        assert "EDC_DATASOURCE_DEFAULT_PASSWORD" not in v[plane]["envValueFrom"]
    (synced,) = [s for s in connector(stack).application.secrets if s.name == "database-edc"]
    assert (synced.namespace, synced.path, dict(synced.keys)) == (
        "tractus-x",
        edc.DATABASE_VAULT_PATH,
        {"EDC_DATABASE_PASSWORD": "password"},
    )
    # The seed is the password the init Job sets on the database (on dr: prod's, replicated).
    value, secret = connector(stack).seeds[edc.DATABASE_VAULT_PATH]["password"]
    assert secret and value == owner_password(stack)


def test_vault_is_the_platforms_with_a_token_limited_to_the_connectors_path(stack: StackRun) -> None:
    v = values(stack)
    hashicorp = v["vault"]["hashicorp"]
    assert hashicorp["url"] == "https://vault.vault.svc:8200"
    assert hashicorp["token"] == "$(EDC_VAULT_TOKEN)"
    assert hashicorp["paths"]["secret"] == "/v1/secret"
    for plane in chart.PLANES:
        assert "edc-vault-token" in v[plane]["envSecretNames"]
    app = connector(stack).application
    (policy,) = app.vault_policies
    assert (tuple(policy.paths), policy.token_path) == (("tractus-x/edc",), "tractus-x/vault-tokens/edc")
    (token,) = [s for s in app.secrets if s.name == "edc-vault-token"]
    assert (token.path, dict(token.keys)) == (policy.token_path, {"EDC_VAULT_TOKEN": "token"})
    # The connector's aliases are inside its policy; the password External Secrets hands
    # its pods and its own token are outside, so it cannot rewrite them.
    sts = v["iatp"]["sts"]["oauth"]["client"]["secret_alias"]
    aliases = [sts, v["dataplane"]["token"]["signer"]["privatekey_alias"]]
    aliases.append(v["dataplane"]["token"]["verifier"]["publickey_alias"])
    assert all(alias.startswith("tractus-x/edc/") for alias in aliases)
    assert not edc.DATABASE_VAULT_PATH.startswith("tractus-x/edc/")
    assert not policy.token_path.startswith("tractus-x/edc/")
    # Vault's private CA is added to the JVM's trust store before the connector starts.
    for plane in chart.PLANES:
        init = v[plane]["initContainers"][-1]
        assert "keytool -importcert" in init["command"][-1]
        assert {
            "name": "vault-ca",
            "secret": {"secretName": "vault-ca", "items": [{"key": "ca.crt", "path": "ca.crt"}]},
        } in v[plane]["volumes"]
        assert "-Djavax.net.ssl.trustStore=/truststore/cacerts" in v[plane]["env"]["JAVA_TOOL_OPTIONS"]


def test_the_sts_client_secret_goes_to_vault_and_the_connector_gets_only_its_alias(stack: StackRun) -> None:
    assert "edcStsClientSecret" in SECRET_KEYS
    value, secret = connector(stack).seeds[edc.STS_CLIENT_SECRET_ALIAS][edc.EDC_VAULT_PROPERTY]
    assert secret and value
    assert values(stack)["iatp"]["sts"]["oauth"]["client"]["secret_alias"] == edc.STS_CLIENT_SECRET_ALIAS
    assert value not in json.dumps(values(stack))


def test_no_secret_value_is_in_the_values(stack: StackRun) -> None:
    run = connector(stack)
    assert not run.values_secret
    text = json.dumps(run.values)
    for seed in run.seeds.values():
        for value, secret in seed.values():
            assert secret and str(value) not in text
    assert owner_password(stack) not in text


# Playbook "EDC Security Configuration" (security.properties) and "Data Access Logging"
# (audit.properties): every property they set.
PLAYBOOK_PROPERTIES = (
    "edc.oauth.token.url",
    "edc.oauth.client.id",
    "edc.oauth.client.secret",
    "edc.web.https.port",
    "edc.web.https.path",
    "edc.web.https.keystore.path",
    "edc.web.https.keystore.password",
    "edc.dataplane.token.validation.endpoint",
    "edc.participant.id",
    "edc.connector.name",
    "edc.audit.enabled",
    "edc.audit.level",
    "edc.audit.data.access",
    "edc.audit.contract.negotiation",
    "edc.audit.policy.evaluation",
    "edc.audit.format",
    "edc.audit.destination",
    "edc.audit.file.path",
)


def test_every_playbook_property_is_remapped_or_says_why_not() -> None:
    assert set(edc_properties.REMAPPED) == set(PLAYBOOK_PROPERTIES)
    for old, remapped in edc_properties.REMAPPED.items():
        assert remapped.note, old
        assert remapped.new != old or old == "edc.participant.id"  # same name, now the DID
    assert edc_properties.REMAPPED["edc.oauth.client.secret"].new == "edc.iam.sts.oauth.client.secret.alias"
    # "Data Access Logging": the event subscriber extension is the audit trail's successor.
    assert edc_properties.REMAPPED["edc.audit.enabled"].new == "tx.edc.otel.events.subscriber.active"


def test_the_identity_is_the_dcp_one_from_the_settings(stack: StackRun) -> None:
    v = values(stack)
    assert v["participant"]["id"] == "BPNL000000000001"
    assert v["iatp"]["id"].startswith("did:web:")
    assert v["iatp"]["trustedIssuers"] and all(i.startswith("did:web:") for i in v["iatp"]["trustedIssuers"])
    assert v["controlplane"]["bdrs"]["server"]["url"].startswith("https://")
    assert v["iatp"]["sts"]["oauth"]["token_url"].startswith("https://")


def test_only_the_dsp_and_public_endpoints_are_on_the_internet_with_tls(stack: StackRun) -> None:
    v = values(stack)
    domain = stack.exports["domain"]
    expected = {"controlplane": (f"edc.{domain}", ["protocol"]), "dataplane": (f"edc-data.{domain}", ["public"])}
    for plane, (host, endpoints) in expected.items():
        (ingress,) = v[plane]["ingresses"]  # the chart's default second (management) Ingress is gone
        assert (ingress["hostname"], ingress["endpoints"]) == (host, endpoints)
        assert ingress["enabled"] is True and ingress["className"] == "nginx"
        assert ingress["certManager"] == {"clusterIssuer": "letsencrypt-prod"}
        assert ingress["tls"] == {"enabled": True, "secretName": f"edc-{plane}-tls"}
    exposed = {e for plane in chart.PLANES for i in v[plane]["ingresses"] for e in i["endpoints"]}
    assert not exposed & {"management", "control", "default", "metrics", "proxy"}


def test_metrics_are_exported_and_scraped_as_job_tractus_x_edc(stack: StackRun, crds: CrdIndex) -> None:
    v = values(stack)
    for plane in chart.PLANES:
        otel = dict(line.split("=", 1) for line in v[plane]["opentelemetry"].splitlines())
        assert otel["otel.javaagent.enabled"] == "true" and otel["otel.metrics.exporter"] == "prometheus"
        assert int(otel["otel.exporter.prometheus.port"]) == v[plane]["endpoints"]["metrics"]["port"] == 9090
    (monitor,) = [m for m in stack.of_type(SERVICE_MONITOR) if m.inputs["metadata"]["name"] == edc.RELEASE]
    spec = plain(monitor.inputs)["spec"]
    assert monitor.inputs["metadata"]["namespace"] == "tractus-x"
    (selector,) = spec["selector"]["matchExpressions"]
    assert set(selector["values"]) == {"edc-controlplane", "edc-dataplane"}
    (endpoint,) = spec["endpoints"]
    assert endpoint["port"] == "metrics"
    # The alert EDCConnectorDown selects up{job="tractus-x-edc"}: the job label is set here.
    assert {"action": "replace", "targetLabel": "job", "replacement": "tractus-x-edc"} in endpoint["relabelings"]
    assert crds.findings(plain(monitor.inputs)) == []
    assert monitor.provider and "k8s" in monitor.provider


def test_every_pod_gets_its_own_runtime_id(stack: StackRun) -> None:
    # tractusx-edc#2132: the chart gives every replica one EDC_RUNTIME_ID, the lease holder.
    # The pod's name arrives as POD_NAME (rendered before `env`) and becomes edc.runtime.id.
    for plane in chart.PLANES:
        v = values(stack)[plane]
        assert v["envValueFrom"]["POD_NAME"] == {"fieldRef": {"fieldPath": "metadata.name"}}
        assert "-Dedc.runtime.id=$(POD_NAME)" in v["env"]["JAVA_TOOL_OPTIONS"]
        assert "EDC_RUNTIME_ID" not in v["envValueFrom"] and "EDC_RUNTIME_ID" not in v["env"]


def test_the_policy_accepts_variable_references_but_not_literal_credentials() -> None:
    release = "kubernetes:helm.sh/v3:Release"
    accepted = {"postgresql": {"auth": {"password": "$(EDC_DATABASE_PASSWORD)"}}}
    assert rules.no_secrets_in_values(rules.Resource(release, "edc", {"values": accepted})) == []
    for literal in ("$(EDC_DATABASE_PASSWORD)x", "p$(A)", "hunter22"):
        leaky = {"postgresql": {"auth": {"password": literal}}}
        assert rules.no_secrets_in_values(rules.Resource(release, "edc", {"values": leaky}))


def test_the_jvm_heap_follows_the_container_limit_and_pods_are_hardened(stack: StackRun) -> None:
    for plane in chart.PLANES:
        v = values(stack)[plane]
        assert "-XX:MaxRAMPercentage=75.0" in v["env"]["JAVA_TOOL_OPTIONS"]
        resources = v["resources"]
        assert resources["requests"]["memory"] == resources["limits"]["memory"] == "1Gi"
        assert resources["limits"]["cpu"] and resources["requests"]["cpu"]
        assert v["podSecurityContext"]["runAsNonRoot"] is True
        for container in (v["securityContext"], *(init["securityContext"] for init in v["initContainers"])):
            assert container["readOnlyRootFilesystem"] is True and container["allowPrivilegeEscalation"] is False
            assert container["capabilities"]["drop"] == ["ALL"]


def test_pilot_light_keeps_the_connector_at_zero_until_activation(prod: StackRun, dr: StackRun) -> None:
    # The dr stack's database is a read-only replica; the connector migrates its schema at start.
    for plane in chart.PLANES:
        assert values(prod)[plane]["replicaCount"] == 2
        assert values(dr)[plane]["replicaCount"] == 0
    active = run_stack("dr", overrides={"dr.active": True}, references={"prod": prod})
    for plane in chart.PLANES:
        assert values(active)[plane]["replicaCount"] == 2
    # ... while a Job pulls its images into dr's cache, so the activation pulls nothing
    # from Docker Hub; prod and an activated dr stack run the connector itself.
    assert warmup_images(prod) == warmup_images(active) == []
    cache = f"{IMAGE_REGISTRIES['dr']}/docker-hub/tractusx"
    assert warmup_images(dr) == [
        f"{cache}/edc-controlplane-postgresql-hashicorp-vault:0.12.1",
        f"{cache}/edc-dataplane-hashicorp-vault:0.12.1",
    ]
    for plane in chart.PLANES:
        image = values(dr)[plane]["image"]
        assert f"{image['repository']}:{image['tag']}" in warmup_images(dr)


def warmup_images(run: StackRun) -> list[str]:
    jobs = [plain(j.inputs) for j in run.of_type(JOB) if plain(j.inputs)["metadata"].get("name") == "edc-image-warmup"]
    return [c["image"] for job in jobs for c in job["spec"]["template"]["spec"]["containers"]]


# --- NetworkPolicies: exactly the connector's flows ---------------------------------------

CONTROL = ("tractus-x", edc.CONTROL_PLANE_LABELS)
DATA = ("tractus-x", edc.DATA_PLANE_LABELS)
TRAEFIK = ("traefik", {"app.kubernetes.io/name": "traefik"})
PROMETHEUS = ("monitoring", {"app.kubernetes.io/name": "prometheus"})
PORTAL = ("tractus-x", {"app": "portal"})
VAULT = ("vault", {"app.kubernetes.io/name": "vault"})
METADATA_HOST = "169.254.169.254"
