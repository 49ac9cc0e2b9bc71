"""Portal and central identity provider (issue 7, item 6): off by default; when enabled,
two pinned charts on the platform's RDS with every secret explicit, plain-prefix ingress
paths on Traefik, the portal in its own namespace at Pod Security baseline and Keycloak
with the program's realm seeding Job at restricted, and nothing running against a
pilot-light dr stack's replica."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from components import portal_values as pv
from components.charts import CENTRALIDP
from components.database import CENTRALIDP_DATABASE, DATABASES, PORTAL_DATABASE
from components.namespaces import BASELINE, PLATFORM_NAMESPACES, RESTRICTED
from components.portal import generated_names
from offline import pod_security, wiring
from offline.checks import plain, run_checks
from offline.harness import StackRun, resolve
from offline.render import ChartSource, Placed, StackRendering, helm_template, parse_objects
from policy import rules
from tests.conftest import IMAGE_REGISTRIES

APPLICATION = "kubernetes:argoproj.io/v1alpha1:Application"
RELEASE = "kubernetes:helm.sh/v3:Release"
CONFIG_MAP = "kubernetes:core/v1:ConfigMap"
SECRET = "kubernetes:core/v1:Secret"
CRON_JOB = "kubernetes:batch/v1:CronJob"
INGRESS_ROUTE = "kubernetes:traefik.io/v1alpha1:IngressRoute"
JOB = "kubernetes:batch/v1:Job"
EXTERNAL_SECRET = "kubernetes:external-secrets.io/v1:ExternalSecret"
MIDDLEWARE = "kubernetes:traefik.io/v1alpha1:Middleware"
INSTANCE = "aws:rds/instance:Instance"
PORTAL_NAMES = {PORTAL_DATABASE.name, CENTRALIDP_DATABASE.name}


PORTAL_APPLICATIONS = {"portal", "centralidp"}


def apps(run: StackRun) -> dict[str, Any]:
    """The portal's Applications (the connector's is always there: tests/test_edc.py)."""
    return {app.name: app for app in run.applications if app.name in PORTAL_APPLICATIONS}


def init_sql(run: StackRun) -> str:
    (script,) = [r for r in run.of_type(CONFIG_MAP) if r.inputs["metadata"]["name"] == "database-init-sql"]
    return str(script.inputs["data"]["init.sql"])


def backup_databases(run: StackRun) -> str:
    (job,) = [r for r in run.of_type(CRON_JOB) if r.inputs["metadata"]["name"] == "backup-database"]
    (container,) = plain(job.inputs)["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    return str({e["name"]: e for e in container["env"]}["DATABASES"]["value"])


def seed_values(run: StackRun) -> dict[str, dict[str, str]]:
    return {seed.path: dict(resolve(dict(seed.data))) for app in run.applications for seed in app.seeds}


def realm_seeding(run: StackRun) -> dict[str, Any]:
    (job,) = [
        plain(r.inputs) for r in run.of_type(JOB) if r.inputs["metadata"].get("name") == "centralidp-realm-seeding"
    ]
    return dict(job)


def backup_image(run: StackRun) -> str:
    (image,) = {
        c["image"]
        for job in run.of_type(CRON_JOB)
        if job.inputs["metadata"]["name"] == "backup-database"
        for c in plain(job.inputs)["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    }
    return str(image)


@pytest.fixture(scope="module")
def portal_rendering(portal_checked: dict[str, tuple[StackRendering, list[str]]]) -> tuple[StackRendering, list[str]]:
    """prod with the portal, every chart rendered with the real helm, and every finding."""
    return portal_checked["prod"]


def rendered(rendering: StackRendering, application: str) -> list[tuple[str, dict[str, Any]]]:
    """What the Argo CD Application ``application`` deploys, with the namespace of each."""
    return [(ns, obj) for origin, ns, obj in rendering.objects() if origin == f"Argo CD Application {application}"]


def test_the_portal_is_off_by_default(stack: StackRun) -> None:
    assert apps(stack) == {}
    assert not stack.of_type(INGRESS_ROUTE) and not stack.of_type(MIDDLEWARE)
    assert "portalGeneratedSecrets" not in stack.exports
    assert set(stack.exports["databaseOwnerPasswords"]) == {db.name for db in DATABASES}
    secrets = {r.inputs["metadata"]["name"] for r in stack.of_type(SECRET)}
    for spec in (PORTAL_DATABASE, CENTRALIDP_DATABASE):
        assert spec.secret_name not in secrets
        assert spec.name not in backup_databases(stack).split(",")
        if stack.stack == "prod":  # a pilot-light dr stack runs no init Job on its replica
            assert f"'{spec.name}'" not in init_sql(stack)


def test_enabled_portal_adds_its_databases_to_rds_the_init_job_and_the_backups(
    portal_runs: dict[str, StackRun],
) -> None:
    prod = portal_runs["prod"]
    sql = init_sql(prod)
    for spec in (PORTAL_DATABASE, CENTRALIDP_DATABASE):
        assert f"CREATE DATABASE %I OWNER %I', '{spec.name}', '{spec.owner}'" in sql
        assert spec.name in backup_databases(prod).split(",")
    assert (PORTAL_DATABASE.namespace, CENTRALIDP_DATABASE.namespace) == ("portal", "tractus-x")
    assert set(prod.exports["databaseOwnerPasswords"]) == {db.name for db in DATABASES} | PORTAL_NAMES
    # The owners' passwords reach the charts through Vault only, not a database-* Secret.
    secrets = {r.inputs["metadata"]["name"] for r in prod.of_type(SECRET)}
    assert not {PORTAL_DATABASE.secret_name, CENTRALIDP_DATABASE.secret_name} & secrets
    # The dr stack's replica has the primary's roles: it seeds the primary's passwords.
    seeds = seed_values(portal_runs["dr-active"])
    assert seeds["tractus-x/portal/database"]["portal-password"] == prod.exports["databaseOwnerPasswords"]["portal"]
    assert seeds["tractus-x/centralidp/database"]["password"] == prod.exports["databaseOwnerPasswords"]["centralidp"]


def test_centralidp_then_portal_as_pinned_charts_in_their_own_project(portal_stack: StackRun) -> None:
    found = apps(portal_stack)
    assert set(found) == {"centralidp", "portal"}
    centralidp, portal = found["centralidp"], found["portal"]
    assert (centralidp.chart.name, centralidp.chart.version) == ("centralidp", "4.2.1")
    assert (portal.chart.name, portal.chart.version) == ("portal", "2.5.0")
    for app in (centralidp, portal):
        assert app.chart.repository == "https://eclipse-tractusx.github.io/charts/dev"
        assert (app.project, app.release) == ("tractus-x-portal", app.name)
    # The portal at baseline in its own namespace, Keycloak at restricted (test below).
    assert (centralidp.namespace, portal.namespace) == ("tractus-x", "portal")
    # The identity provider first (wave 0), the portal after the connector (wave 1).
    assert (centralidp.sync_wave, portal.sync_wave) == (0, 2)
    # KEDA owns the frontend's replicas: Argo CD ignores them.
    assert list(portal.scaled_deployments) == [pv.PORTAL_DEPLOYMENT] == ["portal-portal"]
    assert list(centralidp.scaled_deployments) == []


def test_values_point_at_the_platforms_rds_with_tls_and_no_bundled_database(portal_stack: StackRun) -> None:
    (instance,) = portal_stack.of_type(INSTANCE)
    address = f"{instance.inputs['identifier']}.offline."
    portal = portal_stack.application_values["portal"]
    assert portal["postgresql"] == {"enabled": False}
    database = portal["externalDatabase"]
    assert str(database["host"]).startswith(address) and database["host"].endswith(".rds.amazonaws.com")
    assert (database["port"], database["database"]) == (5432, "portal")
    assert database["portalUser"] == database["provisioningUser"] == "portal_owner"
    # RDS forces TLS; the portal chart cannot mount the RDS CA (test below).
    assert portal["backend"]["dbConnection"]["sslMode"] == "Require"
    keycloak = portal_stack.application_values["centralidp"]["keycloak"]
    assert keycloak["postgresql"] == {"enabled": False}
    assert keycloak["externalDatabase"]["host"] == database["host"]
    assert (keycloak["externalDatabase"]["database"], keycloak["externalDatabase"]["user"]) == (
        "centralidp",
        "centralidp_owner",
    )
    assert keycloak["production"] is True and keycloak["proxyHeaders"] == "xforwarded"
    # The Bitnami chart's own NetworkPolicy admits any source: the platform's govern.
    assert keycloak["networkPolicy"] == {"enabled": False}


def test_keycloak_verifies_the_database_certificate_against_the_rds_ca(portal_stack: StackRun) -> None:
    """Keycloak's JDBC connection is verify-full against the RDS CA bundle, which an init
    container copies from the backup image into an emptyDir mounted at the same path."""
    keycloak = portal_stack.application_values["centralidp"]["keycloak"]
    env = {e["name"]: e["value"] for e in keycloak["extraEnvVars"]}
    assert env["KEYCLOAK_JDBC_PARAMS"] == "sslmode=verify-full&sslrootcert=/rds-ca/rds-ca.pem"
    assert "sslmode=require" not in json.dumps(keycloak)
    (volume,) = [v for v in keycloak["extraVolumes"] if v["name"] == pv.RDS_CA_VOLUME]
    assert set(volume) == {"name", "emptyDir"}
    (mount,) = [m for m in keycloak["extraVolumeMounts"] if m["name"] == pv.RDS_CA_VOLUME]
    assert mount == {"name": "rds-ca", "mountPath": "/rds-ca", "readOnly": True}
    assert pv.RDS_CA_FILE.startswith(mount["mountPath"] + "/")
    (init,) = [c for c in keycloak["initContainers"] if c["name"] == "rds-ca"]
    assert init["image"] == backup_image(portal_stack)  # the image that ships the RDS CA bundle
    assert init["command"][:2] == ["python3", "-c"]
    assert "'/etc/ssl/certs/rds-global-bundle.pem'" in init["command"][2]
    assert f"{pv.RDS_CA_FILE!r}" in init["command"][2]
    assert init["volumeMounts"] == [{"name": "rds-ca", "mountPath": "/rds-ca"}]
    security = init["securityContext"]
    assert security["runAsNonRoot"] is True and security["runAsUser"] == pv.KEYCLOAK_USER_ID
    assert security["readOnlyRootFilesystem"] is True and security["allowPrivilegeEscalation"] is False
    assert security["capabilities"] == {"drop": ["ALL"]}
    assert security["seccompProfile"] == {"type": "RuntimeDefault"}
    assert set(init["resources"]["limits"]) == {"cpu", "memory"}


def test_the_portal_backend_stays_at_require_as_its_chart_cannot_mount_the_rds_ca(portal_stack: StackRun) -> None:
    """portal 2.5.0's backend pod specs are fixed (no initContainers, extraVolumes or extra
    env): Npgsql's VerifyFull would have no Root Certificate file, so the portal encrypts
    without verifying, and no value pretends otherwise."""
    portal = portal_stack.application_values["portal"]
    assert portal["backend"]["dbConnection"] == {"sslMode": "Require"}
    rendered = json.dumps(portal)
    for invented in ("initContainers", "extraVolumes", "extraVolumeMounts", "VerifyFull", "Root Certificate"):
        assert invented not in rendered


def test_every_ingress_uses_class_nginx_the_production_issuer_and_tls(portal_stack: StackRun) -> None:
    domain = portal_stack.exports["domain"]
    portal = portal_stack.application_values["portal"]
    keycloak = portal_stack.application_values["centralidp"]["keycloak"]
    hosts = {}
    for ingress in (portal["frontend"]["ingress"], portal["backend"]["ingress"]):
        assert ingress["enabled"] is True and ingress["className"] == "nginx"
        assert ingress["annotations"]["cert-manager.io/cluster-issuer"] == "letsencrypt-prod"
        (tls,) = ingress["tls"]
        assert tls["hosts"] == [host["host"] for host in ingress["hosts"]] and tls["secretName"]
        hosts.update({host["host"]: host for host in ingress["hosts"]})
    assert keycloak["ingress"]["ingressClassName"] == "nginx" and keycloak["ingress"]["tls"] is True
    assert keycloak["ingress"]["annotations"]["cert-manager.io/cluster-issuer"] == "letsencrypt-prod"
    assert set(hosts) == {domain, f"portal-backend.{domain}"}
    assert keycloak["ingress"]["hostname"] == f"centralidp.{domain}"
    assert portal["portalAddress"] == f"https://{domain}"
    assert portal["centralidp"]["address"] == f"https://centralidp.{domain}"


def test_the_portals_regex_paths_are_replaced_by_prefixes_and_a_strip_prefix_route(portal_stack: StackRun) -> None:
    # Traefik's NGINX provider fixed use-regex in v3.6.7 and reworked rewrite-target later
    # (components/portal_values.py): the values depend on neither.
    portal = portal_stack.application_values["portal"]
    for ingress in (portal["frontend"]["ingress"], portal["backend"]["ingress"]):
        annotations = ingress["annotations"]
        assert "nginx.ingress.kubernetes.io/use-regex" not in annotations
        assert "nginx.ingress.kubernetes.io/rewrite-target" not in annotations
        for host in ingress["hosts"]:
            for path in host["paths"]:
                assert path["pathType"] == "Prefix"
                assert not re.search(r"[()|*$^\\]", path["path"]), path["path"]
    (frontend,) = portal["frontend"]["ingress"]["hosts"]
    assert {p["path"]: p["backend"]["service"] for p in frontend["paths"]} == {
        "/": "portal",
        "/assets": "assets",
        "/documentation": "assets",
    }
    # /registration/(.*) with rewrite-target /$1: the registration frontend, prefix stripped.
    (route,) = [plain(r.inputs) for r in portal_stack.of_type(INGRESS_ROUTE)]
    (middleware,) = [plain(r.inputs) for r in portal_stack.of_type(MIDDLEWARE)]
    assert middleware["spec"] == {"stripPrefix": {"prefixes": ["/registration"]}}
    (rule,) = route["spec"]["routes"]
    assert rule["match"] == f"Host(`{frontend['host']}`) && PathPrefix(`/registration`)"
    assert rule["middlewares"] == [{"name": middleware["metadata"]["name"]}]
    assert rule["services"] == [{"name": "portal-registration", "port": 8080}]
    assert route["spec"]["entryPoints"] == ["websecure"]
    assert route["spec"]["tls"] == {"secretName": portal["frontend"]["ingress"]["tls"][0]["secretName"]}
    for resource in (route, middleware):
        assert resource["metadata"]["namespace"] == "portal"


def test_no_secret_value_is_in_any_helm_values(portal_stack: StackRun) -> None:
    rendered = json.dumps(portal_stack.application_values)
    values = {value for data in seed_values(portal_stack).values() for value in data.values()}
    assert values, "the seeds carry the secret values"
    for value in values:
        assert value not in rendered


def test_every_secret_the_workloads_read_is_synced_from_a_seeded_vault_path(portal_stack: StackRun) -> None:
    seeds = seed_values(portal_stack)
    portal = portal_stack.application_values["portal"]
    keycloak = portal_stack.application_values["centralidp"]["keycloak"]
    seeding = realm_seeding(portal_stack)["spec"]["template"]["spec"]["containers"][0]["env"]
    read_by_seeding: dict[str, set[str]] = {}
    for env in seeding:
        if "valueFrom" in env:
            ref = env["valueFrom"]["secretKeyRef"]
            read_by_seeding.setdefault(ref["name"], set()).add(ref["key"])
    # The realm seeding Job reads the Secrets External Secrets makes, by their literal names.
    assert read_by_seeding == {
        "centralidp-admin": {"admin-password"},
        "centralidp-clients": {"miw", "bpdm", "bpdm-gate", "bpdm-orchestrator"},
        "centralidp-service-accounts": set(pv.CENTRALIDP_SERVICE_ACCOUNTS),
    }
    read_by_charts = {
        portal["externalDatabase"]["secret"]: {"portal-password", "provisioning-password"},
        portal["backend"]["keycloak"]["secret"]: {"central-client-secret", "shared-client-secret"},
        portal["backend"]["mailing"]["secret"]: {"password", "provisioning-sharedrealm-password"},
        portal["backend"]["interfaces"]["secret"]: {
            *pv.PORTAL_INTERFACE_CLIENTS,
            *pv.PORTAL_ENCRYPTION_KEYS,
            *pv.PORTAL_EXTERNAL_CREDENTIALS,
        },
        keycloak["auth"]["existingSecret"]: {keycloak["auth"]["passwordSecretKey"]},
        keycloak["externalDatabase"]["existingSecret"]: {keycloak["externalDatabase"]["existingSecretPasswordKey"]},
    }
    read = {
        name: read_by_charts.get(name, set()) | read_by_seeding.get(name, set())
        for name in {*read_by_charts, *read_by_seeding}
    }
    synced = {secret.name: secret for app in apps(portal_stack).values() for secret in app.secrets}
    assert set(synced) == set(read)
    for name, keys in read.items():
        secret = synced[name]
        assert set(secret.keys) == keys, name
        assert set(secret.keys.values()) <= set(seeds[secret.path]), name
    assert {name: secret.namespace for name, secret in synced.items()} == {
        "portal-postgres-external-db": "portal",
        "portal-backend-keycloak": "portal",
        "portal-backend-mailing": "portal",
        "portal-backend-interfaces": "portal",
        "centralidp-admin": "tractus-x",
        "centralidp-database": "tractus-x",
        "centralidp-clients": "tractus-x",
        "centralidp-service-accounts": "tractus-x",
    }
    # The portal chart renders its four Secrets whatever the values say; centralidp none.
    rendered_by_charts = {name for app in portal_stack.applications for name in app.chart_rendered_secrets}
    assert rendered_by_charts == {
        "portal-postgres-external-db",
        "portal-backend-keycloak",
        "portal-backend-mailing",
        "portal-backend-interfaces",
    }


def test_the_portal_and_keycloak_share_one_generated_secret_per_service_account(portal_stack: StackRun) -> None:
    seeds = seed_values(portal_stack)
    accounts = seeds["tractus-x/centralidp/service-accounts"]
    interfaces = seeds["tractus-x/portal/interfaces"]
    for key, (_, account) in pv.PORTAL_INTERFACE_CLIENTS.items():
        assert interfaces[key] == accounts[account]
    assert seeds["tractus-x/portal/keycloak"]["central-client-secret"] == accounts[pv.PORTAL_CENTRAL_CLIENT]
    portal = portal_stack.application_values["portal"]
    assert portal["backend"]["keycloak"]["central"]["clientId"] == pv.PORTAL_CENTRAL_CLIENT
    for values_key, account in pv.PORTAL_INTERFACE_CLIENTS.values():
        assert portal["backend"]["processesworker"][values_key]["clientId"] == account
    for key in pv.PORTAL_ENCRYPTION_KEYS:  # "256 bit (64 digits) hex"
        assert re.fullmatch(r"[0-9a-f]{64}", interfaces[key]), key
    # The database owners' passwords are the database component's.
    owners = portal_stack.exports["databaseOwnerPasswords"]
    assert seeds["tractus-x/portal/database"]["portal-password"] == owners["portal"]
    assert seeds["tractus-x/centralidp/database"]["password"] == owners["centralidp"]


def test_encryption_keys_do_not_rotate_with_the_generated_passwords(portal_runs: dict[str, StackRun]) -> None:
    keys = [r for r in portal_runs["prod"].of_type("random:index/randomId:RandomId")]
    assert {r.name.removeprefix("tractusx-portal-") for r in keys} == set(pv.PORTAL_ENCRYPTION_KEYS)
    for key in keys:
        assert key.inputs["byteLength"] == 32 and "keepers" not in key.inputs


def test_the_dr_stack_uses_the_primarys_generated_values_and_waits_for_activation(
    portal_runs: dict[str, StackRun],
) -> None:
    pilot, active = portal_runs["dr"], portal_runs["dr-active"]
    # Pilot light: the database is a read-only replica; Keycloak and the portal write on
    # start (migrations, realm seeding), so neither runs until dr.active.
    assert apps(pilot) == {}
    assert not pilot.of_type(INGRESS_ROUTE)
    assert [r for r in pilot.of_type(JOB) if r.inputs["metadata"].get("name") == "centralidp-realm-seeding"] == []
    assert realm_seeding(active)["metadata"]["namespace"] == "tractus-x"
    assert set(apps(active)) == {"centralidp", "portal"}
    # Nothing is generated anew: Vault is restored from the primary's snapshots and the
    # portal's data is encrypted with the primary's keys.
    for run in (pilot, active):
        generated = [r for r in run.resources if r.type.startswith("random:") and "-portal-" in r.name]
        assert generated == []
    assert set(portal_runs["prod"].exports["portalGeneratedSecrets"]) == set(generated_names())
    assert "portalGeneratedSecrets" in portal_runs["prod"].secret_exports


@pytest.mark.parametrize("name", ["prod", "dr", "dr-active"])
def test_the_stacks_with_the_portal_pass_every_plan_check(portal_runs: dict[str, StackRun], name: str) -> None:
    assert run_checks(portal_runs[name]) == []


def test_argo_cd_leaves_the_data_of_the_chart_rendered_secrets_to_external_secrets(portal_stack: StackRun) -> None:
    (root,) = [plain(r.inputs) for r in portal_stack.of_type(APPLICATION)]
    children = root["spec"]["source"]["helm"]["valuesObject"]["applications"]
    for app in portal_stack.applications:
        child = children[app.name]
        secrets = {d["name"]: d for d in child.get("ignoreDifferences", []) if d["kind"] == "Secret"}
        assert set(secrets) == set(app.chart_rendered_secrets)
        for entry in secrets.values():
            # The chart writes its random values as stringData, which the API server
            # writes over data: a sync must leave out both.
            assert entry == {**entry, "group": "", "namespace": "portal", "jsonPointers": ["/data", "/stringData"]}
        assert "RespectIgnoreDifferences=true" in child["syncPolicy"]["syncOptions"]
    deployments = [d["name"] for d in children["portal"]["ignoreDifferences"] if d["kind"] == "Deployment"]
    assert deployments == [pv.PORTAL_DEPLOYMENT]


def test_the_secret_policy_reads_the_portal_charts_secret_name_keys_as_references() -> None:
    names = {
        "backend": {
            "keycloak": {"secret": "portal-backend-keycloak"},
            "mailing": {"secret": "portal-backend-mailing"},
            "interfaces": {"secret": "portal-backend-interfaces"},
        },
        "externalDatabase": {"secret": "portal-postgres-external-db"},
        "clearinghouse": {"default": {"tokenAddress": "https://ch.example.org/token"}},
    }
    assert rules.no_secrets_in_values(rules.Resource(RELEASE, "portal", {"values": names})) == []
    # A value that is no Secret name, or a bare `secret` elsewhere, is still a credential.
    for values in (
        {"backend": {"keycloak": {"secret": "Xq7pL2vN9sK4mR8tW1yZ3bC6"}}},
        {"other": {"secret": "portal-backend-keycloak"}},
    ):
        found = rules.no_secrets_in_values(rules.Resource(RELEASE, "portal", {"values": values}))
        assert any("is a literal credential" in finding for finding in found), values


def test_external_secrets_merges_into_the_secrets_the_charts_render(portal_stack: StackRun) -> None:
    external = {
        r.inputs["metadata"]["name"]: plain(r.inputs)["spec"]
        for r in portal_stack.of_type(EXTERNAL_SECRET)
        if r.inputs["metadata"]["namespace"] in ("tractus-x", "portal")
    }
    for app in apps(portal_stack).values():
        for secret in app.secrets:
            assert secret.namespace == app.namespace
            target = external[secret.name]["target"]
            assert target["name"] == secret.name
            # The chart renders these too: External Secrets creates or merges, never owns them.
            assert target["creationPolicy"] == ("CreateOrMerge" if secret.chart_renders else "Owner"), secret.name
            assert target["deletionPolicy"] == "Retain"


# --- what the charts render (the real helm), and the program's realm seeding Job ----------


def workloads(rendering: StackRendering, application: str) -> list[tuple[str, dict[str, Any]]]:
    return [(ns, obj) for ns, obj in rendered(rendering, application) if pod_security.pod_template(obj) is not None]


def test_the_portal_runs_at_baseline_in_its_own_namespace_and_keycloak_at_restricted(
    portal_rendering: tuple[StackRendering, list[str]], portal_stack: StackRun
) -> None:
    """portal 2.5.0 fixes every container's securityContext without a seccompProfile and has
    no value for one: restricted refuses each of its pods, so its namespace is baseline, with
    the reason on it. Keycloak and the program's realm seeding Job meet restricted."""
    levels = {spec.name: spec for spec in PLATFORM_NAMESPACES}
    assert (levels["portal"].pod_security, levels["tractus-x"].pod_security) == (BASELINE, RESTRICTED)
    assert "seccompProfile" in levels["portal"].exception
    rendering, _ = portal_rendering
    portal = workloads(rendering, "portal")
    assert len(portal) == 12  # 8 Deployments, 2 CronJobs, 2 migration Jobs
    for namespace, obj in portal:
        assert namespace == "portal"
        assert pod_security.pod_security_findings(obj, BASELINE) == []
        # Why the namespace cannot be restricted: every pod lacks the seccomp profile.
        assert any("seccompProfile" in f for f in pod_security.pod_security_findings(obj, RESTRICTED))
    keycloak = workloads(rendering, "centralidp")
    assert [(ns, obj["kind"], obj["metadata"]["name"]) for ns, obj in keycloak] == [
        ("tractus-x", "StatefulSet", "centralidp-keycloak")
    ]
    for _, obj in keycloak:
        assert pod_security.pod_security_findings(obj, RESTRICTED) == []
    assert pod_security.pod_security_findings(realm_seeding(portal_stack), RESTRICTED) == []


