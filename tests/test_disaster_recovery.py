"""Disaster recovery (playbook "Disaster Recovery", "High Availability Setup": geographic
distribution): the dr stack as a warm standby of prod in a second region, run under the
harness with prod's real exports; its activation; the failover records."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from components import certificates
from components.certificates import SOLVER_LABELS, Dns01Zone, challenge_flows, dns01_policy, route53_record_name
from components.ingress import HEALTH_CHECK_PATH
from components.replication import REPLICATION_TIME_MINUTES
from components.settings import SettingsError
from components.traffic import INTERNET, Pods
from offline.checks import is_secret, kms_keys_rotate, plain, policy_pack
from offline.connectivity import observed_flows, required_flows_are_allowed, stack_model, stack_network
from offline.harness import RegisteredResource, StackRun, run_stack
from offline.recovery_objectives import ZONE_ID
from offline.render import StackRendering
from offline.rendered_checks import check_stack, deployed
from policy import rules
from policy.rules import Resource, rds_protected
from tests.conftest import chart_of, policy

INSTANCE = "aws:rds/instance:Instance"
SECRET = "kubernetes:core/v1:Secret"
JOB = "kubernetes:batch/v1:Job"
CRON_JOB = "kubernetes:batch/v1:CronJob"
NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
REPLICATION = "aws:s3/bucketReplicationConfig:BucketReplicationConfig"
HEALTH_CHECK = "aws:route53/healthCheck:HealthCheck"
RECORD = "aws:route53/record:Record"
ROLE = "aws:iam/role:Role"

# The Network Load Balancers' canonical hosted zones (AWS General Reference, "Elastic
# Load Balancing endpoints and quotas").
NLB_ZONES = {"eu-central-1": "Z3F0SRJ5LGBH90", "eu-west-1": "Z2IFOLAFXWLO4F"}


@pytest.fixture(scope="module")
def active(prod: StackRun) -> StackRun:
    """The dr stack after `pulumi config set dr.active true -s dr`."""
    return run_stack("dr", overrides={"dr.active": True}, references={"prod": prod})


def secret_data(run: StackRun, name: str, namespace: str) -> dict[str, Any]:
    (found,) = [
        r
        for r in run.of_type(SECRET)
        if plain(r.inputs["metadata"]) == {**plain(r.inputs["metadata"]), "name": name, "namespace": namespace}
    ]
    data = found.inputs["stringData"]
    assert is_secret(data), f"Secret {namespace}/{name} must be a Pulumi secret"
    return dict(data["value"])


def named(run: StackRun, type_: str, name: str) -> list[RegisteredResource]:
    return [r for r in run.of_type(type_) if plain(r.inputs.get("metadata", {})).get("name") == name]


# --- one StackReference, clear errors --------------------------------------------------


def test_dr_reads_prod_through_one_stack_reference(dr: StackRun) -> None:
    (reference,) = dr.of_type("pulumi:pulumi:StackReference")
    assert reference.name == "organization/tractusx-platform/prod"
    assert dr.exports["primaryRegion"] == "eu-central-1" != dr.exports["region"]


@pytest.mark.parametrize("missing", ["databaseArn", "backupBucketArn", "dnsHostedZoneId", "databaseMasterPassword"])
def test_a_prod_stack_without_an_output_the_dr_stack_needs_is_named_in_the_error(
    prod_with_zone: StackRun, missing: str
) -> None:
    older = dataclasses.replace(
        prod_with_zone, exports={k: v for k, v in prod_with_zone.exports.items() if k != missing}
    )
    overrides = {"dns": {"hostedZoneId": ZONE_ID}}
    with pytest.raises(
        Exception, match=f"stack organization/tractusx-platform/prod has no output '{missing}'"
    ) as error:
        run_stack("dr", overrides=overrides, references={"prod": older})
    assert "pulumi up -s prod" in str(error.value)


def test_the_dr_stack_serves_its_primarys_domain(prod: StackRun) -> None:
    """Failover moves the same host names between the stacks: a dr stack that kept the
    example domain while prod's was changed stops with both named."""
    elsewhere = dataclasses.replace(prod, exports={**prod.exports, "domain": "tractus-x.acme-corp.eu"})
    with pytest.raises(
        Exception,
        match=r"the dr stack serves tractus-x\.example\.com, its primary stack .* serves tractus-x\.acme-corp\.eu",
    ):
        run_stack("dr", references={"prod": elsewhere})
    assert run_stack("dr", references={"prod": prod}).exports["domain"] == prod.exports["domain"]


def test_activation_needs_prods_node_group_sizes(prod: StackRun) -> None:
    older = dataclasses.replace(prod, exports={k: v for k, v in prod.exports.items() if k != "nodeGroupSizes"})
    with pytest.raises(Exception, match="has no output 'nodeGroupSizes'"):
        run_stack("dr", overrides={"dr.active": True}, references={"prod": older})


def test_prod_exports_the_credentials_as_secrets(prod: StackRun) -> None:
    assert {"databaseMasterPassword", "databaseOwnerPasswords"} <= prod.secret_exports
    assert "databaseArn" in prod.exports and "ingressHostname" in prod.exports


# --- settings ----------------------------------------------------------------------------


