"""PostgreSQL on Amazon RDS: Multi-AZ, private, encrypted, TLS only, with the platform's databases.

One RDS for PostgreSQL instance (playbook "High Availability Setup": database clustering)
with a synchronous standby in a second zone, in the private subnets, reachable only from
the EKS cluster security group. Storage, Performance Insights and exported logs are
encrypted with customer KMS keys; automated backups give point-in-time recovery for
``backupRetentionDays``. Each database of ``databases(settings)`` gets an owner role
with a generated password, created by an idempotent Kubernetes Job; every credential
lives only in Pulumi secrets, Kubernetes Secrets and (for the Tractus-X applications)
Vault.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from components.aws_context import AwsContext
from components.cluster import Cluster
from components.iam import role, service_trust_policy
from components.jobs import REPLACE_UNREADY, wait_timeouts
from components.keys import customer_key, encrypted_log_group
from components.namespaces import Namespaces
from components.passwords import generated_password
from components.registry import ImageRegistry
from components.schedules import BACKUP_NAMESPACE
from components.settings import DatabaseSettings, Settings
from components.traffic import VPC, Need, Pods

ENGINE = "postgres"
# PostgreSQL 17: community support until November 2029, RDS standard support beyond.
# The minor version is pinned and auto minor version upgrade is off: a minor upgrade
# restarts the database, so it is a reviewed change of this constant, applied by
# `pulumi up` in the maintenance window after the weekly restore test has passed on it.
# RDS still upgrades an instance whose minor version leaves support (announced months
# ahead), so a forgotten bump cannot leave the database unpatched for long; raise this
# constant to the version RDS moved to before the next `pulumi up --refresh`, or Pulumi
# would try to go back.
ENGINE_VERSION = "17.9"
# The init Job's deadline: RDS may still be applying its parameter group.
INIT_DEADLINE_SECONDS = 900
PARAMETER_GROUP_FAMILY = "postgres17"
PORT = 5432
# The RSA 2048 CA valid until 2061, which every PostgreSQL client can verify.
CA_CERT_IDENTIFIER = "rds-ca-rsa2048-g1"
MASTER_USERNAME = "platform_admin"

# The official image with the psql of the server's major version, for the init Job.
INIT_IMAGE = "postgres:17.9-alpine@sha256:c7526c0f6c3f30260a563d7bcf8ad778effac59a44f8ffa86678c35418338609"

# Statements slower than this are logged (playbook "Key Metrics to Monitor": response
# times); every connection and disconnection is logged for the audit trail.
SLOW_STATEMENT_MS = 1000
LOG_EXPORTS = ["postgresql", "upgrade"]
PERFORMANCE_INSIGHTS_RETENTION_DAYS = 7  # the free tier
MONITORING_INTERVAL_SECONDS = 60

# Automated backups run before the platform's own dumps (schedules.DATABASE_BACKUP at
# 02:00 UTC); maintenance follows them, outside the weekly restore test (Sunday 05:00).
BACKUP_WINDOW = "00:30-01:30"
MAINTENANCE_WINDOW = "mon:03:30-mon:04:30"

MASTER_SECRET = "database-master"  # read by the backup and restore-test jobs


@dataclass(frozen=True)
class DatabaseSpec:
    """One application database, its owner role and the namespace that uses it.

    ``in_vault``: the owner's password reaches the application through Vault (its
    component seeds it and External Secrets makes the application's Secret), so this
    component writes no Secret into the application's namespace.
    """

    name: str
    namespace: str
    in_vault: bool = False

    @property
    def owner(self) -> str:
        return f"{self.name}_owner"

    @property
    def secret_name(self) -> str:
        return f"database-{self.name.replace('_', '-')}"

    @property
    def password_env(self) -> str:
        return f"{self.name.upper()}_PASSWORD"


# The playbook ("Backup Strategy") names edc_control and edc_data. The tractusx-connector
# chart has one datasource for both planes (`postgresql.jdbcUrl`, used by the control
# plane's and the data plane's Deployment alike) and every store's migrations run on that
# one schema, so two databases cannot be served to it: the connector gets one database,
# `edc`, which holds what the playbook split over edc_control and edc_data. A second
# connector would be a second database.
EDC_DATABASE = DatabaseSpec("edc", "tractus-x", in_vault=True)
DATABASES = (
    DatabaseSpec("tractus_x", "tractus-x"),
    EDC_DATABASE,
)


# The portal and its central identity provider (optional, `portal.enabled`): one
# database each, their owners' passwords seeded into Vault by components/portal.py.
PORTAL_DATABASE = DatabaseSpec("portal", "portal", in_vault=True)
CENTRALIDP_DATABASE = DatabaseSpec("centralidp", "tractus-x", in_vault=True)
PORTAL_DATABASES = (PORTAL_DATABASE, CENTRALIDP_DATABASE)


def databases(settings: Settings) -> tuple[DatabaseSpec, ...]:
    """The databases a stack creates, backs up and restore-tests: the init Job, the backup
    jobs' ``DATABASES`` and the dr stack's owner passwords all follow this list."""
    return (*DATABASES, *(PORTAL_DATABASES if settings.portal is not None else ()))


def parameters() -> dict[str, str]:
    return {
        "rds.force_ssl": "1",
        "log_min_duration_statement": str(SLOW_STATEMENT_MS),
        "log_connections": "1",
        "log_disconnections": "1",
    }


def init_sql(specs: Sequence[DatabaseSpec] = DATABASES) -> str:
    """psql script that creates each owner role and database if missing and (re)sets the
    role's password on every run, so a rotation takes effect.

    Passwords come from the environment (``\\getenv``) and reach SQL only as psql
    variables quoted with ``:'var'`` and ``format('%L')``: never in the script, never
    echoed. The master user becomes a member of each owner role, as RDS needs to create
    a database owned by it and the backup jobs need to read every table.
    """
    lines = ["\\set ON_ERROR_STOP on"]
    for db in specs:
        lines += [
            f"-- {db.name}, owned by {db.owner}",
            f"\\getenv password {db.password_env}",
            f"SELECT format('CREATE ROLE %I LOGIN', '{db.owner}') "
            f"WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{db.owner}') \\gexec",
            f"SELECT format('ALTER ROLE %I WITH LOGIN PASSWORD %L', '{db.owner}', :'password') \\gexec",
            "\\unset password",
            f"GRANT {db.owner} TO CURRENT_USER;",
            f"SELECT format('CREATE DATABASE %I OWNER %I', '{db.name}', '{db.owner}') "
            f"WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '{db.name}') \\gexec",
            f"ALTER DATABASE {db.name} OWNER TO {db.owner};",
            # Only its owner (and the master user) may connect to a database.
            f"REVOKE ALL ON DATABASE {db.name} FROM PUBLIC;",
        ]
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class ReplicaSource:
    """The primary database a dr stack's instance replicates, and its credentials.

    The replica's data, roles and passwords are the primary's, so the dr stack's Secrets
    carry the primary's credentials (its secret exports). ``promoted`` turns the replica
    into a standalone, writable database (``dr.active``).
    """

    source_arn: pulumi.Input[str]
    master_password: pulumi.Input[str]
    owner_passwords: pulumi.Input[Mapping[str, str]]
    promoted: bool


@dataclass(frozen=True)
class DatabaseArgs:
    identifier: str  # the RDS instance identifier; the monitoring alerts use it
    settings: DatabaseSettings
    databases: Sequence[DatabaseSpec]
    deletion_protection: bool
    secret_rotation: int
    vpc_id: pulumi.Input[str]
    private_subnet_ids: Sequence[pulumi.Input[str]]
    cluster: Cluster
    namespaces: Namespaces
    logs_key: aws.kms.Key
    log_retention_days: int
    # An image that ships the RDS CA bundle at RDS_CA_BUNDLE (the backup image).
    ca_bundle_image: pulumi.Input[str]
    ca_bundle_path: str
    ctx: AwsContext
    tags: Mapping[str, str]
    images: ImageRegistry
    # Set on a dr stack: the instance is a cross-region read replica of this source.
    replica_of: ReplicaSource | None = None


class Database(pulumi.ComponentResource):
    instance: aws.rds.Instance
    key: aws.kms.Key
    security_group: aws.ec2.SecurityGroup
    master_password: pulumi.Output[str]
    owner_passwords: dict[str, pulumi.Output[str]]
    init_job: k8s.batch.v1.Job | None

    def __init__(self, name: str, args: DatabaseArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("tractusx:database:Database", name, None, opts)
        self._name = name
        self._args = args
        self.key = customer_key(
            f"{name}-key",
            alias=f"{args.identifier}",
            description=f"Storage, snapshots and Performance Insights of {args.identifier}",
            ctx=args.ctx,
            parent=self,
            tags=args.tags,
        )
        self.security_group = self._security_group()
        replica = args.replica_of
        if replica is None:
            self.master_password = generated_password(f"{name}-master-password", args.secret_rotation, self)
            self.owner_passwords = {
                db.name: generated_password(f"{name}-{db.name}-password", args.secret_rotation, self)
                for db in args.databases
            }
        else:
            self.master_password = pulumi.Output.secret(replica.master_password)
            owners = pulumi.Output.from_input(replica.owner_passwords)
            self.owner_passwords = {
                db.name: pulumi.Output.secret(_owner_password(owners, db.name)) for db in args.databases
            }
        self.instance = self._instance()
        self.address = self.instance.address
        self.port = self.instance.port
        self.endpoint = self.instance.endpoint
        self.arn = self.instance.arn
        self.master_secret = self._secret(
            "master",
            namespace=BACKUP_NAMESPACE,
            secret_name=MASTER_SECRET,
            data={"username": MASTER_USERNAME, "password": self.master_password},
        )
        self.init_job = self._databases()
        self.register_outputs(
            {
                "endpoint": self.endpoint,
                "address": self.address,
                "port": self.port,
                "arn": self.arn,
                "kms_key_arn": self.key.arn,
            }
        )

    # --- AWS -------------------------------------------------------------------------

    def _security_group(self) -> aws.ec2.SecurityGroup:
        args = self._args
        group = aws.ec2.SecurityGroup(
            f"{self._name}-sg",
            name=f"{args.identifier}",
            description=f"PostgreSQL {args.identifier}: 5432 from the EKS cluster only",
            vpc_id=args.vpc_id,
            # No egress rule: the database opens no connections (and with none listed
            # the provider removes the default allow-all egress).
            tags={**args.tags, "Name": args.identifier},
            opts=pulumi.ResourceOptions(parent=self),
        )
        # Managed node groups without their own security group in the launch template
        # (cluster.py sets none) use the cluster security group, so this one rule
        # covers the control plane, every node and every pod.
        aws.vpc.SecurityGroupIngressRule(
            f"{self._name}-from-cluster",
            security_group_id=group.id,
            referenced_security_group_id=args.cluster.security_group_id,
            ip_protocol="tcp",
            from_port=PORT,
            to_port=PORT,
            description="PostgreSQL from the EKS cluster security group",
            tags=dict(args.tags),
            opts=pulumi.ResourceOptions(parent=group),
        )
        return group

    def _instance(self) -> aws.rds.Instance:
        args = self._args
        subnets = aws.rds.SubnetGroup(
            f"{self._name}-subnets",
            name=args.identifier,
            description=f"Private subnets of {args.identifier}",
            subnet_ids=list(args.private_subnet_ids),
            tags=dict(args.tags),
            opts=pulumi.ResourceOptions(parent=self),
        )
        parameter_group = aws.rds.ParameterGroup(
            f"{self._name}-parameters",
            # Named by family: a major upgrade creates the next group beside this one.
            name=f"{args.identifier}-{PARAMETER_GROUP_FAMILY}",
            family=PARAMETER_GROUP_FAMILY,
            description=f"TLS only, slow statement and connection logging for {args.identifier}",
            parameters=[
                aws.rds.ParameterGroupParameterArgs(name=key, value=value, apply_method="immediate")
                for key, value in parameters().items()
            ],
            tags=dict(args.tags),
            opts=pulumi.ResourceOptions(parent=self),
        )
        monitoring_role = role(
            f"{self._name}-monitoring",
            trust_policy=service_trust_policy("monitoring.rds.amazonaws.com", args.ctx),
            description=f"RDS enhanced monitoring of {args.identifier}",
            parent=self,
            tags=args.tags,
            managed_policy_arns=[args.ctx.managed_policy("service-role/AmazonRDSEnhancedMonitoringRole")],
        )
        # RDS writes its exported logs to these fixed names; created first so they are
        # encrypted and expire instead of the never-expiring groups RDS would create.
        log_groups = [
            encrypted_log_group(
                f"{self._name}-logs-{kind}",
                log_group_name=f"/aws/rds/instance/{args.identifier}/{kind}",
                key=args.logs_key,
                retention_days=args.log_retention_days,
                parent=self,
                tags=args.tags,
            )
            for kind in LOG_EXPORTS
        ]
        db = args.settings
        replica = args.replica_of
        # Multi-AZ everywhere, the waiting replica included: RDS creates "a standby of your
        # replica in another Availability Zone" (RDS API CreateDBInstanceReadReplica,
        # MultiAZ), so promotion in an activation is the promotion alone, with no standby
        # to build on the RTO's critical path, and a zone lost in the dr region before
        # activation does not lose the replica.
        multi_az = True
        primary = replica is None
        # A replica waiting in the dr region holds only a copy of the primary's data: RDS
        # takes no final snapshot of a read replica ("If you delete a read replica ... you
        # must enable" SkipFinalSnapshot, RDS API DeleteDBInstance) and deletion protection
        # would stop `pulumi destroy` of the dr stack. Once promoted it serves production
        # and gets both, like the primary.
        standby = replica is not None and not replica.promoted
        return aws.rds.Instance(
            f"{self._name}-instance",
            identifier=args.identifier,
            # A replica takes engine, version, master user and password from its source
            # (RDS refuses them on CreateDBInstanceReadReplica). With the cross-region
            # source's ARN and a key of this region, RDS copies the encrypted storage.
            # Removing `replicate_source_db` later promotes the replica to a standalone
            # instance, keeping its data, storage and identifier (pulumi-aws 7
            # `aws.rds.Instance` docs: "Removing the `replicate_source_db` attribute from
            # an existing RDS Replicate database managed by the provider will promote the
            # database to a fully standalone database").
            replicate_source_db=replica.source_arn if replica is not None and not replica.promoted else None,
            engine=ENGINE if primary else None,
            engine_version=ENGINE_VERSION if primary else None,
            username=MASTER_USERNAME if primary else None,
            password=self.master_password if primary else None,
            auto_minor_version_upgrade=False,
            allow_major_version_upgrade=False,
            instance_class=db.instance_class,
            multi_az=multi_az,
            db_subnet_group_name=subnets.name,
            vpc_security_group_ids=[self.security_group.id],
            publicly_accessible=False,
            port=PORT,
            parameter_group_name=parameter_group.name,
            ca_cert_identifier=CA_CERT_IDENTIFIER,
            storage_type="gp3",
            # A replica starts with its source's size; autoscaling grows it from there.
            allocated_storage=db.allocated_storage_gib if primary else None,
            max_allocated_storage=db.max_allocated_storage_gib,
            storage_encrypted=True,
            kms_key_id=self.key.arn,
            iam_database_authentication_enabled=True,
            # Kept on the replica too: PostgreSQL replicas (14.1+) take automated backups,
            # so a promoted replica has point-in-time recovery from its first minute.
            backup_retention_period=db.backup_retention_days,
            backup_window=BACKUP_WINDOW,
            maintenance_window=MAINTENANCE_WINDOW,
            copy_tags_to_snapshot=True,
            # Automated backups outlive a deleted instance until their retention ends.
            delete_automated_backups=False,
            deletion_protection=args.deletion_protection and not standby,
            skip_final_snapshot=standby,
            final_snapshot_identifier=None if standby else f"{args.identifier}-final",
            performance_insights_enabled=True,
            performance_insights_kms_key_id=self.key.arn,
            performance_insights_retention_period=PERFORMANCE_INSIGHTS_RETENTION_DAYS,
            monitoring_interval=MONITORING_INTERVAL_SECONDS,
            monitoring_role_arn=monitoring_role.arn,
            enabled_cloudwatch_logs_exports=LOG_EXPORTS,
            # Changes wait for the maintenance window; a new master password is applied
            # by RDS at once regardless, which rotation relies on. A replica's promotion
            # is its own API call (PromoteReadReplica) and does not wait; Multi-AZ and the
            # other changes of an activation are applied at once.
            apply_immediately=replica is not None and replica.promoted,
            tags={**args.tags, "Name": args.identifier},
            # The primary's data: `pulumi destroy` refuses to delete it until someone
            # unprotects it on purpose (`pulumi state unprotect`).
            opts=pulumi.ResourceOptions(parent=self, depends_on=log_groups, protect=primary),
        )

    # --- Kubernetes ------------------------------------------------------------------

    def _secret(
        self, role_name: str, *, namespace: str, secret_name: str, data: Mapping[str, pulumi.Input[str]]
    ) -> k8s.core.v1.Secret:
        args = self._args
        connection: dict[str, pulumi.Input[str]] = {
            "host": self.address,
            "port": self.port.apply(str),
            "sslmode": "verify-full",
        }
        return k8s.core.v1.Secret(
            f"{self._name}-secret-{role_name}",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=secret_name,
                namespace=namespace,
                labels={"app.kubernetes.io/part-of": "tractusx-platform", "app.kubernetes.io/component": "database"},
            ),
            type="Opaque",
            string_data={**connection, **data},
            opts=pulumi.ResourceOptions(
                parent=self,
                provider=args.cluster.k8s_provider,
                depends_on=[args.namespaces.namespace(namespace)],
            ),
        )

    def _databases(self) -> k8s.batch.v1.Job | None:
        """The owners' Secrets, and the init Job that creates the roles and databases.

        A read replica is read-only and already has the primary's roles and databases:
        the Job runs only against a writable instance (a primary, or a promoted replica,
        where it is idempotent and sets the same passwords again).
        """
        args = self._args
        passwords = self.owner_passwords
        owner_secrets = [
            self._secret(
                db.name,
                namespace=db.namespace,
                secret_name=db.secret_name,
                data={"username": db.owner, "password": passwords[db.name], "database": db.name},
            )
            for db in args.databases
            if not db.in_vault
        ]
        if args.replica_of is not None and not args.replica_of.promoted:
            return None
        # The init Job runs in the backup namespace beside the master credentials; it
        # gets the owners' passwords from its own Secret there.
        init_secret = k8s.core.v1.Secret(
            f"{self._name}-init-passwords",
            metadata=k8s.meta.v1.ObjectMetaArgs(name="database-init", namespace=BACKUP_NAMESPACE),
            type="Opaque",
            string_data={db.password_env: passwords[db.name] for db in args.databases},
            opts=pulumi.ResourceOptions(
                parent=self,
                provider=args.cluster.k8s_provider,
                depends_on=[args.namespaces.namespace(BACKUP_NAMESPACE)],
            ),
        )
        sql = init_sql(args.databases)
        script = k8s.core.v1.ConfigMap(
            f"{self._name}-init-sql",
            metadata=k8s.meta.v1.ObjectMetaArgs(name="database-init-sql", namespace=BACKUP_NAMESPACE),
            data={"init.sql": sql},
            opts=pulumi.ResourceOptions(
                parent=self,
                provider=args.cluster.k8s_provider,
                depends_on=[args.namespaces.namespace(BACKUP_NAMESPACE)],
            ),
        )
        return self._init_job(sql, [self.master_secret, init_secret, script, *owner_secrets])

    def _init_job(self, sql: str, depends_on: Sequence[pulumi.Resource]) -> k8s.batch.v1.Job:
        """The Job that applies ``init_sql``.

        A Job's pod template is immutable, so any change to it replaces the Job (deleted
        first: the name is fixed), which runs the SQL again. The template carries what
        must trigger a run: the script's hash, the rotation counter that renews every
        generated password, and the instance's resource id (a new instance).
        """
        args = self._args
        ca_dir = "/etc/rds-ca"
        ca_file = f"{ca_dir}/{args.ca_bundle_path.rsplit('/', 1)[-1]}"
        restricted = k8s.core.v1.SecurityContextArgs(
            allow_privilege_escalation=False,
            read_only_root_filesystem=True,
            capabilities=k8s.core.v1.CapabilitiesArgs(drop=["ALL"]),
        )
        small = k8s.core.v1.ResourceRequirementsArgs(
            requests={"cpu": "50m", "memory": "64Mi"}, limits={"cpu": "250m", "memory": "128Mi"}
        )
        master = MASTER_SECRET
        env = [
            k8s.core.v1.EnvVarArgs(name="HOME", value="/tmp"),
            k8s.core.v1.EnvVarArgs(name="PGDATABASE", value="postgres"),
            k8s.core.v1.EnvVarArgs(name="PGSSLMODE", value="verify-full"),
            k8s.core.v1.EnvVarArgs(name="PGSSLROOTCERT", value=ca_file),
            k8s.core.v1.EnvVarArgs(name="PGCONNECT_TIMEOUT", value="10"),
            k8s.core.v1.EnvVarArgs(name="PGAPPNAME", value="database-init"),
            *[secret_env(env_name, master, key) for env_name, key in MASTER_ENV.items()],
            *[secret_env(db.password_env, "database-init", db.password_env) for db in args.databases],
        ]
        template_annotations: dict[str, pulumi.Input[str]] = {
            "tractusx-platform/sql-sha256": hashlib.sha256(sql.encode()).hexdigest(),
            "tractusx-platform/secret-rotation": str(args.secret_rotation),
            "tractusx-platform/database-resource-id": self.instance.resource_id,
        }
        labels = {"app.kubernetes.io/name": "database-init", "app.kubernetes.io/part-of": "tractusx-platform"}
        return k8s.batch.v1.Job(
            f"{self._name}-init",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name="database-init", namespace=BACKUP_NAMESPACE, labels=labels, annotations=REPLACE_UNREADY
            ),
            spec=k8s.batch.v1.JobSpecArgs(
                backoff_limit=6,
                active_deadline_seconds=INIT_DEADLINE_SECONDS,
                template=k8s.core.v1.PodTemplateSpecArgs(
                    metadata=k8s.meta.v1.ObjectMetaArgs(labels=labels, annotations=template_annotations),
                    spec=k8s.core.v1.PodSpecArgs(
                        restart_policy="OnFailure",
                        # No Kubernetes API access needed.
                        automount_service_account_token=False,
                        security_context=k8s.core.v1.PodSecurityContextArgs(
                            run_as_non_root=True,
                            run_as_user=10001,
                            run_as_group=10001,
                            seccomp_profile=k8s.core.v1.SeccompProfileArgs(type="RuntimeDefault"),
                        ),
                        # The official postgres image has no RDS CA; the backup image ships
                        # it, so an init container copies it for a verify-full connection.
                        init_containers=[
                            k8s.core.v1.ContainerArgs(
                                name="rds-ca",
                                image=args.ca_bundle_image,
                                command=[
                                    "python3",
                                    "-c",
                                    f"import shutil; shutil.copyfile({args.ca_bundle_path!r}, {ca_file!r})",
                                ],
                                security_context=restricted,
                                resources=small,
                                volume_mounts=[k8s.core.v1.VolumeMountArgs(name="rds-ca", mount_path=ca_dir)],
                            )
                        ],
                        containers=[
                            k8s.core.v1.ContainerArgs(
                                name="psql",
                                image=args.images.image(INIT_IMAGE),
                                command=["psql", "--no-psqlrc", "--file=/sql/init.sql"],
                                env=env,
                                security_context=restricted,
                                resources=small,
                                volume_mounts=[
                                    k8s.core.v1.VolumeMountArgs(name="sql", mount_path="/sql", read_only=True),
                                    k8s.core.v1.VolumeMountArgs(name="rds-ca", mount_path=ca_dir, read_only=True),
                                    k8s.core.v1.VolumeMountArgs(name="tmp", mount_path="/tmp"),
                                ],
                            )
                        ],
                        volumes=[
                            k8s.core.v1.VolumeArgs(
                                name="sql", config_map=k8s.core.v1.ConfigMapVolumeSourceArgs(name="database-init-sql")
                            ),
                            k8s.core.v1.VolumeArgs(
                                name="rds-ca", empty_dir=k8s.core.v1.EmptyDirVolumeSourceArgs(size_limit="10Mi")
                            ),
                            k8s.core.v1.VolumeArgs(
                                name="tmp", empty_dir=k8s.core.v1.EmptyDirVolumeSourceArgs(size_limit="16Mi")
                            ),
                        ],
                    ),
                ),
            ),
            opts=pulumi.ResourceOptions(
                parent=self,
                provider=args.cluster.k8s_provider,
                depends_on=[self.instance, *depends_on],
                # Any change of the spec is a new run of the SQL.
                replace_on_changes=["spec"],
                delete_before_replace=True,
                custom_timeouts=wait_timeouts(INIT_DEADLINE_SECONDS),
            ),
        )


def _owner_password(owners: pulumi.Output[Mapping[str, str]], database: str) -> pulumi.Output[str]:
    """One owner's password from the primary's ``databaseOwnerPasswords`` export."""

    def pick(passwords: Mapping[str, str]) -> str:
        if database not in passwords:
            raise pulumi.RunError(f"the primary stack's databaseOwnerPasswords has no password for {database}")
        return passwords[database]

    return owners.apply(pick)


# Connection environment of psql and pg_dump, from the master Secret's keys.
MASTER_ENV = {"PGHOST": "host", "PGPORT": "port", "PGUSER": "username", "PGPASSWORD": "password"}


def secret_env(name: str, secret: str, key: str) -> k8s.core.v1.EnvVarArgs:
    return k8s.core.v1.EnvVarArgs(
        name=name,
        value_from=k8s.core.v1.EnvVarSourceArgs(secret_key_ref=k8s.core.v1.SecretKeySelectorArgs(name=secret, key=key)),
    )


def flows() -> tuple[Need, ...]:
    """The database-init Job creates the databases and roles on the instance (RDS, in the VPC)."""
    init = Pods(BACKUP_NAMESPACE, {"app.kubernetes.io/name": "database-init"})
    return (Need(init, VPC, 5432, "the database-init Job creates the databases and their roles"),)