def test_every_ingress_backend_of_the_portal_is_a_service_the_charts_render(
    portal_rendering: tuple[StackRendering, list[str]],
) -> None:
    """The wiring check (offline/wiring.py) finds every Ingress and IngressRoute backend
    among the Services the charts render; the portal chart's own default backend Ingress
    fails it, with its route to a `provisioning-service` portal 2.5.0 does not have."""
    rendering, findings = portal_rendering
    assert [f for f in findings if f.startswith("wiring_matches_the_charts") and "portal" in f] == []
    charts = rendered(rendering, "portal")
    (backend,) = [obj for _, obj in charts if obj["kind"] == "Ingress" and obj["metadata"]["name"] == "portal-backend"]
    assert {p["path"]: p["backend"]["service"]["name"] for p in backend["spec"]["rules"][0]["http"]["paths"]} == {
        "/api/registration": "portal-registration-service",
        "/api/administration": "portal-administration-service",
        "/api/notification": "portal-notification-service",
        "/api/apps": "portal-marketplace-app-service",
        "/api/services": "portal-services-service",
    }
    source = ChartSource("defaults", "argocd", "portal", "portal", "portal", pv.PORTAL_CHART, {})
    values = {"backend": {"ingress": {"enabled": True}}, "postgresql": {"enabled": False}}
    defaults = [
        Placed("defaults", "portal", obj)
        for obj in parse_objects(helm_template(source, rendering.kube_version, values))
    ]
    cluster = wiring.Cluster.of(defaults)
    assert [f for placed in defaults for f in wiring.ingress_backend_findings(cluster, placed)] == [
        "defaults: Ingress portal/portal-backend: no Service portal/portal-provisioning-service"
    ]


