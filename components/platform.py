"""One stack of the platform: the layers wired in order, and the stack's exports."""

from __future__ import annotations

from typing import Any

import pulumi

from components import (
    autoscaling,
    backup,
    certificates,
    chart_mirror,
    database,
    edc,
    gitops,
    ingress,
    monitoring,
    network_policies,
    node_autoscaler,
    portal,
    portal_values,
    secrets,
)
from components.alerts import AlertParameters
from components.applications import ChildApplication
from components.autoscaling import Autoscaling, AutoscalingArgs, ScaledDeployment
from components.aws_context import AwsContext
from components.backup import Backup, BackupArgs
from components.backup_image import RDS_CA_BUNDLE, BackupImage, BackupImageArgs
from components.certificates import Certificates, CertificatesArgs, Dns01Zone
from components.chart_mirror import (
    ArgoCdChartAccess,
    ArgoCdChartAccessArgs,
    ChartMirror,
    ChartRepositories,
    ChartRepositoriesArgs,
)
from components.cluster import Cluster, ClusterArgs
from components.database import EDC_DATABASE, PORT, PORTAL_DATABASES, Database, DatabaseArgs, ReplicaSource, databases
from components.edc import Connector, ConnectorArgs
from components.failover import PRIMARY, SECONDARY, DnsRecords, DnsRecordsArgs, records_to_create
from components.gitops import ROOT_APPLICATION, GitOps, GitOpsArgs
from components.hosts import served_hosts
from components.ingress import Ingress, IngressArgs
from components.keys import cloudwatch_logs_statement, customer_key
from components.monitoring import Monitoring, MonitoringArgs, ReplicationMetrics
from components.namespaces import PLATFORM_NAMESPACES, Namespaces
from components.network import Network, NetworkArgs, control_plane_cidrs
from components.network_policies import ClusterNetwork
from components.node_autoscaler import NodeAutoscaler, NodeAutoscalerArgs
from components.portal import Portal, PortalArgs, SmtpRelay
from components.primary_stack import PrimaryStack
from components.redis import Redis, RedisArgs
from components.registry import ImageCache, ImageCacheArgs, ImageRegistry
from components.replication import RULE_ID, BackupReplication, BackupReplicationArgs, BucketEnd
from components.secrets import Secrets, SecretsArgs
from components.security import Security, SecurityArgs
from components.settings import Settings, kubernetes_service_ip
from components.traffic import Need
from components.vault_spec import VAULT_ADDR


