"""Portal and central identity provider (issue 7, item 6): off by default; when enabled,
two pinned charts on the platform's RDS with every secret explicit, plain-prefix ingress
paths on Traefik, and nothing running against a pilot-light dr stack's replica."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from components import portal_values as pv
from components.database import CENTRALIDP_DATABASE, DATABASES, PORTAL_DATABASE
from components.portal import generated_names
from offline.checks import plain, run_checks
from offline.harness import StackRun, resolve
from policy import rules

APPLICATION = "kubernetes:argoproj.io/v1alpha1:Application"
RELEASE = "kubernetes:helm.sh/v3:Release"
CONFIG_MAP = "kubernetes:core/v1:ConfigMap"
SECRET = "kubernetes:core/v1:Secret"
CRON_JOB = "kubernetes:batch/v1:CronJob"
INGRESS_ROUTE = "kubernetes:traefik.io/v1alpha1:IngressRoute"
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
        assert spec.namespace == "tractus-x"
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
        assert (app.project, app.namespace, app.release) == ("tractus-x-portal", "tractus-x", app.name)
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
    (init,) = keycloak["initContainers"]
    (backup_image,) = {
        c["image"]
        for job in portal_stack.of_type(CRON_JOB)
        if job.inputs["metadata"]["name"] == "backup-database"
        for c in plain(job.inputs)["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    }
    assert init["image"] == backup_image  # the image that ships the RDS CA bundle
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
        assert resource["metadata"]["namespace"] == "tractus-x"


def test_no_secret_value_is_in_any_helm_values(portal_stack: StackRun) -> None:
    rendered = json.dumps(portal_stack.application_values)
    values = {value for data in seed_values(portal_stack).values() for value in data.values()}
    assert values, "the seeds carry the secret values"
    for value in values:
        assert value not in rendered


def test_every_secret_the_charts_read_is_synced_from_a_seeded_vault_path(portal_stack: StackRun) -> None:
    seeds = seed_values(portal_stack)
    portal = portal_stack.application_values["portal"]
    keycloak = portal_stack.application_values["centralidp"]["keycloak"]
    seeding = portal_stack.application_values["centralidp"]["realmSeeding"]
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
        seeding["clients"]["existingSecret"]: set(pv.CENTRALIDP_CLIENTS),
        seeding["serviceAccounts"]["existingSecret"]: set(pv.CENTRALIDP_SERVICE_ACCOUNTS),
    }
    synced = {secret.name: secret for app in apps(portal_stack).values() for secret in app.secrets}
    assert set(synced) == set(read_by_charts)
    for name, keys in read_by_charts.items():
        secret = synced[name]
        assert set(secret.keys) == keys, name
        assert secret.namespace == "tractus-x"
        assert set(secret.keys.values()) <= set(seeds[secret.path]), name
    # The realm seeding's Secrets are not rendered when named (existingSecret); all others are.
    rendered = {name for app in portal_stack.applications for name in app.chart_rendered_secrets}
    assert rendered == set(read_by_charts) - {pv.CENTRALIDP_CLIENTS_SECRET, pv.CENTRALIDP_SERVICE_ACCOUNTS_SECRET}


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
        secrets = {d["name"]: d for d in child["ignoreDifferences"] if d["kind"] == "Secret"}
        assert set(secrets) == set(app.chart_rendered_secrets)
        for entry in secrets.values():
            assert entry == {**entry, "group": "", "namespace": "tractus-x", "jsonPointers": ["/data"]}
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
        for r in portal_stack.of_type("kubernetes:external-secrets.io/v1:ExternalSecret")
        if r.inputs["metadata"]["namespace"] == "tractus-x"
    }
    for app in apps(portal_stack).values():
        for secret in app.secrets:
            target = external[secret.name]["target"]
            assert target["name"] == secret.name
            # The chart renders these too: External Secrets creates or merges, never owns them.
            assert target["creationPolicy"] == ("CreateOrMerge" if secret.chart_renders else "Owner"), secret.name
            assert target["deletionPolicy"] == "Retain"