def test_keycloak_runs_the_pinned_keycloak_image_with_the_cx_central_theme(
    portal_rendering: tuple[StackRendering, list[str]], portal_stack: StackRun
) -> None:
    keycloak = portal_stack.application_values["centralidp"]["keycloak"]
    cache = f"{IMAGE_REGISTRIES[portal_stack.stack]}/docker-hub"
    assert keycloak["image"] == {
        "registry": cache,
        "repository": "bitnamilegacy/keycloak",
        "tag": "25.0.6-debian-12-r0",
    }
    rendering, _ = portal_rendering  # prod's
    cache = f"{IMAGE_REGISTRIES['prod']}/docker-hub"
    ((_, statefulset),) = workloads(rendering, "centralidp")
    pod = statefulset["spec"]["template"]["spec"]
    assert {c["name"]: c["image"] for c in pod["containers"]} == {
        "keycloak": f"{cache}/bitnamilegacy/keycloak:25.0.6-debian-12-r0"
    }
    # The values' initContainers and extra volumes replace the chart's lists: the theme
    # copy that centralidp's own values carry is kept.
    init = {c["name"]: c for c in pod["initContainers"]}
    assert set(init) == {"prepare-write-dirs", "themes", "rds-ca"}
    assert init["themes"]["image"] == f"{cache}/tractusx/portal-iam:v4.2.0"
    assert init["themes"]["command"] == ["sh", "-c", "cp -R /import/themes/catenax-central/* /themes"]
    assert init["themes"]["volumeMounts"] == [{"name": "themes", "mountPath": "/themes"}]
    (keycloak_container,) = pod["containers"]
    assert {"name": "themes", "mountPath": "/opt/bitnami/keycloak/themes/catenax-central", "readOnly": True} in (
        keycloak_container["volumeMounts"]
    )
    assert {"name": "themes", "emptyDir": {"sizeLimit": "64Mi"}} in pod["volumes"]