def test_dr_active_on_a_primary_stack_is_refused() -> None:
    with pytest.raises(SettingsError, match=r"tractusx-platform:dr\.active: is only allowed when role is dr"):
        run_stack("prod", overrides={"dr.active": True})


def test_dr_active_must_be_a_boolean(prod: StackRun) -> None:
    with pytest.raises(SettingsError, match=r"tractusx-platform:dr\.active: must be true or false, got 'yes'"):
        run_stack("dr", overrides={"dr.active": "yes"}, references={"prod": prod})


def test_a_bad_zone_id_and_a_dr_zone_that_is_not_the_primarys_are_refused(prod: StackRun) -> None:
    # prod has no hosted zone: dr's SECONDARY records alone would take all the traffic.
    with pytest.raises(Exception, match=r"dns\.hostedZoneId: the dr stack creates its records in Z0.*no hosted zone"):
        run_stack("dr", overrides={"dns": {"hostedZoneId": ZONE_ID}}, references={"prod": prod})
    with pytest.raises(SettingsError, match=r"tractusx-platform:dns\.hostedZoneId: 'example\.com' is not"):
        run_stack("dr", overrides={"dns": {"hostedZoneId": "example.com"}}, references={"prod": prod})
    with pytest.raises(SettingsError, match=r"dns\.healthCheckIntervalSeconds: is 15; Route 53 allows 10 or 30"):
        run_stack(
            "dr",
            overrides={"dns": {"hostedZoneId": ZONE_ID, "healthCheckIntervalSeconds": 15}},
            references={"prod": prod},
        )


def test_dr_active_set_with_path_is_refused_with_the_right_command(prod: StackRun) -> None:
    # `pulumi config set --path dr.active true` stores an object under the key `dr`.
    with pytest.raises(SettingsError, match=r"tractusx-platform:dr: is stored as an object") as error:
        run_stack("dr", overrides={"dr": {"active": True}}, references={"prod": prod})
    assert "pulumi config set dr.active true" in str(error.value)


# --- database: cross-region replica, promotion -------------------------------------------


def test_the_dr_database_is_a_cross_region_replica_of_prods(dr: StackRun, prod: StackRun) -> None:
    db = dr.one(INSTANCE).inputs
    primary = prod.one(INSTANCE).inputs
    assert db["replicateSourceDb"] == prod.exports["databaseArn"]
    assert ":eu-central-1:" in db["replicateSourceDb"]
    # Encrypted with a customer key of the dr region (RDS re-encrypts across regions).
    assert db["storageEncrypted"] is True
    assert db["kmsKeyId"] == dr.exports["databaseKmsKeyArn"] != prod.exports["databaseKmsKeyArn"]
    assert db["kmsKeyId"].startswith("arn:aws:kms:eu-west-1:")
    key_name = db["kmsKeyId"].rsplit(":", 1)[-1]
    assert dr.one("aws:kms/key:Key", key_name).inputs["enableKeyRotation"] is True
    # A replica takes engine, version, master user and password from its source.
    for taken_from_source in ("username", "password", "dbName", "engine", "engineVersion", "allocatedStorage"):
        assert taken_from_source not in db, taken_from_source
    for same in (
        "instanceClass",
        "caCertIdentifier",
        "monitoringInterval",
        "enabledCloudwatchLogsExports",
        "performanceInsightsEnabled",
        "iamDatabaseAuthenticationEnabled",
        "backupRetentionPeriod",
        "publiclyAccessible",
        "storageType",
    ):
        assert db[same] == primary[same], same
    # Backups on the replica, so the promoted database has them from the start.
    assert db["backupRetentionPeriod"] >= 7
    assert db["multiAz"] is True  # promotion waits for no standby
    # `pulumi destroy -s dr` must work: RDS takes no final snapshot of a read replica and
    # deletion protection would refuse the delete; the data is the primary's.
    assert db["deletionProtection"] is False and db["skipFinalSnapshot"] is True
    assert "finalSnapshotIdentifier" not in db
    assert dr.one(INSTANCE).protect is False


def test_the_replica_keeps_tls_private_subnets_and_the_cluster_only_security_group(dr: StackRun) -> None:
    db = dr.one(INSTANCE).inputs
    parameters = dr.one("aws:rds/parameterGroup:ParameterGroup").inputs
    assert db["parameterGroupName"] == parameters["name"]
    assert {p["name"]: p["value"] for p in parameters["parameters"]}["rds.force_ssl"] == "1"
    subnets = dr.one("aws:rds/subnetGroup:SubnetGroup").inputs
    assert sorted(subnets["subnetIds"]) == sorted(dr.exports["privateSubnetIds"])
    (rule,) = dr.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    assert rule.inputs["referencedSecurityGroupId"] == dr.exports["clusterSecurityGroupId"]
    assert db["vpcSecurityGroupIds"] == [rule.inputs["securityGroupId"]]


def test_the_dr_secrets_carry_prods_credentials(dr: StackRun, prod: StackRun) -> None:
    assert (
        secret_data(dr, "database-master", "backup")["password"]
        == (secret_data(prod, "database-master", "backup")["password"])
    )
    for name, namespace in (("database-tractus-x", "tractus-x"),):
        dr_owner, prod_owner = secret_data(dr, name, namespace), secret_data(prod, name, namespace)
        assert dr_owner["password"] == prod_owner["password"]
        assert dr_owner["host"] == dr.exports["databaseAddress"] != prod_owner["host"]
    # The dr stack generates no database password of its own.
    assert [r.name for r in dr.of_type("random:index/randomPassword:RandomPassword") if "database" in r.name] == []