class Platform(pulumi.ComponentResource):
    """Network, cluster, node autoscaling, database, cache and backups for one stack (``role`` primary or dr)."""

    def __init__(
        self, name: str, settings: Settings, ctx: AwsContext, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        # Every Helm release below reads its chart from the stack's own copy (README "Charts").
        mirror = ChartMirror.of_stack(ctx, settings.name_prefix)
        if settings.uses_chart_mirror:
            opts = pulumi.ResourceOptions.merge(
                opts, pulumi.ResourceOptions(transformations=[mirror.release_transformation])
            )
        super().__init__("tractusx:platform:Platform", name, None, opts)
        tags = settings.resource_tags
        self.chart_mirror = mirror
        self.chart_repositories = ChartRepositories(
            f"{name}-charts",
            ChartRepositoriesArgs(mirror=mirror, ctx=ctx, tags=tags),
            pulumi.ResourceOptions(parent=self),
        )
        cluster_name = f"{settings.name_prefix}-eks"
        # A dr stack reads the primary's exports through this one reference.
        self.primary = PrimaryStack(str(settings.primary_stack)) if settings.is_dr else None
        self.primary_region = _primary_region(self.primary, settings) if self.primary is not None else None

        logs_key = customer_key(
            f"{name}-logs",
            alias=f"{settings.name_prefix}-logs",
            description=f"CloudWatch Logs of {settings.name_prefix}: VPC flow logs and EKS control-plane logs",
            ctx=ctx,
            parent=self,
            tags=tags,
            service_statements=[cloudwatch_logs_statement(ctx)],
        )
        # Every image the stack runs comes through its own ECR (components/registry.py).
        self.image_cache = ImageCache(
            f"{name}-image-cache",
            ImageCacheArgs(
                registry=ImageRegistry.of(ctx, settings.name_prefix),
                credentials=settings.registry_credentials,
                ctx=ctx,
                tags=tags,
            ),
            pulumi.ResourceOptions(parent=self),
        )
        images = self.image_cache.registry
        self.network = Network(
            f"{name}-network",
            NetworkArgs(
                name_prefix=settings.name_prefix,
                vpc_cidr=settings.vpc_cidr,
                az_count=settings.az_count,
                cluster_name=cluster_name,
                log_retention_days=settings.log_retention_days,
                logs_key=logs_key,
                ctx=ctx,
                tags=tags,
            ),
            pulumi.ResourceOptions(parent=self),
        )
        self.cluster = Cluster(
            f"{name}-cluster",
            ClusterArgs(
                cluster_name=cluster_name,
                aws_profile=settings.aws_profile,
                kubernetes_version=settings.kubernetes_version,
                service_cidr=settings.service_cidr,
                private_subnet_ids=self.network.private_subnet_ids,
                control_plane_subnet_ids=self.network.control_plane_subnet_ids,
                node_groups=settings.node_groups,
                vpc_id=self.network.vpc_id,
                api_access=settings.api_access,
                access_principals=settings.access_principals,
                log_retention_days=settings.log_retention_days,
                logs_key=logs_key,
                deletion_protection=settings.deletion_protection,
                ctx=ctx,
                tags=tags,
                image_cache=self.image_cache,
                node_group_sizes=(
                    self.primary.require("nodeGroupSizes") if self.primary is not None and settings.dr_active else None
                ),
            ),
            pulumi.ResourceOptions(parent=self),
        )
        # Every Tractus-X product adds its ChildApplications here, before _gitops renders
        # them under the root Application (last, so no product comes after it).
        self.applications: list[ChildApplication] = []
        self.namespaces = Namespaces(
            f"{name}-namespaces",
            kubernetes_version=settings.kubernetes_version,
            provider=self.cluster.k8s_provider,
            opts=pulumi.ResourceOptions(parent=self),
        )
        # The network flows every component's workloads need (components/traffic.py): the
        # NetworkPolicies allow exactly these.
        self.flows = declared_flows(settings)
        self.security = Security(
            f"{name}-security",
            SecurityArgs(
                namespaces=self.namespaces,
                provider=self.cluster.k8s_provider,
                network=cluster_network(settings),
                flows=self.flows,
            ),
            pulumi.ResourceOptions(parent=self),
        )
        self.autoscaling = Autoscaling(
            f"{name}-autoscaling",
            AutoscalingArgs(
                prometheus_url=settings.prometheus_url,
                connector_standby=settings.is_pilot_light,
                namespaces=self.namespaces,
                provider=self.cluster.k8s_provider,
                # KEDA's webhooks and metrics API are reached only once the policies
                # that let the API server in exist.
                depends_on=[*self.cluster.node_groups, self.security],
                images=images,
                portal=(
                    ScaledDeployment(
                        portal_values.PORTAL_DEPLOYMENT, portal_values.PORTAL_POD_LABELS, portal_values.PORTAL_NAMESPACE
                    )
                    if _portal_runs(settings)
                    else None
                ),
            ),
            pulumi.ResourceOptions(parent=self),
        )
        NodeAutoscaler(
            f"{name}-node-autoscaler",
            NodeAutoscalerArgs(
                cluster=self.cluster,
                cluster_name=cluster_name,
                kubernetes_version=settings.kubernetes_version,
                ctx=ctx,
                depends_on=self.cluster.node_groups,
                images=images,
            ),
            pulumi.ResourceOptions(parent=self),
        )
        self.backup_image = BackupImage(
            f"{name}-backup-image",
            BackupImageArgs(name_prefix=settings.name_prefix, ctx=ctx, tags=tags),
            pulumi.ResourceOptions(parent=self),
        )
        self.database = Database(
            f"{name}-database",
            DatabaseArgs(
                identifier=settings.database_identifier,
                settings=settings.database,
                databases=databases(settings),
                # Production data is never deleted by a stack change (nor is an activated
                # dr stack's, which is production's).
                deletion_protection=settings.is_production or settings.deletion_protection or settings.dr_active,
                secret_rotation=settings.secret_rotation,
                vpc_id=self.network.vpc_id,
                private_subnet_ids=self.network.private_subnet_ids,
                cluster=self.cluster,
                namespaces=self.namespaces,
                logs_key=logs_key,
                log_retention_days=settings.log_retention_days,
                ca_bundle_image=self.backup_image.ref,
                ca_bundle_path=RDS_CA_BUNDLE,
                ctx=ctx,
                tags=tags,
                images=images,
                replica_of=self._replica_source(settings),
            ),
            pulumi.ResourceOptions(parent=self),
        )
        self.redis = Redis(
            f"{name}-redis",
            RedisArgs(
                cluster=self.cluster,
                namespaces=self.namespaces,
                secret_rotation=settings.secret_rotation,
                images=images,
            ),
            pulumi.ResourceOptions(parent=self),
        )
        self.backup = Backup(
            f"{name}-backup",
            BackupArgs(
                name_prefix=settings.name_prefix,
                cluster=self.cluster,
                namespaces=self.namespaces,
                image=self.backup_image.ref,
                database_dependencies=[
                    self.database.master_secret,
                    *([self.database.init_job] if self.database.init_job is not None else []),
                ],
                databases=databases(settings),
                log_retention_days=settings.log_retention_days,
                ctx=ctx,
                tags=tags,
                # A pilot-light dr stack's database is a read-only copy of the primary's,
                # whose backups already replicate here: its jobs wait for activation.
                suspended=settings.is_pilot_light,
                primary_key_arn=self.primary.require("backupKmsKeyArn") if self.primary is not None else None,
                # dr activation restores the primary's Vault from its latest snapshot.
                vault_restore=self.primary is not None,
            ),
            pulumi.ResourceOptions(parent=self),
        )
        self.replication = self._replication(name, settings, ctx)
        self._edge_and_monitoring(name, settings, ctx)
        self.connector = Connector(
            f"{name}-connector",
            ConnectorArgs(
                settings=settings.edc,
                domain=settings.domain,
                database_address=self.database.address,
                database_port=self.database.port,
                database_password=self.database.owner_passwords[EDC_DATABASE.name],
                secret_rotation=settings.secret_rotation,
                ca_bundle_image=self.backup_image.ref,
                ca_bundle_path=RDS_CA_BUNDLE,
                # The replica is read-only until dr.active promotes it.
                standby=settings.is_pilot_light,
                namespaces=self.namespaces,
                provider=self.cluster.k8s_provider,
                images=images,
                depends_on=[self.monitoring.stack],
            ),
            pulumi.ResourceOptions(parent=self),
        )
        self.applications.append(self.connector.application)
        self.portal = self._portal(name, settings)
        if self.portal is not None:
            self.applications.extend(self.portal.applications)
        # After every product added its ChildApplications: their seeds, Secrets, policies.
        self.secrets = self._secrets(name, settings, ctx)
        self.failover = self._failover(name, settings, ctx)
        self.gitops = self._gitops(name, settings)
        self.exports = self._exports(settings)
        self.register_outputs(self.exports)

    def _edge_and_monitoring(self, name: str, settings: Settings, ctx: AwsContext) -> None:
        """Monitoring first: its CRDs (ServiceMonitor) are used by the edge's charts."""
        hosts = served_hosts(settings.domain, _portal_runs(settings))
        self.monitoring = Monitoring(
            f"{name}-monitoring",
            MonitoringArgs(
                cluster=self.cluster,
                namespaces=self.namespaces,
                hosts=hosts,
                name_prefix=settings.name_prefix,
                environment=settings.environment,
                alerting=settings.alerting,
                alert_parameters=AlertParameters(
                    database_identifier=settings.database_identifier,
                    database_allocated_storage_gib=settings.database.allocated_storage_gib,
                    scheduled_jobs_suspended=settings.is_pilot_light,
                    replication_rule_id=RULE_ID if self.replication is not None else None,
                    watches_primary_edge=self.primary is not None,
                ),
                secret_rotation=settings.secret_rotation,
                ctx=ctx,
                depends_on=self.cluster.node_groups,
                images=self.image_cache.registry,
                replication=self._replication_metrics(),
                primary_edge=self.primary.require("ingressHostname") if self.primary is not None else None,
            ),
            pulumi.ResourceOptions(parent=self),
        )
        self.ingress = Ingress(
            f"{name}-ingress",
            IngressArgs(
                cluster=self.cluster,
                namespaces=self.namespaces,
                depends_on=[self.monitoring.stack],
                images=self.image_cache.registry,
            ),
            pulumi.ResourceOptions(parent=self),
        )
        self.certificates = Certificates(
            f"{name}-certificates",
            CertificatesArgs(
                cluster=self.cluster,
                namespaces=self.namespaces,
                acme_email=settings.acme_email,
                depends_on=[self.monitoring.stack, self.ingress.release],
                images=self.image_cache.registry,
                # With a hosted zone: DNS-01 there, for exactly the names the stack serves.
                dns01=(
                    Dns01Zone(settings.dns.hosted_zone_id, tuple(host.name for host in hosts))
                    if settings.dns is not None
                    else None
                ),
            ),
            pulumi.ResourceOptions(parent=self),
        )

    def _gitops(self, name: str, settings: Settings) -> GitOps:
        """Argo CD after the node groups and the monitoring CRDs; the root Application
        with every product's ChildApplication, after Vault, its bootstrap and External
        Secrets (the applications' Secrets exist before Argo CD syncs them) and, reading
        the stack's copy of the charts, after Argo CD's credential for it."""
        access = (
            ArgoCdChartAccess(
                f"{name}-chart-access",
                ArgoCdChartAccessArgs(
                    mirror=self.chart_mirror,
                    repositories=self.chart_repositories,
                    cluster=self.cluster,
                    namespaces=self.namespaces,
                    region=settings.region,
                    depends_on=[self.secrets.external_secrets],
                ),
                pulumi.ResourceOptions(parent=self),
            )
            if settings.uses_chart_mirror
            else None
        )
        return GitOps(
            f"{name}-gitops",
            GitOpsArgs(
                cluster=self.cluster,
                namespaces=self.namespaces,
                applications=tuple(self.applications),
                release_depends_on=[*self.cluster.node_groups, self.monitoring.stack],
                images=self.image_cache.registry,
                depends_on=[*self.secrets.ready, *([access.secret] if access is not None else [])],
                chart_mirror=self.chart_mirror if access is not None else None,
            ),
            pulumi.ResourceOptions(parent=self),
        )

    def _secrets(self, name: str, settings: Settings, ctx: AwsContext) -> Secrets:
        """Vault and External Secrets, after cert-manager (Vault's TLS) and monitoring
        (ServiceMonitor CRD); the applications' seeds, Secrets and policies."""
        return Secrets(
            f"{name}-secrets",
            SecretsArgs(
                name_prefix=settings.name_prefix,
                cluster=self.cluster,
                namespaces=self.namespaces,
                applications=self.applications,
                image=self.backup_image.ref,
                ctx=ctx,
                tags=settings.resource_tags,
                depends_on=[self.monitoring.stack, self.certificates.release, *self.cluster.node_groups],
                images=self.image_cache.registry,
                primary_unseal_key_arn=(
                    self.primary.require("vaultUnsealKeyArn") if self.primary is not None else None
                ),
            ),
            pulumi.ResourceOptions(parent=self),
        )

    def _portal(self, name: str, settings: Settings) -> Portal | None:
        """The portal and its identity provider, when enabled (off by default)."""
        if settings.portal is None:
            return None
        alerting = settings.alerting
        if alerting.smtp_password is None:  # settings refuse the portal without it
            raise pulumi.RunError("smtpPassword: the portal needs the SMTP relay's password")
        host, port = alerting.smtp_smarthost.rsplit(":", 1)
        return Portal(
            f"{name}-portal",
            PortalArgs(
                settings=settings.portal,
                domain=settings.domain,
                database_address=self.database.address,
                database_port=PORT,
                owner_passwords={db.name: self.database.owner_passwords[db.name] for db in PORTAL_DATABASES},
                smtp=SmtpRelay(
                    host=host,
                    port=port,
                    user=alerting.smtp_username,
                    sender=alerting.email_from,
                    password=alerting.smtp_password.output(),
                ),
                secret_rotation=settings.secret_rotation,
                namespaces=self.namespaces,
                provider=self.cluster.k8s_provider,
                depends_on=[self.ingress.release, self.certificates],
                ca_bundle_image=self.backup_image.ref,
                ca_bundle_path=RDS_CA_BUNDLE,
                images=self.image_cache.registry,
                primary_generated=self.primary.require("portalGeneratedSecrets") if self.primary is not None else None,
                running=_portal_runs(settings),
            ),
            pulumi.ResourceOptions(parent=self),
        )

    def _replication_metrics(self) -> ReplicationMetrics | None:
        """On a dr stack: the replication of the primary's backups, for the exporter."""
        if self.replication is None or self.primary is None or self.primary_region is None:
            return None
        return ReplicationMetrics(
            source_bucket=self.primary.require("backupBucketName"),
            destination_bucket=self.backup.bucket.bucket,
            rule_id=RULE_ID,
            region=self.primary_region,
        )

    def _replica_source(self, settings: Settings) -> ReplicaSource | None:
        """On a dr stack: the primary's database and credentials, which the replica shares."""
        if self.primary is None:
            return None
        return ReplicaSource(
            source_arn=self.primary.require("databaseArn"),
            master_password=self.primary.require("databaseMasterPassword"),
            owner_passwords=self.primary.require("databaseOwnerPasswords"),
            promoted=settings.dr_active,
        )

    def _replication(self, name: str, settings: Settings, ctx: AwsContext) -> BackupReplication | None:
        """On a dr stack: the primary's backups replicate into this stack's bucket."""
        if self.primary is None or self.primary_region is None:
            return None
        return BackupReplication(
            f"{name}-replication",
            BackupReplicationArgs(
                name_prefix=settings.name_prefix,
                source=BucketEnd(
                    bucket_name=self.primary.require("backupBucketName"),
                    bucket_arn=self.primary.require("backupBucketArn"),
                    key_arn=self.primary.require("backupKmsKeyArn"),
                    region=self.primary_region,
                ),
                destination=BucketEnd(
                    bucket_name=self.backup.bucket.bucket,
                    bucket_arn=self.backup.bucket.arn,
                    key_arn=self.backup.key.arn,
                    region=settings.region,
                ),
                destination_versioning=self.backup.bucket_versioning,
                ctx=ctx,
                tags=settings.resource_tags,
            ),
            pulumi.ResourceOptions(parent=self),
        )

    def _failover(self, name: str, settings: Settings, ctx: AwsContext) -> DnsRecords | None:
        """With a hosted zone: this stack's half of the failover records of every host it
        serves (PRIMARY on the primary stack, SECONDARY on the dr stack, in the primary's
        zone), and its health check's page from us-east-1."""
        if settings.dns is None:
            return None
        page_url = settings.alerting.pagerduty_cloudwatch_url
        return DnsRecords(
            f"{name}-failover",
            DnsRecordsArgs(
                dns=settings.dns,
                hosts=served_hosts(settings.domain, _portal_runs(settings)),
                failover=SECONDARY if settings.is_dr else PRIMARY,
                load_balancer=self.ingress.load_balancer_hostname,
                region=settings.region,
                tags=settings.resource_tags,
                name_prefix=settings.name_prefix,
                ctx=ctx,
                aws_profile=settings.aws_profile,
                page_url=page_url.output() if page_url is not None else None,
            ),
            pulumi.ResourceOptions(parent=self),
        )

    def _exports(self, settings: Settings) -> dict[str, Any]:
        """What later layers and the dr stack read (through a StackReference)."""
        hosts = served_hosts(settings.domain, _portal_runs(settings))
        exports: dict[str, Any] = {
            "region": settings.region,
            "role": settings.role,
            # Where the Helm releases and Argo CD read the pinned charts.
            "chartSource": settings.chart_source,
            "chartRepository": self.chart_mirror.path,
            # Where every image the stack runs is pulled from: its pull-through cache.
            "imageRegistry": f"{self.image_cache.registry.host}/{settings.name_prefix}",
            "environment": settings.environment,
            # On a dr stack, checked against the primary's: both serve the same hosts.
            "domain": _domain_as_primary(self.primary, settings) if self.primary is not None else settings.domain,
            # The names this stack serves, and where their records are: in the hosted zone
            # (checked to be the primary's on a dr stack), or to be created by hand.
            "servedHosts": [host.name for host in hosts],
            "dnsHostedZoneId": (
                _zone_as_primary(self.primary, settings, settings.dns.hosted_zone_id)
                if self.primary is not None and settings.dns is not None
                else (settings.dns.hosted_zone_id if settings.dns is not None else "")
            ),
            "dnsRecords": (
                [] if settings.dns is not None else records_to_create(hosts, self.ingress.load_balancer_hostname)
            ),
            "availabilityZones": self.network.zones,
            "vpcId": self.network.vpc_id,
            "vpcCidr": settings.vpc_cidr,
            "serviceCidr": settings.service_cidr,
            "privateSubnetIds": self.network.private_subnet_ids,
            "publicSubnetIds": self.network.public_subnet_ids,
            "clusterName": self.cluster.name,
            "clusterEndpoint": self.cluster.endpoint,
            "clusterSecurityGroupId": self.cluster.security_group_id,
            "oidcProviderArn": self.cluster.oidc.provider_arn,
            "oidcIssuerUrl": self.cluster.oidc.issuer_url,
            "nodeRoleArn": self.cluster.node_role_arn,
            "kubeconfig": self.cluster.kubeconfig,
            "databaseEndpoint": self.database.endpoint,
            "databaseAddress": self.database.address,
            "databasePort": self.database.port,
            "databaseIdentifier": self.database.instance.identifier,
            "databaseArn": self.database.arn,
            "databaseKmsKeyArn": self.database.key.arn,
            # Secrets (encrypted in state and through the StackReference): the dr stack's
            # Kubernetes Secrets carry them, as its replica has the same roles.
            "databaseMasterPassword": pulumi.Output.secret(self.database.master_password),
            "databaseOwnerPasswords": pulumi.Output.secret(
                pulumi.Output.all(**{db.name: self.database.owner_passwords[db.name] for db in databases(settings)})
            ),
            "backupBucketName": self.backup.bucket.bucket,
            "backupBucketArn": self.backup.bucket.arn,
            "backupKmsKeyArn": self.backup.key.arn,
            # The key of the Secrets in config and certificates backups (BACKUP_KMS_KEY_ARN
            # of the jobs and of `txbackup secrets`): prod's multi-Region backup key, or its
            # replica on a dr stack.
            "backupEnvelopeKeyArn": self.backup.envelope_key_arn,
            "backupImage": self.backup_image.ref,
            "redisEndpoint": self.redis.endpoint,
            # The edge's Network Load Balancer: the dr stack's failover records point at it.
            "ingressHostname": self.ingress.load_balancer_hostname,
            # What an activated dr stack scales its node groups to.
            "nodeGroupSizes": {
                group.name: {"minSize": group.min_size, "desiredSize": group.desired_size, "maxSize": group.max_size}
                for group in settings.node_groups
            },
            # Playbook "Application Updates": `argocd app sync <rootApplication>` in this namespace.
            "argocdNamespace": self.gitops.namespace,
            "rootApplication": ROOT_APPLICATION,
            # Vault's auto-unseal key (prod: multi-Region primary; dr: its replica), which
            # the dr stack replicates, and the address every Vault client uses.
            "vaultUnsealKeyArn": self.secrets.unseal_key_arn,
            "vaultAddress": VAULT_ADDR,
        }
        if self.portal is not None:
            # The dr stack's portal uses these (its Vault and database are the primary's).
            exports["portalGeneratedSecrets"] = pulumi.Output.secret(pulumi.Output.all(**self.portal.generated))
        if self.primary_region is not None:
            exports["primaryRegion"] = self.primary_region
            exports["drActive"] = settings.dr_active
        return exports


def _portal_runs(settings: Settings) -> bool:
    """The portal is enabled and its database writable (not a pilot-light replica)."""
    return settings.portal is not None and not settings.is_pilot_light


def _solves_http01(settings: Settings) -> bool:
    """The issuers solve HTTP-01 through the edge unless the stack has a hosted zone, where
    they solve DNS-01 (components/certificates.py)."""
    return settings.dns is None


def _primary_region(primary: PrimaryStack, settings: Settings) -> pulumi.Output[str]:
    """The primary stack's region; a dr stack in that same region protects nothing."""

    def check(region: Any) -> str:
        if region == settings.region:
            raise pulumi.RunError(
                f"aws:region: the dr stack is in {region}, the region of its primary stack "
                f"{settings.primary_stack}; disaster recovery needs a second region"
            )
        return str(region)

    return primary.require("region").apply(check)


def _zone_as_primary(primary: PrimaryStack, settings: Settings, zone: str) -> pulumi.Output[str]:
    """The dr stack's records go into its primary's hosted zone, beside the primary's own:
    a SECONDARY record without the PRIMARY of the same name would take all the traffic."""

    def check(primary_zone: Any) -> str:
        if primary_zone != zone:
            raise pulumi.RunError(
                f"tractusx-platform:dns.hostedZoneId: the dr stack creates its records in {zone}, its primary "
                f"stack {settings.primary_stack} in {primary_zone or 'no hosted zone'}; set the same "
                "dns.hostedZoneId on both stacks"
            )
        return zone

    return primary.require("dnsHostedZoneId").apply(check)


def _domain_as_primary(primary: PrimaryStack, settings: Settings) -> pulumi.Output[str]:
    """The dr stack's domain, which must be its primary's: failover moves the same host
    names between the stacks, and certificates and probes are for those names."""

    def check(domain: Any) -> str:
        if domain != settings.domain:
            raise pulumi.RunError(
                f"tractusx-platform:domain: the dr stack serves {settings.domain}, its primary stack "
                f"{settings.primary_stack} serves {domain}; set the primary's domain on the dr stack"
            )
        return settings.domain

    return primary.require("domain").apply(check)


def declared_flows(settings: Settings) -> tuple[Need, ...]:
    """Every flow the stack's components declare their workloads need, and what every pod
    of the platform's namespaces needs."""
    return (
        *network_policies.shared_needs([spec.name for spec in PLATFORM_NAMESPACES]),
        *ingress.flows(),
        *certificates.flows(http01=_solves_http01(settings)),
        *monitoring.flows(),
        *autoscaling.flows(),
        *node_autoscaler.flows(),
        *gitops.flows(),
        *secrets.flows(),
        *(chart_mirror.flows() if settings.uses_chart_mirror else ()),
        *backup.flows(vault_restore=settings.is_dr),
        *(database.flows() if not settings.is_pilot_light else ()),  # a replica is not initialised
        *edc.flows(http01=_solves_http01(settings)),
        *(portal.flows(http01=_solves_http01(settings)) if _portal_runs(settings) else ()),
    )


def cluster_network(settings: Settings) -> ClusterNetwork:
    """What the NetworkPolicies name: the VPC, and the Kubernetes API's Service address and
    the control plane's own subnets (components/network.py)."""
    return ClusterNetwork(
        vpc_cidr=settings.vpc_cidr,
        service_cidr=settings.service_cidr,
        api_service_ip=kubernetes_service_ip(settings.service_cidr),
        control_plane_cidrs=tuple(control_plane_cidrs(settings.vpc_cidr, settings.az_count)),
    )