def test_the_realm_seeding_job_runs_pinned_images_with_the_platforms_secrets(portal_stack: StackRun) -> None:
    """centralidp's own seeding Job is off (its wait-for-keycloak image is
    alpine/curl:latest, written into the template); the program's Job seeds instead."""
    assert portal_stack.application_values["centralidp"]["realmSeeding"] == {"enabled": False}
    job = realm_seeding(portal_stack)
    assert (job["metadata"]["namespace"], job["metadata"]["name"]) == ("tractus-x", "centralidp-realm-seeding")
    pod = job["spec"]["template"]["spec"]
    images = {c["name"]: c["image"] for c in (*pod["initContainers"], *pod["containers"])}
    cache = f"{IMAGE_REGISTRIES[portal_stack.stack]}/docker-hub"
    assert images == {
        "realms": f"{cache}/tractusx/portal-iam:v4.2.0",
        "wait-for-keycloak": backup_image(portal_stack),  # the platform's image, by digest
        "realm-seeding": f"{cache}/tractusx/portal-iam-seeding:v4.2.0-iam",
    }
    assert re.fullmatch(r".+@sha256:[0-9a-f]{64}", images["wait-for-keycloak"])
    wait = pod["initContainers"][1]["command"]
    assert wait[:2] == ["python3", "-c"]
    assert "'http://centralidp-keycloak.tractus-x:80/auth/realms/master/.well-known/openid-configuration'" in wait[2]
    assert pod["automountServiceAccountToken"] is False and pod["restartPolicy"] == "Never"
    assert job["spec"]["activeDeadlineSeconds"] == 1800
    # A seeding that failed runs again on the next `pulumi up` (replaced, not awaited again).
    assert job["metadata"]["annotations"] == {"pulumi.com/replaceUnready": "true"}
    # Every Secret the Job reads is one External Secrets makes in its namespace.
    external = {
        (r.inputs["metadata"]["namespace"], r.inputs["metadata"]["name"]) for r in portal_stack.of_type(EXTERNAL_SECRET)
    }
    refs = {e["valueFrom"]["secretKeyRef"]["name"] for e in pod["containers"][0]["env"] if "valueFrom" in e}
    assert refs == {"centralidp-admin", "centralidp-clients", "centralidp-service-accounts"}
    assert {("tractus-x", name) for name in refs} <= external