def test_the_init_job_never_runs_against_the_read_only_replica(dr: StackRun) -> None:
    assert named(dr, JOB, "database-init") == []
    assert named(dr, SECRET, "database-init") == []


def test_activation_promotes_the_replica_with_multi_az_and_deletion_protection(active: StackRun) -> None:
    db = active.one(INSTANCE).inputs
    assert "replicateSourceDb" not in db  # removing it promotes the replica
    assert db["multiAz"] is True
    assert db["deletionProtection"] is True
    assert db["skipFinalSnapshot"] is False and db["finalSnapshotIdentifier"].endswith("-final")
    assert db["applyImmediately"] is True
    assert db["storageEncrypted"] is True and db["kmsKeyId"] == active.exports["databaseKmsKeyArn"]
    (job,) = named(active, JOB, "database-init")
    assert active.one(INSTANCE).urn in job.dependencies


def test_the_policy_sees_the_replica_and_the_promoted_database(dr: StackRun, active: StackRun) -> None:
    for run in (dr, active):
        r = run.one(INSTANCE)
        assert rds_protected(Resource(type=r.type, name=r.name, props=plain(r.inputs), urn=r.urn)) == []
    promoted = plain(active.one(INSTANCE).inputs)
    for weakened, violation in (
        ({"multiAz": False}, "not Multi-AZ in production"),
        ({"deletionProtection": False}, "deletion protection is off in production"),
    ):
        props = {**promoted, **weakened}
        assert violation in rds_protected(Resource(type=INSTANCE, name="db", props=props, urn="urn:db"))


# --- node groups: pilot light and active sizing ------------------------------------------


def test_pilot_light_keeps_at_least_three_nodes_and_the_autoscaler_owns_the_size(dr: StackRun) -> None:
    (group,) = dr.of_type(NODE_GROUP)
    scaling = plain(group.inputs["scalingConfig"])
    assert scaling["minSize"] == 3 and scaling["desiredSize"] == 3
    assert len(group.inputs["subnetIds"]) == 3  # three availability zones
    assert group.ignore_changes == ("scalingConfig.desiredSize",)


def test_activation_scales_the_node_groups_to_prods_sizes(active: StackRun, prod: StackRun) -> None:
    (group,) = active.of_type(NODE_GROUP)
    (prod_group,) = prod.of_type(NODE_GROUP)
    assert plain(group.inputs["scalingConfig"]) == plain(prod_group.inputs["scalingConfig"])
    assert plain(group.inputs["scalingConfig"])["minSize"] == prod.exports["nodeGroupSizes"]["general"]["minSize"]
    # EKS refuses a minimum above the current desired size: activation sets both.
    assert group.ignore_changes == ()


# --- backups: suspended jobs, replication ------------------------------------------------


def test_backup_jobs_wait_suspended_until_activation(dr: StackRun, active: StackRun, prod: StackRun) -> None:
    assert {c.name: plain(c.inputs["spec"])["suspend"] for c in dr.of_type(CRON_JOB)} == {
        c.name: True for c in dr.of_type(CRON_JOB)
    }
    for run in (active, prod):
        # The Vault restore (dr only) never runs on schedule, activated or not.
        assert {c.name: plain(c.inputs["spec"])["suspend"] for c in run.of_type(CRON_JOB)} == {
            c.name: c.name.endswith("-restore-vault") for c in run.of_type(CRON_JOB)
        }


def test_replication_is_configured_on_prods_bucket_in_prods_region(dr: StackRun, prod: StackRun) -> None:
    config = dr.one(REPLICATION)
    assert config.inputs["bucket"] == prod.exports["backupBucketName"]
    (provider,) = [r for r in dr.of_type("pulumi:providers:aws") if config.provider.startswith(f"{r.urn}::")]
    assert provider.inputs["region"] == prod.exports["region"] == "eu-central-1"
    # An outage of prod's region must not stop `pulumi up -s dr` at the provider's start.
    for skip in ("skipCredentialsValidation", "skipRequestingAccountId", "skipRegionValidation"):
        assert provider.inputs[skip] in (True, "true"), skip
    # prod itself configures no replication and never reads the dr stack.
    assert prod.of_type(REPLICATION) == [] and prod.of_type("pulumi:pulumi:StackReference") == []


def test_replication_rule_covers_every_prefix_with_delete_markers_kms_and_rtc(dr: StackRun) -> None:
    (rule,) = plain(dr.one(REPLICATION).inputs["rules"])
    assert rule["status"] == "Enabled"
    assert rule["filter"] == {"prefix": ""}
    assert rule["deleteMarkerReplication"] == {"status": "Enabled"}
    assert rule["sourceSelectionCriteria"] == {"sseKmsEncryptedObjects": {"status": "Enabled"}}
    destination = rule["destination"]
    assert destination["bucket"] == dr.exports["backupBucketArn"]
    assert destination["encryptionConfiguration"] == {"replicaKmsKeyId": dr.exports["backupKmsKeyArn"]}
    assert destination["storageClass"] == "STANDARD"
    assert destination["replicationTime"] == {"status": "Enabled", "time": {"minutes": REPLICATION_TIME_MINUTES}}
    assert destination["metrics"] == {"status": "Enabled", "eventThreshold": {"minutes": REPLICATION_TIME_MINUTES}}
    assert REPLICATION_TIME_MINUTES == 15


