"""database: RDS PostgreSQL as the playbook's "database clustering" with backups, TLS and
the platform's databases; every credential stays secret."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from components.database import (
    DATABASES,
    EDC_DATABASE,
    ENGINE_VERSION,
    INIT_IMAGE,
    MASTER_SECRET,
    PARAMETER_GROUP_FAMILY,
    init_sql,
)
from components.settings import (
    DATABASE_INSTANCE_CLASSES,
    DATABASE_MIN_BACKUP_RETENTION_DAYS,
    DATABASE_MINIMUM_MEMORY_GIB,
    DATABASE_MINIMUM_VCPU,
    SettingsError,
)
from offline.checks import is_secret, plain, rds_encrypted_and_private, secrets_stay_secret
from offline.harness import RegisteredResource, StackRun, run_stack
from tests.conftest import IMAGE_REGISTRIES, policy

INSTANCE = "aws:rds/instance:Instance"
SECRET = "kubernetes:core/v1:Secret"
JOB = "kubernetes:batch/v1:Job"


def instance(run: StackRun) -> dict[str, Any]:
    return run.one(INSTANCE).inputs


def kubernetes(run: StackRun, type_: str, name: str, namespace: str) -> RegisteredResource:
    (found,) = [
        r
        for r in run.of_type(type_)
        if plain(r.inputs["metadata"]).get("name") == name and plain(r.inputs["metadata"]).get("namespace") == namespace
    ]
    return found


# The dr stack's database is a replica of prod's: tests/test_disaster_recovery.py.
def test_database_is_multi_az_private_and_named_for_the_alerts(prod: StackRun) -> None:
    db = instance(prod)
    assert db["identifier"] == f"tx-{prod.exports['environment']}-postgres"
    assert prod.exports["databaseIdentifier"] == db["identifier"]
    assert db["multiAz"] is True
    assert db["publiclyAccessible"] is False
    subnets = prod.one("aws:rds/subnetGroup:SubnetGroup").inputs
    assert sorted(subnets["subnetIds"]) == sorted(prod.exports["privateSubnetIds"])
    assert db["engine"] == "postgres"
    assert db["engineVersion"] == ENGINE_VERSION
    assert db["autoMinorVersionUpgrade"] is False  # minor upgrades are reviewed changes
    assert db["caCertIdentifier"] == "rds-ca-rsa2048-g1"


def test_only_the_cluster_security_group_reaches_postgres(stack: StackRun) -> None:
    (rule,) = stack.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    assert rule.inputs["referencedSecurityGroupId"] == stack.exports["clusterSecurityGroupId"]
    assert (rule.inputs["fromPort"], rule.inputs["toPort"], rule.inputs["ipProtocol"]) == (5432, 5432, "tcp")
    assert "cidrIpv4" not in rule.inputs
    group = stack.one("aws:ec2/securityGroup:SecurityGroup", "tractusx-database-sg").inputs
    assert "ingress" not in group and "egress" not in group  # no inline rules besides the one above
    assert instance(stack)["vpcSecurityGroupIds"] == [rule.inputs["securityGroupId"]]


def test_storage_and_insights_are_encrypted_with_the_rotating_customer_key(prod: StackRun) -> None:
    db = instance(prod)
    assert db["storageEncrypted"] is True
    assert db["storageType"] == "gp3"
    assert db["maxAllocatedStorage"] > db["allocatedStorage"] >= 100  # playbook: 100 GB minimum
    key_name = db["kmsKeyId"].rsplit(":", 1)[-1]
    assert prod.one("aws:kms/key:Key", key_name).inputs["enableKeyRotation"] is True
    assert db["performanceInsightsEnabled"] is True
    assert db["performanceInsightsKmsKeyId"] == db["kmsKeyId"]
    assert db["performanceInsightsRetentionPeriod"] == 7
    assert prod.exports["databaseKmsKeyArn"] == db["kmsKeyId"]


def test_automated_backups_give_at_least_a_week_of_point_in_time_recovery(stack: StackRun) -> None:
    db = instance(stack)
    assert db["backupRetentionPeriod"] >= DATABASE_MIN_BACKUP_RETENTION_DAYS
    assert db["backupRetentionPeriod"] == 14
    assert db["copyTagsToSnapshot"] is True
    assert db["deleteAutomatedBackups"] is False


def test_prod_database_cannot_be_deleted_without_a_final_snapshot(prod: StackRun) -> None:
    db = instance(prod)
    assert db["deletionProtection"] is True
    assert db["skipFinalSnapshot"] is False
    assert db["finalSnapshotIdentifier"] == "tx-prod-postgres-final"
    # `pulumi destroy -s prod` refuses to delete it (Pulumi's protect).
    (resource,) = prod.of_type("aws:rds/instance:Instance")
    assert resource.protect is True


def test_prod_keeps_deletion_protection_even_when_the_setting_is_off() -> None:
    run = run_stack("prod", overrides={"deletionProtection": False})
    assert instance(run)["deletionProtection"] is True


def test_parameter_group_forces_tls_and_logs_slow_statements_and_connections(stack: StackRun) -> None:
    group = stack.one("aws:rds/parameterGroup:ParameterGroup").inputs
    assert group["family"] == PARAMETER_GROUP_FAMILY
    assert ENGINE_VERSION.split(".")[0] in PARAMETER_GROUP_FAMILY
    parameters = {p["name"]: p["value"] for p in group["parameters"]}
    assert parameters["rds.force_ssl"] == "1"
    assert int(parameters["log_min_duration_statement"]) == 1000
    assert parameters["log_connections"] == "1"
    assert parameters["log_disconnections"] == "1"
    assert instance(stack)["parameterGroupName"] == group["name"]


def test_monitoring_and_log_exports_go_to_encrypted_expiring_groups(stack: StackRun) -> None:
    db = instance(stack)
    assert db["monitoringInterval"] in (30, 60)
    assert db["monitoringRoleArn"].endswith("/tractusx-database-monitoring")
    trust = policy(stack.one("aws:iam/role:Role", "tractusx-database-monitoring").inputs["assumeRolePolicy"])
    assert trust["Statement"][0]["Principal"] == {"Service": "monitoring.rds.amazonaws.com"}
    attachment = stack.one(
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
        "tractusx-database-monitoring-AmazonRDSEnhancedMonitoringRole",
    )
    assert attachment.inputs["policyArn"] == "arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"
    assert db["enabledCloudwatchLogsExports"] == ["postgresql", "upgrade"]
    groups = {
        g.inputs["name"]: g
        for g in stack.of_type("aws:cloudwatch/logGroup:LogGroup")
        if g.inputs["name"].startswith("/aws/rds/")
    }
    assert set(groups) == {f"/aws/rds/instance/{db['identifier']}/{kind}" for kind in ("postgresql", "upgrade")}
    for group in groups.values():
        assert group.inputs["kmsKeyId"] and group.inputs["retentionInDays"] == 365
        assert group.urn in stack.one(INSTANCE).dependencies  # created before RDS would create them


def test_iam_authentication_is_available(stack: StackRun) -> None:
    assert instance(stack)["iamDatabaseAuthenticationEnabled"] is True


def test_instance_class_meets_the_playbooks_database_size(stack: StackRun) -> None:
    vcpu, memory = DATABASE_INSTANCE_CLASSES[instance(stack)["instanceClass"]]
    assert vcpu >= DATABASE_MINIMUM_VCPU and memory >= DATABASE_MINIMUM_MEMORY_GIB


def test_an_instance_class_below_the_playbook_minimum_is_refused() -> None:
    with pytest.raises(SettingsError) as error:
        run_stack("prod", overrides={"database": {"instanceClass": "db.m7g.large"}})
    message = str(error.value)
    assert "tractusx-platform:database.instanceClass" in message
    assert "at least 4 vCPU / 8 GiB" in message


def test_master_password_is_a_secret_and_reaches_only_rds_and_a_secret(prod: StackRun) -> None:
    db = instance(prod)
    assert is_secret(db["password"])
    master = kubernetes(prod, SECRET, MASTER_SECRET, "backup")
    data = master.inputs["stringData"]
    assert is_secret(data)
    assert data["value"]["password"] == db["password"]["value"]
    assert set(data["value"]) >= {"username", "password", "host", "port"}
    assert data["value"]["host"] == prod.exports["databaseAddress"]


@pytest.mark.parametrize("spec", [spec for spec in DATABASES if not spec.in_vault], ids=lambda spec: spec.name)
def test_each_database_has_its_owner_and_a_secret_in_the_namespace_that_uses_it(prod: StackRun, spec: Any) -> None:
    secret = kubernetes(prod, SECRET, spec.secret_name, spec.namespace)
    data = secret.inputs["stringData"]
    assert is_secret(data)
    assert data["value"]["database"] == spec.name
    assert data["value"]["username"] == spec.owner
    assert data["value"]["sslmode"] == "verify-full"
    init_passwords = kubernetes(prod, SECRET, "database-init", "backup").inputs["stringData"]["value"]
    assert init_passwords[spec.password_env] == data["value"]["password"]


def test_the_databases_and_passwords_differ(prod: StackRun) -> None:
    passwords = kubernetes(prod, SECRET, "database-init", "backup").inputs["stringData"]["value"]
    master = instance(prod)["password"]["value"]
    assert len({*passwords.values(), master}) == len(DATABASES) + 1
    assert {spec.name for spec in DATABASES} == {"tractus_x", "edc"}


def test_the_connector_has_one_database_whose_secret_comes_from_vault(prod: StackRun) -> None:
    # Playbook "Backup Strategy" names edc_control and edc_data; the connector chart has one
    # datasource for both planes, so the connector gets one database, `edc`, whose
    # password reaches it through Vault: the database component writes no Secret for it.
    assert EDC_DATABASE in DATABASES and EDC_DATABASE.in_vault
    names = {(r.inputs["metadata"]["name"], r.inputs["metadata"].get("namespace")) for r in prod.of_type(SECRET)}
    assert (EDC_DATABASE.secret_name, EDC_DATABASE.namespace) not in names
    init_passwords = kubernetes(prod, SECRET, "database-init", "backup").inputs["stringData"]["value"]
    assert EDC_DATABASE.password_env in init_passwords


def test_no_password_appears_in_a_config_map_helm_values_or_plain_text(stack: StackRun) -> None:
    assert secrets_stay_secret(stack) == []
    assert rds_encrypted_and_private(stack) == []


def test_the_secret_check_catches_a_password_in_a_config_map(prod: StackRun) -> None:
    password = instance(prod)["password"]["value"]
    leaked = RegisteredResource(
        type="kubernetes:core/v1:ConfigMap",
        name="leaky",
        urn="urn:leaky",
        inputs={"metadata": {"name": "leaky"}, "data": {"DB_URL": f"postgres://admin:{password}@db"}},
        provider="",
        custom=True,
        parent="",
        component="platform",
    )
    run = StackRun(stack="prod", resources=[*prod.resources, leaked], exports={})
    assert secrets_stay_secret(run) == [
        "kubernetes:core/v1:ConfigMap leaky: a secret value appears in a ConfigMap or Helm values"
    ]


def test_init_sql_is_idempotent_and_takes_passwords_only_from_the_environment() -> None:
    sql = init_sql()
    for spec in DATABASES:
        assert f"\\getenv password {spec.password_env}" in sql
        assert f"WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{spec.owner}')" in sql
        assert f"WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '{spec.name}')" in sql
        assert f"PASSWORD %L', '{spec.owner}', :'password') \\gexec" in sql
    assert sql.startswith("\\set ON_ERROR_STOP on")
    assert "offline-" not in sql


def test_init_job_reruns_on_rotation_and_connects_with_verified_tls(prod: StackRun) -> None:
    job = kubernetes(prod, JOB, "database-init", "backup")
    spec = plain(job.inputs["spec"])
    annotations = spec["template"]["metadata"]["annotations"]
    assert annotations["tractusx-platform/secret-rotation"] == "1"
    assert annotations["tractusx-platform/sql-sha256"] == hashlib.sha256(init_sql().encode()).hexdigest()
    pod = spec["template"]["spec"]
    (container,) = pod["containers"]
    # The official image (Docker Hub's library/), through the stack's cache, by digest.
    assert container["image"] == f"{IMAGE_REGISTRIES['prod']}/docker-hub/library/{INIT_IMAGE}"
    assert "@sha256:" in INIT_IMAGE
    assert INIT_IMAGE.startswith(f"postgres:{ENGINE_VERSION.split('.')[0]}.")  # psql of the server's major
    env = {e["name"]: e for e in container["env"]}
    assert env["PGSSLMODE"]["value"] == "verify-full"
    assert env["PGSSLROOTCERT"]["value"].startswith("/etc/rds-ca/")
    assert env["PGPASSWORD"]["valueFrom"]["secretKeyRef"] == {"name": MASTER_SECRET, "key": "password"}
    assert all("value" not in e for name, e in env.items() if name.endswith("PASSWORD"))
    (ca,) = pod["initContainers"]
    assert ca["image"] == prod.exports["backupImage"]
    for c in (container, ca):
        assert c["securityContext"]["readOnlyRootFilesystem"] is True
        assert c["securityContext"]["allowPrivilegeEscalation"] is False
        assert c["resources"]["limits"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["automountServiceAccountToken"] is False
    assert prod.one(INSTANCE).urn in job.dependencies
    # A Job is immutable and its name fixed: a changed spec deletes it, then runs it anew.
    assert job.replace_on_changes == ("spec",)
    assert job.delete_before_replace is True


def test_a_rotation_changes_the_init_jobs_template() -> None:
    run = run_stack("prod", overrides={"secretRotation": 2})
    job = kubernetes(run, JOB, "database-init", "backup")
    assert plain(job.inputs["spec"])["template"]["metadata"]["annotations"]["tractusx-platform/secret-rotation"] == "2"