def test_the_realm_seeding_configures_what_the_charts_job_would_entry_for_entry(
    portal_stack: StackRun, portal_rendering: tuple[StackRendering, list[str]]
) -> None:
    """The program's Job against centralidp 4.2.1's job-seeding.yaml rendered by helm with
    the same settings: the same variables in the same order, the same values and Secret
    keys; only the admin Secret's name is the platform's (the chart's is the Keycloak
    fullname, which nothing creates once keycloak.auth.existingSecret is set), and Keycloak's
    address is namespace-qualified (the wiring check verifies such addresses)."""
    rendering, _ = portal_rendering
    domain = portal_stack.exports["domain"]
    portal = f"https://{domain}"
    values = {
        **portal_stack.application_values["centralidp"],
        "realmSeeding": {
            "enabled": True,
            "sslRequired": "external",
            "bpn": "BPNL000000000001",
            "sharedidp": "https://sharedidp.partner.example.org",
            "clients": {
                "registration": {"redirects": [f"{portal}/*"]},
                "portal": {"rootUrl": f"{portal}/home", "redirects": [f"{portal}/*"]},
                "semantics": {"redirects": [f"{portal}/*"]},
                "miw": {"redirects": ["https://custodian.partner.example.org/*"]},
                "bpdm": {"redirects": ["https://bpdmpool.partner.example.org/*"]},
                "bpdmGate": {"redirects": ["https://bpdmportalgate.partner.example.org/*"]},
                "existingSecret": "centralidp-clients",
            },
            "serviceAccounts": {"existingSecret": "centralidp-service-accounts"},
        },
    }
    source = ChartSource("test", "argocd", "centralidp", "centralidp", "tractus-x", CENTRALIDP, values)
    (chart_job,) = [o for o in parse_objects(helm_template(source, rendering.kube_version)) if o["kind"] == "Job"]

    def entries(env: list[dict[str, Any]], admin_secret: str) -> list[tuple[str, Any]]:
        found = []
        for entry in env:
            # .NET configuration keys are case-insensitive; the chart spells one `Attributes`.
            name = entry["name"].upper()
            if "valueFrom" in entry:
                ref = entry["valueFrom"]["secretKeyRef"]
                found.append((name, ("secret", "admin" if ref["name"] == admin_secret else ref["name"], ref["key"])))
            else:
                value = entry["value"].strip().replace("centralidp-keycloak.tractus-x:", "centralidp-keycloak:")
                found.append((name, value))
        return found

    (chart_container,) = chart_job["spec"]["template"]["spec"]["containers"]
    (container,) = realm_seeding(portal_stack)["spec"]["template"]["spec"]["containers"]
    assert entries(container["env"], "centralidp-admin") == entries(chart_container["env"], "centralidp-keycloak")
    assert len(container["env"]) == 134
    assert container["resources"] == chart_container["resources"]
    # The chart's Job: what the program's replaces.
    chart_pod = chart_job["spec"]["template"]["spec"]
    assert [c["image"] for c in chart_pod["initContainers"]] == [
        "docker.io/tractusx/portal-iam:v4.2.0",
        "alpine/curl:latest",
    ]
    assert chart_job["metadata"]["name"] == "centralidp-keycloak-realm-seeding-1"  # .Release.Revision: always 1