def test_versioning_is_on_for_both_buckets(dr: StackRun, prod: StackRun) -> None:
    for run in (dr, prod):
        (versioning,) = run.of_type("aws:s3/bucketVersioning:BucketVersioning")
        assert versioning.inputs["versioningConfiguration"]["status"] == "Enabled"
        bucket = run.one("aws:s3/bucket:Bucket", "tractusx-backup-bucket")
        assert bucket.inputs["bucket"] == run.exports["backupBucketName"]
        assert versioning.parent == bucket.urn
    (dr_versioning,) = dr.of_type("aws:s3/bucketVersioning:BucketVersioning")
    assert dr_versioning.urn in dr.one(REPLICATION).dependencies


def test_the_replication_role_has_least_privilege(dr: StackRun, prod: StackRun) -> None:
    role = dr.one("aws:iam/role:Role", "tractusx-replication-role")
    (trust,) = policy(role.inputs["assumeRolePolicy"])["Statement"]
    assert trust["Principal"] == {"Service": "s3.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}
    assert dr.one(REPLICATION).inputs["role"].endswith(":role/tractusx-replication-role")
    statements = {
        s["Sid"]: s
        for s in policy(dr.one("aws:iam/rolePolicy:RolePolicy", "tractusx-replication-role-policy").inputs["policy"])[
            "Statement"
        ]
    }
    source, destination = prod.exports["backupBucketArn"], dr.exports["backupBucketArn"]
    expected = {
        "SourceBucketConfiguration": (["s3:GetReplicationConfiguration", "s3:ListBucket"], source),
        "SourceObjectVersions": (
            ["s3:GetObjectVersionAcl", "s3:GetObjectVersionForReplication", "s3:GetObjectVersionTagging"],
            f"{source}/*",
        ),
        "ReplicateIntoDestination": (
            ["s3:ReplicateDelete", "s3:ReplicateObject", "s3:ReplicateTags"],
            f"{destination}/*",
        ),
        "DecryptSourceObjects": ("kms:Decrypt", prod.exports["backupKmsKeyArn"]),
        "EncryptReplicas": (["kms:Encrypt", "kms:GenerateDataKey"], dr.exports["backupKmsKeyArn"]),
    }
    assert {sid: (s["Action"], s["Resource"]) for sid, s in statements.items()} == expected
    assert all(s["Effect"] == "Allow" and "*" not in s["Action"] for s in statements.values())
    for sid, region, bucket in (
        ("DecryptSourceObjects", "eu-central-1", source),
        ("EncryptReplicas", "eu-west-1", destination),
    ):
        assert statements[sid]["Condition"] == {
            "StringEquals": {"kms:ViaService": f"s3.{region}.amazonaws.com"},
            "StringLike": {"kms:EncryptionContext:aws:s3:arn": [bucket, f"{bucket}/*"]},
        }


# --- DNS failover ------------------------------------------------------------------------


def test_without_a_hosted_zone_the_records_to_create_are_listed(prod: StackRun, dr: StackRun, active: StackRun) -> None:
    for run in (prod, dr, active):
        assert run.of_type(HEALTH_CHECK) == [] and run.of_type(RECORD) == []
        domain = run.exports["domain"]
        assert run.exports["servedHosts"] == [f"edc.{domain}", f"edc-data.{domain}"]
        assert run.exports["dnsRecords"] == [
            {"name": host, "type": "CNAME", "value": run.exports["ingressHostname"]}
            for host in run.exports["servedHosts"]
        ]


def test_each_stack_creates_its_half_of_the_failover_records_for_every_served_host(
    prod_with_zone: StackRun, with_zone: StackRun
) -> None:
    """PRIMARY records on prod, SECONDARY on dr, one per served host, each aliasing its
    own stack's load balancer with its own health check: no record of one stack is the
    other's, so prod's region gone leaves dr's records to answer."""
    halves = {"PRIMARY": (prod_with_zone, "eu-central-1"), "SECONDARY": (with_zone, "eu-west-1")}
    for role, (run, region) in halves.items():
        records = [plain(r.inputs) for r in run.of_type(RECORD)]
        assert sorted(r["name"] for r in records) == sorted(run.exports["servedHosts"])
        (check,) = [plain(r.inputs) for r in run.of_type(HEALTH_CHECK)]
        assert check["fqdn"] == run.exports["ingressHostname"]
        assert check["type"] == "HTTPS" and check["port"] == 443 and check["resourcePath"] == HEALTH_CHECK_PATH
        assert check["requestInterval"] == 10 and check["failureThreshold"] == 3
        for record in records:
            assert record["failoverRoutingPolicies"] == [{"type": role}]
            (alias,) = record["aliases"]
            assert (alias["name"], alias["zoneId"]) == (run.exports["ingressHostname"], NLB_ZONES[region])
            assert alias["evaluateTargetHealth"] is True
            assert record["zoneId"] == ZONE_ID and record["type"] == "A"
            assert record["setIdentifier"] == f"{record['name']}-{role.lower()}"
        assert run.exports["dnsRecords"] == []
    identifiers = [plain(r.inputs)["setIdentifier"] for run, _ in halves.values() for r in run.of_type(RECORD)]
    assert len(identifiers) == len(set(identifiers)) == 4


def test_traefik_answers_the_health_check_on_the_load_balancers_name(stack: StackRun) -> None:
    (release,) = [r for r in stack.of_type("kubernetes:helm.sh/v3:Release") if chart_of(r) == "traefik"]
    healthcheck = plain(release.inputs["values"])["ingressRoute"]["healthcheck"]
    assert healthcheck == {"enabled": True, "entryPoints": ["websecure"], "matchRule": f"Path(`{HEALTH_CHECK_PATH}`)"}
    assert stack.exports["ingressHostname"].endswith(f".elb.{stack.exports['region']}.amazonaws.com")


# --- certificates before failover: DNS-01 in the hosted zone ----------------------------


@pytest.fixture(scope="module")
def with_zone_checked(with_zone: StackRun) -> tuple[StackRendering, list[str]]:
    """The dr stack with a hosted zone, every chart rendered with the real helm, and every
    finding of the plan's checks."""
    return check_stack(with_zone)


def test_with_a_hosted_zone_the_issuers_solve_dns01_in_it(prod_with_zone: StackRun, with_zone: StackRun) -> None:
    """Let's Encrypt checks a TXT record in the zone instead of the edge DNS points at, so
    dr holds its certificates before failover (over HTTP-01 its challenges would reach prod)."""
    for run in (prod_with_zone, with_zone):
        issuers = {
            r.inputs["metadata"]["name"]: plain(r.inputs["spec"])["acme"]
            for r in run.of_type("kubernetes:cert-manager.io/v1:ClusterIssuer")
        }
        assert set(issuers) == {"letsencrypt-prod", "letsencrypt-staging"}, run.stack
        for name, acme in issuers.items():
            assert acme["solvers"] == [{"dns01": {"route53": {"hostedZoneID": ZONE_ID}}}], (run.stack, name)
            assert acme["privateKeySecretRef"] == {"name": name}


def test_the_dns01_role_writes_only_the_challenge_records_of_the_served_hosts(
    prod_with_zone: StackRun, with_zone: StackRun, dr: StackRun
) -> None:
    """cert-manager's Route53 guide, tightened to what the provider calls with a named zone:
    no ListHostedZonesByName, no ListResourceRecordSets, TXT records `_acme-challenge.<host>`
    of this stack's hosts only, UPSERT and DELETE only, in the one zone."""
    for run in (prod_with_zone, with_zone):
        document = policy(
            run.one("aws:iam/rolePolicy:RolePolicy", "tractusx-certificates-dns01-policy").inputs["policy"]
        )
        keys = {
            "route53:ChangeResourceRecordSetsActions": ["DELETE", "UPSERT"],
            "route53:ChangeResourceRecordSetsNormalizedRecordNames": [
                "_acme-challenge.edc-data.tractus-x.example.com",
                "_acme-challenge.edc.tractus-x.example.com",
            ],
            "route53:ChangeResourceRecordSetsRecordTypes": ["TXT"],
        }
        assert document["Statement"] == [
            {
                "Sid": "ChallengeRecords",
                "Effect": "Allow",
                "Action": "route53:ChangeResourceRecordSets",
                "Resource": f"arn:aws:route53:::hostedzone/{ZONE_ID}",
                "Condition": {"ForAllValues:StringEquals": keys, "Null": dict.fromkeys(keys, "false")},
            },
            {
                "Sid": "ChangeStatus",
                "Effect": "Allow",
                "Action": "route53:GetChange",
                "Resource": "arn:aws:route53:::change/*",
            },
        ], run.stack
        (statement,) = policy(run.one(ROLE, "tractusx-certificates-dns01").inputs["assumeRolePolicy"])["Statement"]
        host = run.exports["oidcIssuerUrl"].removeprefix("https://")
        assert statement["Principal"] == {"Federated": run.exports["oidcProviderArn"]}
        assert statement["Condition"] == {
            "StringEquals": {
                f"{host}:sub": "system:serviceaccount:cert-manager:cert-manager",
                f"{host}:aud": "sts.amazonaws.com",
            }
        }
    # Without a zone the issuers solve HTTP-01 and cert-manager has no AWS role.
    assert [r.name for r in dr.of_type(ROLE) if r.name.startswith("tractusx-certificates")] == []


def test_challenge_record_names_are_in_route53s_normal_form() -> None:
    """Route 53 compares the condition key with the request's names normalised: lower case,
    no trailing dot, other characters than a-z 0-9 - _ . as octal escapes."""
    assert (
        route53_record_name("_acme-challenge.EDC.Tractus-X.example.com.") == "_acme-challenge.edc.tractus-x.example.com"
    )
    assert route53_record_name("*.example.com") == "\\052.example.com"
    zone = Dns01Zone(ZONE_ID, ("portal.example.org", "centralidp.example.org"))
    names = policy(dns01_policy(zone))["Statement"][0]["Condition"]["ForAllValues:StringEquals"]
    assert names["route53:ChangeResourceRecordSetsNormalizedRecordNames"] == [
        "_acme-challenge.centralidp.example.org",
        "_acme-challenge.portal.example.org",
    ]


def test_the_controller_uses_the_role_and_self_checks_through_the_clusters_resolver(
    with_zone: StackRun, with_zone_checked: tuple[StackRendering, list[str]]
) -> None:
    """In the real chart's objects: the service account the trust policy names is the
    controller's, annotated with the role; no other cert-manager account is; the controller
    asks only the recursive resolvers, so it needs no DNS egress out of the cluster."""
    rendering, _ = with_zone_checked
    (chart,) = [chart for chart in rendering.charts if chart.source.chart.name == "cert-manager"]
    cert_manager = chart.objects
    accounts = {obj["metadata"]["name"]: obj for obj in cert_manager if obj["kind"] == "ServiceAccount"}
    role_arn = accounts["cert-manager"]["metadata"]["annotations"]["eks.amazonaws.com/role-arn"]
    assert role_arn.endswith("/tractusx-certificates-dns01")
    with_role = [
        n for n, obj in accounts.items() if "eks.amazonaws.com/role-arn" in (obj["metadata"].get("annotations") or {})
    ]
    assert with_role == ["cert-manager"]
    (controller,) = [
        obj
        for obj in cert_manager
        if obj["kind"] == "Deployment" and obj["metadata"]["labels"]["app.kubernetes.io/component"] == "controller"
    ]
    pod = controller["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == "cert-manager"
    (container,) = pod["containers"]
    assert "--dns01-recursive-nameservers-only=true" in container["args"]
    assert not [arg for arg in container["args"] if arg.startswith("--dns01-recursive-nameservers=")]


def test_both_stacks_with_a_hosted_zone_pass_every_check(
    prod_with_zone: StackRun, with_zone_checked: tuple[StackRendering, list[str]]
) -> None:
    """The DNS-01 issuers against the real cert-manager CRD, the chart values it reads, the
    IRSA account against the rendered chart, the NetworkPolicies against the flows, the
    hosts against their certificates."""
    _, findings = with_zone_checked
    assert findings == []
    _, findings = check_stack(prod_with_zone)
    assert findings == []


def test_dns01_stacks_declare_no_http01_flows_and_the_plan_catches_either_mismatch(
    prod_with_zone: StackRun,
    with_zone: StackRun,
    with_zone_checked: tuple[StackRendering, list[str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No solver pod runs with DNS-01 and the controller requests nothing on port 80. A
    solver flow declared anyway names pods the stack does not run; HTTP-01 issuers with
    DNS-01's flows leave Let's Encrypt's requests blocked at the solver."""
    controller = Pods(
        "cert-manager", {"app.kubernetes.io/instance": "cert-manager", "app.kubernetes.io/component": "controller"}
    )
    out = [need for need in with_zone.flows if need.source == controller and need.destination == INTERNET]
    assert [need.port for need in out] == [443]
    assert "Route 53 and STS" in out[0].why
    assert not [need for need in with_zone.flows if dict(getattr(need.destination, "labels", {})) == SOLVER_LABELS]

    rendering, _ = with_zone_checked
    objects = list(deployed(rendering))
    network = stack_network(with_zone)
    model = stack_model(objects, network)
    planted = (*with_zone.flows, *challenge_flows("tractus-x", http01=True))
    (finding,) = required_flows_are_allowed(planted, model, network, observed_flows(objects, model))
    assert finding.startswith("Let's Encrypt's HTTP-01 request reaches the solver through Traefik: ")
    assert "selects no pod of the stack" in finding

    http01_issuer = certificates.cluster_issuer_spec
    monkeypatch.setattr(
        certificates, "cluster_issuer_spec", lambda server, name, email, _zone: http01_issuer(server, name, email)
    )
    mismatched = run_stack("dr", overrides={"dns": {"hostedZoneId": ZONE_ID}}, references={"prod": prod_with_zone})
    _, findings = check_stack(mismatched)
    assert [finding.split(" is blocked: ")[0] for finding in findings] == [
        "required_flows_are_allowed: an HTTP-01 challenge: "
        "traefik/Deployment/traefik -> tractus-x/Pod/cm-acme-http-solver TCP 8089"
    ]


# --- each health check pages from us-east-1 -----------------------------------------------

METRIC_ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
TOPIC = "aws:sns/topic:Topic"
TOPIC_POLICY = "aws:sns/topicPolicy:TopicPolicy"
SUBSCRIPTION = "aws:sns/topicSubscription:TopicSubscription"
KEY = "aws:kms/key:Key"
ALIAS = "aws:kms/alias:Alias"
PAGE_TYPES = (METRIC_ALARM, TOPIC, TOPIC_POLICY, SUBSCRIPTION, KEY, ALIAS)
ACCOUNT = "123456789012"  # the harness's account
# What the page says, per failover half.
PAGE_DESCRIPTIONS = {
    "primary": "The primary edge (eu-central-1) fails Route 53's HTTPS check of /ping: Route 53 answers with the "
    "dr stack's SECONDARY records, where there are any; decide on activating dr (README, Disaster recovery)",
    "secondary": "The secondary edge (eu-west-1) fails Route 53's HTTPS check of /ping: a failover from prod would "
    "reach no healthy edge (README, Disaster recovery)",
}


def page(run: StackRun, role: str) -> dict[str, RegisteredResource]:
    """The health-check page of the stack's failover half, by type (one of each)."""
    prefix = f"tractusx-failover-{role}-page"
    found = [r for r in run.resources if r.type in PAGE_TYPES and r.name.startswith(prefix)]
    assert len(found) == len({r.type for r in found}), [r.name for r in found]
    return {r.type: r for r in found}


def provider_region(run: StackRun, resource: RegisteredResource) -> str:
    """The region of the resource's provider; the stack's own when it has none set."""
    urn = resource.provider.rsplit("::", 1)[0]
    (provider,) = [r for r in run.resources if r.urn == urn]
    return str(plain(provider.inputs).get("region", run.exports["region"]))


def test_each_health_check_pages_from_us_east_1_within_two_minutes(
    prod_with_zone: StackRun, with_zone: StackRun
) -> None:
    """Route 53 publishes HealthCheckStatus only in us-east-1 and an alarm notifies only a
    topic of its own region: alarm, topic, key and subscription are created there, so an
    edge that fails pages without its region or its cluster. One minute below 1 raises it
    (the check has already seen 3 failures); a minute without data is a breach."""
    for role, run, prefix in (("primary", prod_with_zone, "tx-prod"), ("secondary", with_zone, "tx-dr")):
        resources = page(run, role)
        assert set(resources) == set(PAGE_TYPES), run.stack
        for type_, resource in resources.items():
            assert provider_region(run, resource) == "us-east-1", (run.stack, type_)
        alarm = plain(resources[METRIC_ALARM].inputs)
        assert alarm["name"] == f"{prefix}-edge-health-check"
        assert alarm["alarmDescription"] == PAGE_DESCRIPTIONS[role]
        assert (alarm["namespace"], alarm["metricName"]) == ("AWS/Route53", "HealthCheckStatus")
        (check,) = run.of_type(HEALTH_CHECK)
        assert alarm["dimensions"] == {"HealthCheckId": f"tractusx-failover-{role}-id"}  # the health check's id
        assert check.name == f"tractusx-failover-{role}"
        assert (alarm["statistic"], alarm["period"], alarm["evaluationPeriods"], alarm["datapointsToAlarm"]) == (
            "Minimum",
            60,
            1,
            1,
        )
        assert (alarm["comparisonOperator"], alarm["threshold"]) == ("LessThanThreshold", 1)
        assert alarm["treatMissingData"] == "breaching"
        topic = f"arn:aws:sns:us-east-1:{ACCOUNT}:tractusx-failover-{role}-page-topic"
        assert alarm["alarmActions"] == alarm["okActions"] == [topic]  # PagerDuty opens and resolves
        subscription = resources[SUBSCRIPTION].inputs
        assert (subscription["topic"], subscription["protocol"], subscription["endpointAutoConfirms"]) == (
            topic,
            "https",
            True,
        )
        assert is_secret(subscription["endpoint"])
        # The topic admits the alarm before the alarm's first state change.
        assert resources[TOPIC_POLICY].urn in resources[METRIC_ALARM].dependencies


def test_the_pages_topic_is_encrypted_with_its_own_key_that_cloudwatch_may_use(prod_with_zone: StackRun) -> None:
    """The AWS managed aws/sns key does not let CloudWatch publish: a customer key whose
    policy grants CloudWatch kms:Decrypt and kms:GenerateDataKey*, rotated, in us-east-1."""
    resources = page(prod_with_zone, "primary")
    key = plain(resources[KEY].inputs)
    assert (
        plain(resources[TOPIC].inputs)["kmsMasterKeyId"]
        == f"arn:aws:kms:us-east-1:{ACCOUNT}:tractusx-failover-primary-page-key"
    )
    assert key["enableKeyRotation"] is True
    assert policy(key["policy"])["Statement"] == [
        {
            "Sid": "AccountIamDelegation",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
            "Action": "kms:*",
            "Resource": "*",
        },
        {
            "Sid": "CloudWatchAlarmsPublishEncrypted",
            "Effect": "Allow",
            "Principal": {"Service": "cloudwatch.amazonaws.com"},
            "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
            "Resource": "*",
        },
    ]
    assert plain(resources[ALIAS].inputs)["name"] == "alias/tx-prod-edge-health-alarms"


def test_only_the_stacks_alarm_may_publish_to_its_pages_topic(prod_with_zone: StackRun) -> None:
    resources = page(prod_with_zone, "primary")
    document = plain(resources[TOPIC_POLICY].inputs)
    topic = f"arn:aws:sns:us-east-1:{ACCOUNT}:tractusx-failover-primary-page-topic"
    assert document["arn"] == topic
    assert policy(document["policy"])["Statement"] == [
        {
            "Sid": "CloudWatchAlarmOfThisStack",
            "Effect": "Allow",
            "Principal": {"Service": "cloudwatch.amazonaws.com"},
            "Action": "sns:Publish",
            "Resource": topic,
            "Condition": {
                "StringEquals": {"aws:SourceAccount": ACCOUNT},
                "ArnEquals": {
                    "aws:SourceArn": f"arn:aws:cloudwatch:us-east-1:{ACCOUNT}:alarm:tx-prod-edge-health-check"
                },
            },
        }
    ]


def test_without_a_page_url_the_alarm_stays_and_nobody_is_subscribed(
    with_zone: StackRun, prod_with_zone: StackRun
) -> None:
    """Outside production the URL may be left unset (settings): the alarm and its topic
    exist, to be seen in CloudWatch, and nothing is subscribed."""
    run = run_stack(
        "dr",
        overrides={"dns": {"hostedZoneId": ZONE_ID}, "pagerdutyCloudwatchUrl": None},
        references={"prod": prod_with_zone},
    )
    resources = page(run, "secondary")
    assert SUBSCRIPTION not in resources and {METRIC_ALARM, TOPIC} <= set(resources)
    assert SUBSCRIPTION in page(with_zone, "secondary")


# --- backups: the Secrets of replicated config and certificates backups decrypt in dr ----


def test_dr_has_a_replica_of_prods_multi_region_backup_key_in_its_region(dr: StackRun, prod: StackRun) -> None:
    replica = dr.one("aws:kms/replicaKey:ReplicaKey", "tractusx-backup-envelope-key").inputs
    assert replica["primaryKeyArn"] == prod.exports["backupKmsKeyArn"]
    assert prod.one("aws:kms/key:Key", "tractusx-backup-key").inputs["multiRegion"] is True
    # The replica: the primary's key id (mrk-...), in the dr region; rotation is the primary's.
    envelope_key = dr.exports["backupEnvelopeKeyArn"]
    assert envelope_key.startswith("arn:aws:kms:eu-west-1:123456789012:key/mrk-")
    assert envelope_key.rsplit("/", 1)[-1] == prod.exports["backupKmsKeyArn"].rsplit("/", 1)[-1]
    assert replica["deletionWindowInDays"] == 30 and replica["enabled"] is True
    assert replica["tags"] == dr.one("aws:kms/key:Key", "tractusx-backup-key").inputs["tags"]
    statements = policy(replica["policy"])["Statement"]
    assert [s["Sid"] for s in statements] == ["AccountIamDelegation"]
    alias = dr.one("aws:kms/alias:Alias", "tractusx-backup-envelope-key-alias").inputs
    assert alias["name"] == "alias/tx-dr-backup-envelope"
    # dr's own backup key (S3 objects) stays a single-Region key of its own.
    assert dr.one("aws:kms/key:Key", "tractusx-backup-key").inputs["multiRegion"] is False
    assert dr.exports["backupKmsKeyArn"] != envelope_key


def test_dr_backup_jobs_seal_and_unseal_with_the_replica_only(dr: StackRun) -> None:
    envelope_key = dr.exports["backupEnvelopeKeyArn"]
    for cron_job in dr.of_type("kubernetes:batch/v1:CronJob"):
        (container,) = plain(cron_job.inputs)["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
        env = {e["name"]: e.get("value") for e in container["env"]}
        assert env["BACKUP_KMS_KEY_ARN"] == envelope_key
        assert env["AWS_REGION"] == "eu-west-1"
    for job in ("backup-config", "backup-certificates"):
        document = dr.one("aws:iam/rolePolicy:RolePolicy", f"tractusx-backup-{job}-policy").inputs["policy"]
        statements = {s["Sid"]: s for s in policy(document)["Statement"]}
        # The replica only, and only under the job's own encryption context.
        assert statements["EnvelopeEncryption"]["Resource"] == envelope_key
        prefix = job.removeprefix("backup-")
        assert statements["EnvelopeEncryption"]["Condition"] == {
            "StringLike": {"kms:EncryptionContext:tractusx-backup": f"{prefix}/*"}
        }
        # S3 objects: dr's bucket key, through S3 only.
        assert statements["BucketKeyThroughS3"]["Resource"] == dr.exports["backupKmsKeyArn"]
        assert "eu-central-1" not in document


def test_the_policy_sees_that_the_replica_rotates_with_its_primary(dr: StackRun) -> None:
    replica = dr.one("aws:kms/replicaKey:ReplicaKey", "tractusx-backup-envelope-key")
    assert policy_pack(dr) == [] and kms_keys_rotate(dr) == []
    resource = rules.Resource(rules.KMS_REPLICA_KEY, replica.name, plain(replica.inputs))
    assert rules.kms_keys_rotate(resource) == []
    # A replica of a single-Region ARN, or one KMS reports not rotating, is a violation.
    single = rules.Resource(rules.KMS_REPLICA_KEY, "r", {"primaryKeyArn": "arn:aws:kms:eu-central-1:1:key/0b7e"})
    assert rules.kms_keys_rotate(single) == [
        "replicates 'arn:aws:kms:eu-central-1:1:key/0b7e', not a multi-Region key ARN (arn:...:key/mrk-...)"
    ]
    off = rules.Resource(
        rules.KMS_REPLICA_KEY,
        "r",
        {"primaryKeyArn": "arn:aws:kms:eu-central-1:1:key/mrk-1", "keyRotationEnabled": False},
    )
    assert rules.kms_keys_rotate(off) == ["key rotation is off (on its primary key)"]