def test_no_secret_the_platform_fills_is_rendered_with_random_values_argo_cd_would_apply(
    portal_rendering: tuple[StackRendering, list[str]], portal_stack: StackRun
) -> None:
    rendering, _ = portal_rendering
    assert [obj for _, obj in rendered(rendering, "centralidp") if obj["kind"] == "Secret"] == []
    secrets = {obj["metadata"]["name"]: obj for _, obj in rendered(rendering, "portal") if obj["kind"] == "Secret"}
    assert set(secrets) == {
        "portal-postgres-external-db",
        "portal-backend-keycloak",
        "portal-backend-mailing",
        "portal-backend-interfaces",
    }
    (root,) = [plain(r.inputs) for r in portal_stack.of_type(APPLICATION)]
    ignored = {
        d["name"]: d["jsonPointers"]
        for d in root["spec"]["source"]["helm"]["valuesObject"]["applications"]["portal"]["ignoreDifferences"]
        if d["kind"] == "Secret"
    }
    for name, secret in secrets.items():
        # randAlphaNum at each render: Argo CD must leave both fields to External Secrets.
        assert set(secret) >= {"stringData"} and "data" not in secret, name
        assert ignored[name] == ["/data", "/stringData"], name


def test_what_the_charts_render_for_the_portal_passes_the_checks_but_the_charts_placeholders(
    portal_rendering: tuple[StackRendering, list[str]],
) -> None:
    """The one finding left: the portal chart fills the unused username and password of
    its client-credentials clients with ``backend.placeholder`` ("empty"), a literal env
    value the credential check cannot tell from a password (deployment-backend-*.yaml,
    cronjob-backend-processes.yaml)."""
    rendering, findings = portal_rendering
    ours = [
        f
        for f in findings
        if "Application portal" in f or "Application centralidp" in f or "realm-seeding" in f or "portal/" in f
    ]
    placeholder = re.compile(
        r"no_credential_in_plain_env: Argo CD Application portal: (Deployment|CronJob) portal/[a-z-]+: "
        r"container [a-z-]+: (APPLICATIONCHECKLIST__[A-Z_]+|DIM|OFFERPROVIDER)__PASSWORD is a literal value"
    )
    assert [f for f in ours if not placeholder.match(f)] == []
    for _, obj in workloads(rendering, "portal"):
        _, spec = pod_security.pod_template(obj) or ({}, {})
        for container in spec["containers"]:
            env = {e["name"]: e.get("value") for e in container.get("env") or []}
            for name, value in env.items():
                if name.endswith("__PASSWORD") and value is not None:
                    assert value == "empty", name
                    assert env[name.removesuffix("__PASSWORD") + "__GRANTTYPE"] == "client_credentials", name
