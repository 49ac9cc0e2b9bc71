"""Typed, validated settings of one stack: the only module that reads Pulumi config.

Every key of the project's namespace is read here into frozen dataclasses. A bad value
stops the program before any resource is registered, with one error that lists every
problem, each naming the key and what is allowed. Defaults are the secure choice.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi

from components import eks_addons

PROJECT = "tractusx-platform"

ROLE_PRIMARY = "primary"
ROLE_DR = "dr"
# Where a stack reads the pinned charts: its own copy in ECR first (components/chart_mirror.py).
CHART_SOURCES = ("mirror", "upstream")
ROLES = (ROLE_PRIMARY, ROLE_DR)

# Environment names that must meet the playbook's "Production Recommended" size.
PRODUCTION_ENVIRONMENTS = ("prod", "production")

# Playbook "Production Architecture" > "High Availability Setup": minimum 3 nodes,
# spread over three availability zones.
MIN_AVAILABILITY_ZONES = 3
MIN_NODES = 3

# Playbook "Resource Requirements": totals across the cluster, at the node groups'
# minimum size (the capacity the cluster keeps while the autoscaler scales in).
PRODUCTION_MINIMUM_VCPU = 16
PRODUCTION_MINIMUM_MEMORY_GIB = 32
PRODUCTION_RECOMMENDED_VCPU = 32
PRODUCTION_RECOMMENDED_MEMORY_GIB = 64

# Amazon EKS versions in standard support on the EKS release calendar: 1.34 until
# 2026-12-02 (kept so a 1.34 cluster can be declared while it is upgraded one minor at a
# time), 1.35 until 2027-03-27. Versions in extended support cost more per cluster hour
# and are refused; each version leaves this list with its support. A version enters it
# together with its pinned add-ons (components/eks_addons.py): 1.36, in standard support
# until 2027-08-02, waits for them.
SUPPORTED_KUBERNETES_VERSIONS = ("1.34", "1.35")
DEFAULT_KUBERNETES_VERSION = "1.35"

# CloudWatch Logs accepts only these retention periods (days).
CLOUDWATCH_RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192,
    2557, 2922, 3288, 3653,
)  # fmt: skip

# Access levels of "Kubernetes RBAC" and the Kubernetes group each maps IAM principals
# to through EKS access entries. The security component binds its roles to these groups.
# EKS refuses group names that start with "system:".
ACCESS_LEVEL_GROUPS = {
    "admin": "tractus-x:platform-admins",
    "developer": "tractus-x:developers",
    "readonly": "tractus-x:readonly",
}

CAPACITY_TYPES = ("ON_DEMAND", "SPOT")

# Playbook "Vertical Scaling" > "Database Instances": the PostgreSQL container's limits,
# 4 CPU / 8 GiB, are the least a database instance class may offer.
DATABASE_MINIMUM_VCPU = 4
DATABASE_MINIMUM_MEMORY_GIB = 8

# Automated backups (and with them point-in-time recovery) are kept this many days;
# RDS allows 1 to 35, the platform at least a week ("Backup Strategy").
DATABASE_MIN_BACKUP_RETENTION_DAYS = 7
DATABASE_MAX_BACKUP_RETENTION_DAYS = 35


# GiB of memory per vCPU of each instance family letter, and the sizes both catalogs offer.
_MEMORY_PER_VCPU = {"m": 4, "c": 2, "r": 8}
_SIZES = {"large": 2, "xlarge": 4, "2xlarge": 8, "4xlarge": 16, "8xlarge": 32}


def _catalog(families: Sequence[str], prefix: str = "") -> dict[str, tuple[int, int]]:
    """vCPU and memory (GiB) of every size of ``families``, named ``<prefix><family>.<size>``."""
    return {
        f"{prefix}{family}.{size}": (vcpu, vcpu * _MEMORY_PER_VCPU[family[0]])
        for family in families
        for size, vcpu in _SIZES.items()
    }


# The RDS instance classes the database may use: general purpose (m) and memory
# optimised (r), Graviton and Intel; burstable db.t* classes are left out, their CPU
# credits run out under sustained load.
DATABASE_INSTANCE_CLASSES: dict[str, tuple[int, int]] = _catalog(
    ("m6g", "m7g", "m8g", "m6i", "m7i", "r6g", "r7g", "r8g", "r6i", "r7i"), prefix="db."
)

# The x86_64 instance types node groups may use.
INSTANCE_TYPES: dict[str, tuple[int, int]] = _catalog(
    ("m6i", "m6a", "m7i", "m7a", "c6i", "c6a", "c7i", "r6i", "r6a", "r7i")
)

# tx-<environment>/docker-hub, the longest pull-through cache prefix, within ECR's 30.
MAX_CACHED_ENVIRONMENT = 16
_DNS_LABEL = re.compile(r"^[a-z]([a-z0-9-]{0,30}[a-z0-9])?$")
_DOMAIN = re.compile(r"^(?=.{4,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_REGION = re.compile(r"^[a-z]{2}(-gov)?-[a-z]+-\d$")
_IAM_PRINCIPAL = re.compile(r"^arn:aws(-[a-z]+)*:iam::\d{12}:(role|user)/[\w+=,.@/-]+$")
_STACK_REF = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
_K8S_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
_HTTPS_URL = re.compile(r"^https://[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:\d{1,5})?(/[^\s]*)?$")
_CLUSTER_URL = re.compile(r"^https?://[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:\d{1,5})?(/[^\s]*)?$")
# Catena-X Business Partner Number of a legal entity (BPNL + 12 upper-case alphanumerics).
_BPNL = re.compile(r"^BPNL[0-9A-Z]{12}$")
# Route 53 hosted zone ids: "Z" and upper-case letters and digits.
_HOSTED_ZONE_ID = re.compile(r"^Z[A-Z0-9]{1,31}$")


class SettingsError(pulumi.RunError):
    """Raised with every invalid setting of a stack; each line names its key."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        lines = "\n".join(f"  - {problem}" for problem in self.problems)
        super().__init__(f"invalid stack settings:\n{lines}")


@dataclass(frozen=True)
class NodeGroupSettings:
    name: str
    instance_types: tuple[str, ...]
    min_size: int
    desired_size: int
    max_size: int
    disk_size_gib: int = 100
    capacity_type: str = "ON_DEMAND"

    @property
    def node_vcpu(self) -> int:
        """vCPU of the smallest instance type the group may launch."""
        return min(INSTANCE_TYPES[t][0] for t in self.instance_types)

    @property
    def node_memory_gib(self) -> int:
        return min(INSTANCE_TYPES[t][1] for t in self.instance_types)


@dataclass(frozen=True)
class ApiAccessSettings:
    """How the deployers reach the Kubernetes API, which every `pulumi up` creates objects
    through: the public endpoint opened to their egress CIDRs, and/or networks and runner
    security groups that the control plane's security group admits on 443 at the private
    endpoint. The private endpoint is always on (the nodes use it)."""

    public_cidrs: tuple[str, ...] = ()
    private_cidrs: tuple[str, ...] = ()
    security_group_ids: tuple[str, ...] = ()

    @property
    def declared(self) -> bool:
        return bool(self.public_cidrs or self.private_cidrs or self.security_group_ids)


@dataclass(frozen=True)
class AccessPrincipals:
    admin: tuple[str, ...] = ()
    developer: tuple[str, ...] = ()
    readonly: tuple[str, ...] = ()

    def by_level(self) -> dict[str, tuple[str, ...]]:
        return {"admin": self.admin, "developer": self.developer, "readonly": self.readonly}


# KEDA's Prometheus triggers query this server. With Prometheus sharded (playbook
# "Monitoring Components": 2 shards) each shard holds part of the series, and the
# `prometheus-operated` Service balances over every pod of every shard (random partial
# answers). The default is the monitoring component's Thanos Query, which fans each query
# out to all shards and merges the replicas (components/monitoring.py THANOS_QUERY_URL).
DEFAULT_PROMETHEUS_URL = "http://thanos-query.monitoring.svc:9090"

# The data plane's token keys in Vault, under the connector's Vault path.
DEFAULT_EDC_TOKEN_SIGNER_KEY = "token-signer-private-key"
DEFAULT_EDC_TOKEN_VERIFIER_KEY = "token-verifier-public-key"


@dataclass(frozen=True)
class EdcSettings:
    """The connector's identity in the data space (Decentralized Claims Protocol).

    The playbook's "EDC Security Configuration" (an OAuth client at a central identity
    provider, a keystore, a token validation endpoint) is the connector generation before
    DCP; components/edc_properties.py maps each of its properties to these. The STS
    client secret is a Pulumi secret; the connector gets only its Vault alias.
    """

    bpn: str  # Business Partner Number (legal entity)
    did: str  # the participant's did:web, whose DID document lists its credential service
    participant_context_id: str
    trusted_issuers: tuple[str, ...]  # DIDs of the credential issuers the connector trusts
    sts_url: str  # the wallet's Secure Token Service, which issues self-issued tokens
    sts_token_url: str  # the OAuth token endpoint that grants access to the STS
    sts_client_id: str
    sts_client_secret: Secret
    bdrs_url: str  # BPN-DID Resolution Service
    connector_name: str
    token_signer_key: str = DEFAULT_EDC_TOKEN_SIGNER_KEY
    token_verifier_key: str = DEFAULT_EDC_TOKEN_VERIFIER_KEY


# The services outside this platform that the portal calls, each an https:// URL the
# operator configures under `portal.services` (README "Portal and identity provider"):
# the shared identity provider (company realms), the semantic hub, BPDM pool and portal
# gate, the custodian wallet, the self-description factory, the clearing house (API and
# its token endpoint), the SSI credential issuer, the BPN-DID resolution service
# (management and directory APIs) and the DIM wallet (API, token endpoint, and the
# decentral identity management auth address).
PORTAL_SERVICES = (
    "sharedidp",
    "semantics",
    "bpdmPool",
    "bpdmPortalGate",
    "custodian",
    "sdfactory",
    "clearinghouse",
    "clearinghouseToken",
    "issuerComponent",
    "bpnDidResolverManagement",
    "bpnDidResolverDirectory",
    "dim",
    "dimToken",
    "dimAuth",
)


@dataclass(frozen=True)
class PortalSettings:
    """The Tractus-X portal and its central identity provider (off unless `portal.enabled`).

    Hosts are under the platform's domain; the credentials are those the operator brings
    for services outside the platform. Everything the platform can generate itself
    (database passwords, Keycloak client secrets, encryption keys) is generated."""

    operator_bpn: str
    operator_name: str
    services: Mapping[str, str]
    shared_idp_client_secret: Secret
    dim_client_secret: Secret
    clearinghouse_client_secret: Secret
    bpn_did_resolver_api_key: Secret


@dataclass(frozen=True)
class DatabaseSettings:
    # db.m7g.xlarge: 4 vCPU / 16 GiB, the playbook's database limits with headroom.
    instance_class: str = "db.m7g.xlarge"
    # Playbook "Resource Requirements": 100 GB persistent storage at the minimum, 500+
    # recommended; storage autoscaling grows the volume up to the maximum.
    allocated_storage_gib: int = 100
    max_allocated_storage_gib: int = 1000
    backup_retention_days: int = 14

    @property
    def vcpu(self) -> int:
        return DATABASE_INSTANCE_CLASSES[self.instance_class][0]

    @property
    def memory_gib(self) -> int:
        return DATABASE_INSTANCE_CLASSES[self.instance_class][1]


@dataclass(frozen=True)
class AlertingSettings:
    """Playbook "Alerting Channels": critical to PagerDuty, warning to Slack, all to email.

    A credential left unset (only outside production) drops its receiver; email stays.
    The heartbeat URL receives the always-firing Watchdog (a dead man's switch outside the
    cluster); the PagerDuty CloudWatch URL receives the Route 53 health-check alarm from
    us-east-1 (components/health_alarm.py), which pages without the cluster or its region.
    """

    email_to: tuple[str, ...]
    email_from: str
    smtp_smarthost: str  # host:port, STARTTLS
    smtp_username: str
    slack_channel: str = "#tractus-x-alerts"
    pagerduty_routing_key: Secret | None = None
    slack_webhook_url: Secret | None = None
    smtp_password: Secret | None = None
    heartbeat_url: Secret | None = None
    pagerduty_cloudwatch_url: Secret | None = None


# Route 53 failover: the records' TTL (alias records take the load balancer's own 60 s)
# and the health check's interval and failure threshold. 10 s checks (fast interval)
# and 3 failures detect an outage in about 30 s.
DNS_HEALTH_CHECK_INTERVAL_SECONDS = (10, 30)
DEFAULT_DNS_HEALTH_CHECK_INTERVAL_SECONDS = 10
DEFAULT_DNS_FAILURE_THRESHOLD = 3


@dataclass(frozen=True)
class DnsSettings:
    """The Route 53 hosted zone in which the stack creates its failover records."""

    hosted_zone_id: str
    health_check_interval_seconds: int = DEFAULT_DNS_HEALTH_CHECK_INTERVAL_SECONDS
    failure_threshold: int = DEFAULT_DNS_FAILURE_THRESHOLD


def name_prefix(environment: str) -> str:
    """The prefix of a stack's named cloud resources (its chart repositories included)."""
    return f"tx-{environment}"


@dataclass(frozen=True)
class Settings:
    stack: str
    region: str
    role: str
    environment: str
    domain: str
    vpc_cidr: str
    # The cluster's Service addresses (fixed for the cluster's life); the `kubernetes`
    # Service, through which pods reach the API, has its first address.
    service_cidr: str
    az_count: int
    kubernetes_version: str
    node_groups: tuple[NodeGroupSettings, ...]
    api_access: ApiAccessSettings
    access_principals: AccessPrincipals
    # The AWS profile Pulumi deploys with (aws:profile), which the kubeconfig uses as well.
    aws_profile: str | None
    log_retention_days: int
    edc: EdcSettings
    alerting: AlertingSettings
    deletion_protection: bool = True
    primary_stack: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    secret_rotation: int = 1
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    prometheus_url: str = DEFAULT_PROMETHEUS_URL
    acme_email: str = ""
    # Disaster recovery (role dr only): ``dr_active`` promotes the replica and scales the
    # cluster to prod's size. ``dns``: the zone of the stack's failover records.
    dr_active: bool = False
    dns: DnsSettings | None = None
    # The portal and the central identity provider; None: not deployed (the default).
    portal: PortalSettings | None = None
    # Where the stack's Helm releases and Argo CD read the pinned charts: its own copy in
    # ECR (components/chart_mirror.py) or the charts' public repositories.
    chart_source: str = CHART_SOURCES[0]
    # The upstream accounts of the image cache, by REGISTRY_CREDENTIALS name.
    registry_credentials: Mapping[str, RegistryCredentials] = field(default_factory=dict)

    @property
    def uses_chart_mirror(self) -> bool:
        return self.chart_source == CHART_SOURCES[0]

    @property
    def is_dr(self) -> bool:
        return self.role == ROLE_DR

    @property
    def is_pilot_light(self) -> bool:
        """A dr stack waiting for activation: its database is a read-only replica."""
        return self.is_dr and not self.dr_active

    @property
    def is_production(self) -> bool:
        return self.environment in PRODUCTION_ENVIRONMENTS

    @property
    def database_identifier(self) -> str:
        """The RDS instance; the database alerts select its metrics by this name."""
        return f"{self.name_prefix}-postgres"

    @property
    def name_prefix(self) -> str:
        """Prefix of every named cloud resource: unique per stack within an account."""
        return name_prefix(self.environment)

    @property
    def min_vcpu(self) -> int:
        return sum(g.min_size * g.node_vcpu for g in self.node_groups)

    @property
    def min_memory_gib(self) -> int:
        return sum(g.min_size * g.node_memory_gib for g in self.node_groups)

    @property
    def resource_tags(self) -> dict[str, str]:
        return {
            **self.tags,
            "project": PROJECT,
            "environment": self.environment,
            "stack": self.stack,
            "role": self.role,
            "managed-by": "pulumi",
        }


DEFAULT_NODE_GROUPS: list[dict[str, Any]] = [
    {
        "name": "general",
        "instanceTypes": ["m6i.2xlarge", "m6a.2xlarge", "m7i.2xlarge"],
        "minSize": 6,
        "desiredSize": 6,
        "maxSize": 12,
    }
]

# Keys whose value is a credential: set with `pulumi config set --secret`, refused in plain
# text. Components that need one add it here and to KNOWN_KEYS.
SECRET_KEYS: tuple[str, ...] = (
    "edcStsClientSecret",
    "pagerdutyRoutingKey",
    "slackWebhookUrl",
    "smtpPassword",
    "heartbeatUrl",
    "pagerdutyCloudwatchUrl",
    "portalSharedIdpClientSecret",
    "portalDimClientSecret",
    "portalClearinghouseClientSecret",
    "portalBpnDidResolverApiKey",
    "dockerHubAccessToken",
    "githubAccessToken",
)

# Upstream registries whose ECR pull-through cache rule needs an account
# (components/registry.py): `<name>Username` and the secret `<name>AccessToken` of each.
REGISTRY_CREDENTIALS: tuple[str, ...] = ("dockerHub", "github")

# Settings of the connector generation before DCP, and what replaced each.
REPLACED_KEYS: Mapping[str, str] = {
    "edcOauthClientId": "edcStsClientId (the connector's client at its wallet's Secure Token Service)",
    "edcOauthClientSecret": "edcStsClientSecret (kept in Vault; the connector gets its alias)",
    "edcOauthTokenUrl": "edcStsTokenUrl",
    "edcTokenValidationUrl": (
        "nothing: partners' tokens are verified against their DID documents and edcTrustedIssuers"
    ),
    "edcKeystorePassword": (
        "nothing: TLS ends at the ingress controller with a cert-manager certificate, and the token "
        "keys are in Vault (edcTokenSignerKey, edcTokenVerifierKey)"
    ),
    "edcControlPlaneDeployment": "nothing: the Deployment is named after the connector's release (edc-controlplane)",
    "edcControlPlanePodLabels": "nothing: the pod labels are the connector chart's",
}

# Every key of the project's namespace; any other key is a typo and is refused.
KNOWN_KEYS = (
    "role",
    "environment",
    "domain",
    "primaryStack",
    "vpcCidr",
    "serviceCidr",
    "azCount",
    "kubernetesVersion",
    "nodeGroups",
    "apiPublicAccessCidrs",
    "apiPrivateAccessCidrs",
    "apiPrivateAccessSecurityGroupIds",
    "accessPrincipals",
    "logRetentionDays",
    "deletionProtection",
    "tags",
    "secretRotation",
    "database",
    "prometheusUrl",
    "edcParticipantId",
    "edcParticipantDid",
    "edcParticipantContextId",
    "edcConnectorName",
    "edcTrustedIssuers",
    "edcStsUrl",
    "edcStsTokenUrl",
    "edcStsClientId",
    "edcStsClientSecret",
    "edcBdrsUrl",
    "edcTokenSignerKey",
    "edcTokenVerifierKey",
    "acmeEmail",
    "alerting",
    "pagerdutyRoutingKey",
    "slackWebhookUrl",
    "smtpPassword",
    "heartbeatUrl",
    "pagerdutyCloudwatchUrl",
    # `pulumi config set dr.active true` (without --path) stores the literal key
    # `tractusx-platform:dr.active`, the dot part of the name, and the string "true"
    # (Pulumi CLI docs, `pulumi config set`: only --path parses a key as a path into a
    # map; top-level values are strings). `--path` would store an object under `dr`,
    # which parse_settings refuses with the right command.
    "dr.active",
    "dns",
    "portal",
    "chartSource",
    "portalSharedIdpClientSecret",
    "portalDimClientSecret",
    "portalClearinghouseClientSecret",
    "portalBpnDidResolverApiKey",
    "dockerHubUsername",
    "dockerHubAccessToken",
    "githubUsername",
    "githubAccessToken",
)


@dataclass(frozen=True)
class Secret:
    """A credential from the stack's encrypted config; never shown in a repr or a log."""

    value: str = field(repr=False)

    def output(self) -> pulumi.Output[str]:
        """The value as a secret Output, so the engine keeps it encrypted in state."""
        return pulumi.Output.secret(self.value)


@dataclass(frozen=True)
class RegistryCredentials:
    """An upstream registry account the stack's pull-through cache pulls with: its user
    name and a read-only access token (README, "Images")."""

    username: str
    access_token: Secret


class _Reader:
    """Reads raw config values (strings as Pulumi stores them, or decoded values)."""

    def __init__(self, raw: Mapping[str, Any], secret_keys: Collection[str] = ()) -> None:
        self.raw = raw
        self.secret_keys = secret_keys
        self.problems: list[str] = []

    def secret(self, key: str, required: bool) -> Secret | None:
        """A SECRET_KEYS value; refused when it is stored in plain text."""
        value = self.string(key)
        if value is None:
            if required:
                self.fail(key, f"is required: set it with `pulumi config set --secret {qualified(key)} <value>`")
            return None
        if key not in self.secret_keys:
            self.fail(
                key, f"is a credential stored in plain text; set it with `pulumi config set --secret {qualified(key)}`"
            )
            return None
        return Secret(value)

    def fail(self, key: str, message: str) -> None:
        self.problems.append(f"{qualified(key)}: {message}")

    def structured(self, key: str, default: Any) -> Any:
        value = self.raw.get(key)
        if value is None:
            return default
        if isinstance(value, str):
            try:
                return json.loads(value)
            except json.JSONDecodeError:
                self.fail(key, "must be a YAML/JSON object or list")
                return default
        return value

    def string(self, key: str, default: str | None = None) -> str | None:
        value = self.raw.get(key)
        if value is None or value == "":
            return default
        if not isinstance(value, str):
            self.fail(key, "must be a string")
            return default
        return value

    def integer(self, key: str, default: int) -> int:
        return self.as_int(key, self.raw.get(key, default))

    def as_int(self, key: str, value: Any) -> int:
        if isinstance(value, bool):
            self.fail(key, f"must be a whole number, got {value!r}")
            return 0
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, int):
            return value
        if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
            return int(value)
        self.fail(key, f"must be a whole number, got {value!r}")
        return 0

    def boolean(self, key: str, default: bool) -> bool:
        value = self.raw.get(key, default)
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        self.fail(key, f"must be true or false, got {value!r}")
        return default

    def string_list(self, key: str, value: Any) -> tuple[str, ...]:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.fail(key, "must be a list of strings")
            return ()
        return tuple(value)


def qualified(key: str) -> str:
    """The full config key: ``nodeGroups`` is ``tractusx-platform:nodeGroups``."""
    return key if ":" in key else f"{PROJECT}:{key}"


def parse_settings(raw: Mapping[str, Any], stack: str, secret_keys: Collection[str] = ()) -> Settings:
    """Validate raw config (keys without the project prefix, plus ``aws:region``).

    ``secret_keys`` are the keys the stack stores encrypted.
    """
    r = _Reader(raw, secret_keys)
    for key in raw:
        if key == "dr":
            r.fail(
                key,
                "is stored as an object (set with --path); set the flat key instead: "
                "`pulumi config rm --path dr.active && pulumi config set dr.active true`",
            )
        elif key in REPLACED_KEYS:
            r.fail(key, f"is no longer used; it was replaced by {REPLACED_KEYS[key]}")
        elif key not in ("aws:region", "aws:profile") and key not in KNOWN_KEYS:
            r.fail(key, f"unknown setting; known settings are {', '.join(KNOWN_KEYS)}")

    region = r.string("aws:region")
    if region is None:
        r.fail("aws:region", "is required (for example eu-central-1)")
    elif not _REGION.match(region):
        r.fail("aws:region", f"{region!r} is not an AWS region name such as eu-central-1")

    role = r.string("role", ROLE_PRIMARY) or ROLE_PRIMARY
    if role not in ROLES:
        r.fail("role", f"{role!r} is not a role; allowed: {', '.join(ROLES)}")

    environment = r.string("environment")
    if environment is None:
        r.fail("environment", "is required: a DNS label such as prod or dr")
    elif not _DNS_LABEL.match(environment):
        r.fail("environment", f"{environment!r} must be a lowercase DNS label of at most 32 characters")
    elif len(environment) > MAX_CACHED_ENVIRONMENT:
        r.fail(
            "environment",
            f"{environment!r} is longer than {MAX_CACHED_ENVIRONMENT} characters: the image cache's ECR "
            "repository prefixes, tx-<environment>/<registry>, may have 30",
        )

    domain = r.string("domain")
    if domain is None:
        r.fail("domain", "is required: the platform's DNS domain, such as tractus-x.example.org")
    elif not _DOMAIN.match(domain):
        r.fail("domain", f"{domain!r} is not a lowercase fully qualified domain name")

    primary_stack = r.string("primaryStack")
    if role == ROLE_DR:
        if primary_stack is None:
            r.fail("primaryStack", "is required when role is dr: the primary stack as <org>/tractusx-platform/<stack>")
        elif not _STACK_REF.match(primary_stack):
            r.fail("primaryStack", f"{primary_stack!r} must be a fully qualified stack name <org>/<project>/<stack>")
    elif primary_stack is not None:
        r.fail("primaryStack", "is only allowed when role is dr")

    dr_active = r.boolean("dr.active", False)
    if dr_active and role != ROLE_DR:
        r.fail("dr.active", "is only allowed when role is dr: it promotes the dr stack's database replica")
    dns = _parse_dns(r)
    registry_credentials = _parse_registry_credentials(r)

    vpc_cidr = _parse_vpc_cidr(r)
    service_cidr = _parse_service_cidr(r, vpc_cidr)
    az_count = r.integer("azCount", MIN_AVAILABILITY_ZONES)
    if az_count < MIN_AVAILABILITY_ZONES:
        r.fail("azCount", f"is {az_count}; the platform needs at least {MIN_AVAILABILITY_ZONES} availability zones")
    elif az_count > 6:
        r.fail("azCount", f"is {az_count}; at most 6 availability zones are supported")

    kubernetes_version = r.string("kubernetesVersion", DEFAULT_KUBERNETES_VERSION) or DEFAULT_KUBERNETES_VERSION
    if kubernetes_version not in SUPPORTED_KUBERNETES_VERSIONS:
        r.fail(
            "kubernetesVersion",
            f"{kubernetes_version!r} is not supported; allowed: {', '.join(SUPPORTED_KUBERNETES_VERSIONS)}",
        )
    else:
        for problem in eks_addons.pin_problems(kubernetes_version):
            r.fail("kubernetesVersion", f"{problem}; pin every add-on for it in components/eks_addons.py")

    node_groups = _parse_node_groups(r)
    api_access = _parse_api_access(r)
    principals = _parse_principals(r)

    retention = r.integer("logRetentionDays", 365)
    if retention not in CLOUDWATCH_RETENTION_DAYS:
        r.fail("logRetentionDays", f"{retention} is not a CloudWatch retention; allowed: {CLOUDWATCH_RETENTION_DAYS}")

    deletion_protection = r.boolean("deletionProtection", True)

    secret_rotation = r.integer("secretRotation", 1)
    if secret_rotation < 1:
        r.fail(
            "secretRotation",
            f"is {secret_rotation}; must be 1 or more (raise it by one to rotate every generated secret)",
        )

    database = _parse_database(r)

    tags = r.structured("tags", {})
    if not isinstance(tags, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in tags.items()):
        r.fail("tags", "must be a map of string keys to string values")
        tags = {}

    prometheus_url = r.string("prometheusUrl", DEFAULT_PROMETHEUS_URL) or DEFAULT_PROMETHEUS_URL
    if not _CLUSTER_URL.match(prometheus_url):
        r.fail("prometheusUrl", f"{prometheus_url!r} is not an http(s) URL such as {DEFAULT_PROMETHEUS_URL}")
    edc = _parse_edc(r, str(environment))
    acme_email = _email(r, "acmeEmail", r.string("acmeEmail"))
    alerting = _parse_alerting(
        r, is_production=str(environment) in PRODUCTION_ENVIRONMENTS, has_health_check=dns is not None
    )
    portal = _parse_portal(r, alerting)
    chart_source = r.string("chartSource", CHART_SOURCES[0]) or CHART_SOURCES[0]
    if chart_source not in CHART_SOURCES:
        r.fail(
            "chartSource",
            f"{chart_source!r} is not a chart source; allowed: {', '.join(CHART_SOURCES)} "
            "(upstream only until `make mirror-charts` has filled the stack's copy, README 'Charts')",
        )

    if r.problems or edc is None or alerting is None:
        # The parsers return None only after recording what is wrong.
        raise SettingsError(r.problems)

    settings = Settings(
        stack=stack,
        region=str(region),
        role=role,
        environment=str(environment),
        domain=str(domain),
        vpc_cidr=vpc_cidr,
        service_cidr=service_cidr,
        az_count=az_count,
        kubernetes_version=kubernetes_version,
        node_groups=node_groups,
        api_access=api_access,
        access_principals=principals,
        aws_profile=r.string("aws:profile") or None,
        log_retention_days=retention,
        deletion_protection=deletion_protection,
        primary_stack=primary_stack,
        tags=tags,
        secret_rotation=secret_rotation,
        database=database,
        prometheus_url=prometheus_url,
        edc=edc,
        acme_email=acme_email,
        alerting=alerting,
        dr_active=dr_active,
        dns=dns,
        portal=portal,
        chart_source=chart_source,
        registry_credentials=registry_credentials,
    )
    _check_capacity(settings)
    return settings


# Docker Hub user names: 4-30 lowercase letters and digits; GitHub's: letters, digits and
# single hyphens, at most 39.
_REGISTRY_USERNAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,37}[A-Za-z0-9])?$")


def _parse_registry_credentials(r: _Reader) -> dict[str, RegistryCredentials]:
    found = {}
    for name in REGISTRY_CREDENTIALS:
        user_key, token_key = f"{name}Username", f"{name}AccessToken"
        username = r.string(user_key)
        token = r.secret(token_key, required=True)
        if username is None:
            r.fail(user_key, f"is required: the account whose read-only access token is {token_key}")
        elif not _REGISTRY_USERNAME.match(username):
            r.fail(user_key, f"{username!r} is not a registry user name (letters, digits, '-')")
        elif token is not None:
            found[name] = RegistryCredentials(username, token)
    return found


def _k8s_name(r: _Reader, key: str, default: str) -> str:
    value = r.string(key, default) or default
    if not _K8S_NAME.match(value):
        r.fail(key, f"{value!r} is not a Kubernetes object name (lowercase letters, digits, '-'; at most 63)")
    return value


_EMAIL = re.compile(r"^[A-Za-z0-9._%+-]+@([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_SMARTHOST = re.compile(r"^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}:(25|465|587|2525)$")
_SLACK_CHANNEL = re.compile(r"^#[a-z0-9][a-z0-9._-]{0,79}$")


def _email(r: _Reader, key: str, value: Any) -> str:
    if value is None:
        r.fail(key, "is required: an email address such as platform-team@example.com")
        return ""
    if not isinstance(value, str) or not _EMAIL.match(value):
        r.fail(key, f"{value!r} is not an email address")
        return ""
    return value


def _parse_alerting(r: _Reader, is_production: bool, has_health_check: bool) -> AlertingSettings | None:
    raw = r.structured("alerting", None)
    allowed = {"emailTo", "emailFrom", "smtpSmarthost", "smtpUsername", "slackChannel"}
    if not isinstance(raw, dict):
        r.fail("alerting", f"is required: an object with {', '.join(sorted(allowed))}")
        return None
    for unknown in sorted(set(raw) - allowed):
        r.fail(f"alerting.{unknown}", f"unknown field; allowed: {', '.join(sorted(allowed))}")
    recipients = r.string_list("alerting.emailTo", raw.get("emailTo"))
    if not recipients:
        r.fail("alerting.emailTo", "needs at least one address: every alert goes to email")
    email_to = tuple(_email(r, "alerting.emailTo", address) for address in recipients)
    email_from = _email(r, "alerting.emailFrom", raw.get("emailFrom"))
    smarthost = raw.get("smtpSmarthost")
    if not isinstance(smarthost, str) or not _SMARTHOST.match(smarthost):
        r.fail(
            "alerting.smtpSmarthost", f"{smarthost!r} must be host:port of an SMTP relay (port 25, 465, 587 or 2525)"
        )
    username = raw.get("smtpUsername", email_from)
    if not isinstance(username, str) or not username:
        r.fail("alerting.smtpUsername", "must be a non-empty string")
    channel = raw.get("slackChannel", AlertingSettings.slack_channel)
    if not isinstance(channel, str) or not _SLACK_CHANNEL.match(channel):
        r.fail("alerting.slackChannel", f"{channel!r} must be a Slack channel such as #tractus-x-alerts")
    # Production pages and notifies: its channels are required there.
    pagerduty = r.secret("pagerdutyRoutingKey", required=is_production)
    slack = r.secret("slackWebhookUrl", required=is_production)
    smtp_password = r.secret("smtpPassword", required=is_production)
    heartbeat = r.secret("heartbeatUrl", required=is_production)
    # The health check exists only with a hosted zone (dns); its alarm pages in production.
    cloudwatch = r.secret("pagerdutyCloudwatchUrl", required=is_production and has_health_check)
    return AlertingSettings(
        email_to=email_to,
        email_from=email_from,
        smtp_smarthost=str(smarthost),
        smtp_username=str(username),
        slack_channel=str(channel),
        pagerduty_routing_key=pagerduty,
        slack_webhook_url=slack,
        smtp_password=smtp_password,
        heartbeat_url=heartbeat,
        pagerduty_cloudwatch_url=cloudwatch,
    )


def _parse_portal(r: _Reader, alerting: AlertingSettings | None) -> PortalSettings | None:
    """``portal: {enabled, operatorBpn, operatorName, services}``; off by default."""
    raw = r.structured("portal", {})
    allowed = {"enabled", "operatorBpn", "operatorName", "services"}
    if not isinstance(raw, dict):
        r.fail("portal", f"must be an object with {', '.join(sorted(allowed))}")
        return None
    for unknown in sorted(set(raw) - allowed):
        r.fail(f"portal.{unknown}", f"unknown field; allowed: {', '.join(sorted(allowed))}")
    enabled = raw.get("enabled", False)
    if not isinstance(enabled, bool):
        r.fail("portal.enabled", f"must be true or false, got {enabled!r}")
        return None
    if not enabled:
        return None
    bpn = raw.get("operatorBpn")
    if not isinstance(bpn, str) or not _BPNL.match(bpn):
        r.fail("portal.operatorBpn", f"{bpn!r} is not the operator's legal-entity BPN (BPNL and 12 characters A-Z/0-9)")
    name = raw.get("operatorName")
    if not isinstance(name, str) or not name.strip():
        r.fail("portal.operatorName", "is required: the operating company's name, shown in the portal")
    services = raw.get("services")
    if not isinstance(services, dict):
        r.fail("portal.services", f"is required: an https:// URL for each of {', '.join(PORTAL_SERVICES)}")
        services = {}
    for unknown in sorted(set(services) - set(PORTAL_SERVICES)):
        r.fail(f"portal.services.{unknown}", f"unknown service; known: {', '.join(PORTAL_SERVICES)}")
    for service in PORTAL_SERVICES:
        url = services.get(service)
        if not isinstance(url, str) or not _HTTPS_URL.match(url):
            r.fail(f"portal.services.{service}", f"{url!r} must be the service's https:// URL")
    if alerting is not None and alerting.smtp_password is None:
        r.fail(
            "smtpPassword", "is required when the portal is enabled: the portal sends its mail through the SMTP relay"
        )
    credentials = [
        r.secret(key, required=True)
        for key in (
            "portalSharedIdpClientSecret",
            "portalDimClientSecret",
            "portalClearinghouseClientSecret",
            "portalBpnDidResolverApiKey",
        )
    ]
    shared, dim, clearinghouse, resolver = credentials
    if shared is None or dim is None or clearinghouse is None or resolver is None:
        return None
    return PortalSettings(
        operator_bpn=str(bpn),
        operator_name=str(name),
        services={service: str(services.get(service)) for service in PORTAL_SERVICES},
        shared_idp_client_secret=shared,
        dim_client_secret=dim,
        clearinghouse_client_secret=clearinghouse,
        bpn_did_resolver_api_key=resolver,
    )


def _parse_edc(r: _Reader, environment: str) -> EdcSettings | None:
    """The connector's DCP identity; every value is required except the name, the context
    id and the key names. The participant brings them from onboarding (README, "EDC
    connector")."""
    bpn = r.string("edcParticipantId")
    if bpn is None:
        r.fail("edcParticipantId", "is required: the operator's Business Partner Number, such as BPNL000000000001")
    elif not _BPNL.match(bpn):
        r.fail("edcParticipantId", f"{bpn!r} is not a legal-entity BPN (BPNL and 12 characters A-Z/0-9)")
    did = _did(r, "edcParticipantDid", r.string("edcParticipantDid"))
    connector_name = _k8s_name(r, "edcConnectorName", f"tractusx-connector-{environment}")
    context_id = _k8s_name(r, "edcParticipantContextId", connector_name)
    raw_issuers = r.structured("edcTrustedIssuers", None)
    issuers: tuple[str, ...] = ()
    if raw_issuers is None:
        r.fail("edcTrustedIssuers", "is required: the DIDs of the credential issuers to trust, such as [did:web:...]")
    else:
        issuers = r.string_list("edcTrustedIssuers", raw_issuers)
        if raw_issuers == []:
            r.fail("edcTrustedIssuers", "must name at least one issuer DID")
        for issuer in issuers:
            _did(r, "edcTrustedIssuers", issuer)
    sts_url = _required_https_url(r, "edcStsUrl", "the Secure Token Service of the participant's wallet")
    sts_token_url = _required_https_url(r, "edcStsTokenUrl", "the OAuth token endpoint in front of the STS")
    client_id = r.string("edcStsClientId")
    if client_id is None:
        r.fail("edcStsClientId", "is required: the connector's client id at the Secure Token Service")
    client_secret = r.secret("edcStsClientSecret", required=True)
    bdrs_url = _required_https_url(r, "edcBdrsUrl", "the data space's BPN-DID Resolution Service")
    signer = _k8s_name(r, "edcTokenSignerKey", DEFAULT_EDC_TOKEN_SIGNER_KEY)
    verifier = _k8s_name(r, "edcTokenVerifierKey", DEFAULT_EDC_TOKEN_VERIFIER_KEY)
    if bpn is None or did is None or client_id is None or client_secret is None:
        return None
    return EdcSettings(
        bpn=bpn,
        did=did,
        participant_context_id=context_id,
        trusted_issuers=issuers,
        sts_url=sts_url,
        sts_token_url=sts_token_url,
        sts_client_id=client_id,
        sts_client_secret=client_secret,
        bdrs_url=bdrs_url,
        connector_name=connector_name,
        token_signer_key=signer,
        token_verifier_key=verifier,
    )


# did:web (W3C did:web method): a host (a port as %3A) and optional path segments.
_DID_WEB = re.compile(r"^did:web:[a-z0-9]([a-z0-9.-]*[a-z0-9])?(%3A\d{1,5})?(:[A-Za-z0-9._~-]+)*$")


def _did(r: _Reader, key: str, value: str | None) -> str | None:
    if value is None:
        r.fail(key, "is required: a did:web DID such as did:web:wallet.example.com:BPNL000000000001")
        return None
    if not _DID_WEB.match(value):
        r.fail(key, f"{value!r} is not a did:web DID (did:web:<host>[:<path>...])")
    return value


def _required_https_url(r: _Reader, key: str, what: str) -> str:
    value = r.string(key)
    if value is None:
        r.fail(key, f"is required: the https:// URL of {what}")
        return ""
    if not _HTTPS_URL.match(value):
        r.fail(key, f"{value!r} must be an https:// URL")
    return value


def _parse_dns(r: _Reader) -> DnsSettings | None:
    """The hosted zone in which each stack creates its half of the failover records
    (components/failover.py); a dr stack's must be its primary's (checked at deploy time)."""
    raw = r.structured("dns", None)
    if raw is None:
        return None
    allowed = {"hostedZoneId", "healthCheckIntervalSeconds", "failureThreshold"}
    if not isinstance(raw, dict):
        r.fail("dns", f"must be an object with {', '.join(sorted(allowed))}")
        return None
    for unknown in sorted(set(raw) - allowed):
        r.fail(f"dns.{unknown}", f"unknown field; allowed: {', '.join(sorted(allowed))}")
    zone = raw.get("hostedZoneId")
    if not isinstance(zone, str) or not _HOSTED_ZONE_ID.match(zone):
        r.fail("dns.hostedZoneId", f"{zone!r} is not a Route 53 hosted zone id such as Z0123456789ABCDEFGHIJ")
    interval = r.as_int(
        "dns.healthCheckIntervalSeconds",
        raw.get("healthCheckIntervalSeconds", DEFAULT_DNS_HEALTH_CHECK_INTERVAL_SECONDS),
    )
    if interval not in DNS_HEALTH_CHECK_INTERVAL_SECONDS:
        r.fail("dns.healthCheckIntervalSeconds", f"is {interval}; Route 53 allows 10 or 30")
    threshold = r.as_int("dns.failureThreshold", raw.get("failureThreshold", DEFAULT_DNS_FAILURE_THRESHOLD))
    if not 1 <= threshold <= 10:
        r.fail("dns.failureThreshold", f"is {threshold}; Route 53 allows 1 to 10")
    return DnsSettings(hosted_zone_id=str(zone), health_check_interval_seconds=interval, failure_threshold=threshold)


def _parse_vpc_cidr(r: _Reader) -> str:
    value = r.string("vpcCidr", "10.40.0.0/16") or "10.40.0.0/16"
    try:
        network = ipaddress.ip_network(value, strict=True)
    except ValueError:
        r.fail("vpcCidr", f"{value!r} is not a CIDR block such as 10.40.0.0/16")
        return value
    if network.version != 4 or not network.is_private or not 16 <= network.prefixlen <= 20:
        r.fail("vpcCidr", f"{value!r} must be a private IPv4 block from /16 to /20")
    return value


DEFAULT_SERVICE_CIDR = "172.20.0.0/16"
# EKS API, KubernetesNetworkConfigRequest.serviceIpv4Cidr: within 10.0.0.0/8,
# 172.16.0.0/12 or 192.168.0.0/16, from /24 to /12, not overlapping the VPC.
_SERVICE_CIDR_RANGES = tuple(ipaddress.ip_network(b) for b in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"))


def _parse_service_cidr(r: _Reader, vpc_cidr: str) -> str:
    """The cluster's service CIDR, pinned: left to EKS it is 10.100.0.0/16 or 172.20.0.0/16
    depending on the VPC, and NetworkPolicies must name the address pods reach the API at."""
    value = r.string("serviceCidr", DEFAULT_SERVICE_CIDR) or DEFAULT_SERVICE_CIDR
    try:
        network = ipaddress.ip_network(value, strict=True)
    except ValueError:
        r.fail("serviceCidr", f"{value!r} is not a CIDR block such as {DEFAULT_SERVICE_CIDR}")
        return value
    if network.version != 4 or not any(network.subnet_of(b) for b in _SERVICE_CIDR_RANGES):  # type: ignore[arg-type]
        r.fail("serviceCidr", f"{value!r} must lie within 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16")
    elif not 12 <= network.prefixlen <= 24:
        r.fail("serviceCidr", f"{value!r} must be from /12 to /24 (EKS)")
    elif _overlaps(network, vpc_cidr):
        r.fail("serviceCidr", f"{value!r} overlaps vpcCidr {vpc_cidr}; Service and VPC addresses must not collide")
    return value


def _overlaps(network: ipaddress.IPv4Network | ipaddress.IPv6Network, cidr: str) -> bool:
    try:
        return network.overlaps(ipaddress.ip_network(cidr, strict=False))
    except ValueError:
        return False  # an invalid vpcCidr is reported on its own


def kubernetes_service_ip(service_cidr: str) -> str:
    """The `kubernetes` Service's ClusterIP: the service range's first address
    (kubernetes pkg/controlplane/services.go, ServiceIPRange)."""
    return str(next(ipaddress.ip_network(service_cidr).hosts()))


def _parse_node_groups(r: _Reader) -> tuple[NodeGroupSettings, ...]:
    raw_groups = r.structured("nodeGroups", DEFAULT_NODE_GROUPS)
    if not isinstance(raw_groups, list) or not raw_groups:
        r.fail("nodeGroups", "must be a non-empty list of node groups")
        return ()
    groups: list[NodeGroupSettings] = []
    names: set[str] = set()
    for index, item in enumerate(raw_groups):
        key = f"nodeGroups[{index}]"
        if not isinstance(item, dict):
            r.fail(key, "must be an object with name, instanceTypes, minSize, desiredSize, maxSize")
            continue
        group = _parse_node_group(r, key, item)
        if group is None:
            continue
        if group.name in names:
            r.fail(f"{key}.name", f"{group.name!r} is used by another node group")
        names.add(group.name)
        groups.append(group)
    return tuple(groups)


def _parse_node_group(r: _Reader, key: str, item: dict[str, Any]) -> NodeGroupSettings | None:
    allowed = {"name", "instanceTypes", "minSize", "desiredSize", "maxSize", "diskSizeGiB", "capacityType"}
    for unknown in sorted(set(item) - allowed):
        r.fail(f"{key}.{unknown}", f"unknown field; allowed: {', '.join(sorted(allowed))}")
    before = len(r.problems)
    name = item.get("name")
    if not isinstance(name, str) or not _DNS_LABEL.match(name):
        r.fail(f"{key}.name", "is required: a lowercase DNS label")
    types = r.string_list(f"{key}.instanceTypes", item.get("instanceTypes"))
    if not types:
        r.fail(f"{key}.instanceTypes", "needs at least one instance type")
    for instance_type in types:
        if instance_type not in INSTANCE_TYPES:
            r.fail(
                f"{key}.instanceTypes",
                f"{instance_type!r} is not a known x86_64 type; allowed: {', '.join(sorted(INSTANCE_TYPES))}",
            )
    sizes = {k: r.as_int(f"{key}.{k}", item.get(k)) for k in ("minSize", "desiredSize", "maxSize")}
    disk = r.as_int(f"{key}.diskSizeGiB", item.get("diskSizeGiB", 100))
    capacity_type = item.get("capacityType", "ON_DEMAND")
    if capacity_type not in CAPACITY_TYPES:
        r.fail(f"{key}.capacityType", f"{capacity_type!r} is not allowed; allowed: {', '.join(CAPACITY_TYPES)}")
    if sizes["minSize"] < MIN_NODES:
        r.fail(f"{key}.minSize", f"is {sizes['minSize']}; the playbook requires at least {MIN_NODES} nodes")
    if sizes["maxSize"] < sizes["minSize"]:
        r.fail(f"{key}.maxSize", f"is {sizes['maxSize']}, below minSize {sizes['minSize']}")
    if not sizes["minSize"] <= sizes["desiredSize"] <= sizes["maxSize"]:
        r.fail(f"{key}.desiredSize", f"is {sizes['desiredSize']}; it must lie between minSize and maxSize")
    if not 20 <= disk <= 2000:
        r.fail(f"{key}.diskSizeGiB", f"is {disk}; allowed 20 to 2000")
    if len(r.problems) > before:
        return None
    return NodeGroupSettings(
        name=str(name),
        instance_types=types,
        min_size=sizes["minSize"],
        desired_size=sizes["desiredSize"],
        max_size=sizes["maxSize"],
        disk_size_gib=disk,
        capacity_type=str(capacity_type),
    )


def _parse_database(r: _Reader) -> DatabaseSettings:
    defaults = DatabaseSettings()
    raw = r.structured("database", {})
    if not isinstance(raw, dict):
        r.fail(
            "database",
            "must be an object with instanceClass, allocatedStorageGiB, maxAllocatedStorageGiB, backupRetentionDays",
        )
        return defaults
    allowed = {"instanceClass", "allocatedStorageGiB", "maxAllocatedStorageGiB", "backupRetentionDays"}
    for unknown in sorted(set(raw) - allowed):
        r.fail(f"database.{unknown}", f"unknown field; allowed: {', '.join(sorted(allowed))}")
    instance_class = raw.get("instanceClass", defaults.instance_class)
    if instance_class not in DATABASE_INSTANCE_CLASSES:
        r.fail(
            "database.instanceClass",
            f"{instance_class!r} is not a known RDS instance class; "
            f"allowed: {', '.join(sorted(DATABASE_INSTANCE_CLASSES))}",
        )
        instance_class = defaults.instance_class
    else:
        vcpu, memory = DATABASE_INSTANCE_CLASSES[instance_class]
        if vcpu < DATABASE_MINIMUM_VCPU or memory < DATABASE_MINIMUM_MEMORY_GIB:
            r.fail(
                "database.instanceClass",
                f"{instance_class} has {vcpu} vCPU / {memory} GiB; the playbook's database needs at least "
                f'{DATABASE_MINIMUM_VCPU} vCPU / {DATABASE_MINIMUM_MEMORY_GIB} GiB ("Vertical Scaling")',
            )
    allocated = r.as_int("database.allocatedStorageGiB", raw.get("allocatedStorageGiB", defaults.allocated_storage_gib))
    maximum = r.as_int(
        "database.maxAllocatedStorageGiB", raw.get("maxAllocatedStorageGiB", defaults.max_allocated_storage_gib)
    )
    retention = r.as_int("database.backupRetentionDays", raw.get("backupRetentionDays", defaults.backup_retention_days))
    if not 100 <= allocated <= 65536:
        r.fail(
            "database.allocatedStorageGiB",
            f"is {allocated}; allowed 100 (the playbook's production minimum storage) to 65536",
        )
    # RDS storage autoscaling needs the maximum at least 10% above the allocated size.
    if maximum * 10 < allocated * 11 or maximum > 65536:
        r.fail(
            "database.maxAllocatedStorageGiB",
            f"is {maximum}; it must be at least 10% above allocatedStorageGiB ({allocated}) and at most 65536",
        )
    if not DATABASE_MIN_BACKUP_RETENTION_DAYS <= retention <= DATABASE_MAX_BACKUP_RETENTION_DAYS:
        r.fail(
            "database.backupRetentionDays",
            f"is {retention}; allowed {DATABASE_MIN_BACKUP_RETENTION_DAYS} to {DATABASE_MAX_BACKUP_RETENTION_DAYS} "
            "days of automated backups and point-in-time recovery",
        )
    return DatabaseSettings(
        instance_class=str(instance_class),
        allocated_storage_gib=allocated,
        max_allocated_storage_gib=maximum,
        backup_retention_days=retention,
    )


# EC2 security group ids: "sg-" and 8 or 17 hexadecimal digits.
_SECURITY_GROUP_ID = re.compile(r"^sg-([0-9a-f]{8}|[0-9a-f]{17})$")


def _parse_api_access(r: _Reader) -> ApiAccessSettings:
    """The deployers' way to the Kubernetes API, required: the program's first Kubernetes
    object is created through it right after the cluster, on the first `pulumi up` as on
    every later one, and a stack without one builds every AWS resource and then times out."""
    access = ApiAccessSettings(
        public_cidrs=_api_cidrs(r, "apiPublicAccessCidrs"),
        private_cidrs=_api_cidrs(r, "apiPrivateAccessCidrs"),
        security_group_ids=r.string_list(
            "apiPrivateAccessSecurityGroupIds", r.structured("apiPrivateAccessSecurityGroupIds", [])
        ),
    )
    for group in access.security_group_ids:
        if not _SECURITY_GROUP_ID.match(group):
            r.fail("apiPrivateAccessSecurityGroupIds", f"{group!r} is not a security group id (sg-0123456789abcdef0)")
    if not access.declared:
        r.fail(
            "apiPublicAccessCidrs",
            "no way to reach the Kubernetes API is declared, and `pulumi up` creates every Kubernetes object "
            "through it. Declare at least one of: apiPublicAccessCidrs, the deployers' egress CIDRs (a laptop's "
            "address as /32, the CI runners' NAT addresses), to which alone the public endpoint opens; "
            "apiPrivateAccessCidrs, networks routed into the VPC (a VPN, a peered network, a runner subnet); "
            "apiPrivateAccessSecurityGroupIds, security groups of runners inside the VPC. The last two are "
            "admitted on 443 at the private endpoint",
        )
    return access


def _api_cidrs(r: _Reader, key: str) -> tuple[str, ...]:
    cidrs = r.string_list(key, r.structured(key, []))
    for cidr in cidrs:
        try:
            network = ipaddress.ip_network(cidr, strict=True)
        except ValueError:
            r.fail(key, f"{cidr!r} is not a CIDR block such as 198.51.100.7/32")
            continue
        if network.version != 4:
            r.fail(key, f"{cidr!r} is not an IPv4 CIDR block; the cluster's API is IPv4")
        elif network.prefixlen == 0:
            r.fail(key, f"{cidr!r} opens the Kubernetes API to the whole internet; list the deployers' networks")
    return cidrs


def _parse_principals(r: _Reader) -> AccessPrincipals:
    raw = r.structured("accessPrincipals", {})
    if not isinstance(raw, dict):
        r.fail("accessPrincipals", "must be an object with lists admin, developer, readonly")
        return AccessPrincipals()
    levels: dict[str, tuple[str, ...]] = {}
    for level, value in raw.items():
        key = f"accessPrincipals.{level}"
        if level not in ACCESS_LEVEL_GROUPS:
            r.fail(key, f"unknown access level; allowed: {', '.join(ACCESS_LEVEL_GROUPS)}")
            continue
        arns = r.string_list(key, value)
        for arn in arns:
            if not _IAM_PRINCIPAL.match(arn):
                r.fail(key, f"{arn!r} is not an IAM role or user ARN")
        levels[level] = arns
    seen: dict[str, str] = {}
    for level, arns in levels.items():
        for arn in arns:
            if arn in seen:
                r.fail(
                    f"accessPrincipals.{level}",
                    f"{arn} is also listed under {seen[arn]}; EKS allows one entry per principal",
                )
            seen[arn] = level
    return AccessPrincipals(**levels)


def _check_capacity(settings: Settings) -> None:
    vcpu, memory = settings.min_vcpu, settings.min_memory_gib
    if settings.is_production and not settings.is_dr:
        floor, label = (PRODUCTION_RECOMMENDED_VCPU, PRODUCTION_RECOMMENDED_MEMORY_GIB), "Production Recommended"
    else:
        floor, label = (PRODUCTION_MINIMUM_VCPU, PRODUCTION_MINIMUM_MEMORY_GIB), "Production Minimum"
    if vcpu < floor[0] or memory < floor[1]:
        raise SettingsError(
            [
                f"{qualified('nodeGroups')}: minimum capacity is {vcpu} vCPU / {memory} GiB; the playbook's "
                f"{label} is {floor[0]} vCPU / {floor[1]} GiB across the cluster (raise minSize or the instance size)"
            ]
        )


def _raw_config() -> tuple[dict[str, Any], set[str]]:
    """Every config value of the running stack in the project's namespace, plus aws:region
    and aws:profile, and which of those keys the stack stores encrypted."""
    from pulumi.runtime import config as runtime_config

    values = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    prefix = f"{PROJECT}:"
    raw = {key[len(prefix) :]: value for key, value in values.items() if key.startswith(prefix)}
    secret_keys = {key for key in raw if runtime_config.is_config_secret(qualified(key))}
    region = pulumi.Config("aws").get("region")
    if region is not None:
        raw["aws:region"] = region
    profile = pulumi.Config("aws").get("profile")
    if profile is not None:
        raw["aws:profile"] = profile
    return raw, secret_keys


def load_settings() -> Settings:
    """Read and validate the running stack's settings."""
    raw, secret_keys = _raw_config()
    return parse_settings(raw, pulumi.get_stack(), secret_keys)


# RFC 2606 and RFC 6761 names that are never anybody's: the stack files' examples use them.
_EXAMPLE_HOST = re.compile(r"(^|[.@/:])(example\.(com|net|org)|example|test|invalid|localhost)($|[.:/])", re.IGNORECASE)


# RFC 5737 and RFC 3849: address blocks reserved for documentation, nobody's network.
_DOCUMENTATION_NETWORKS = tuple(
    ipaddress.ip_network(block) for block in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32")
)


# The account ids AWS's documentation uses in its examples (IAM user guide, "AWS account
# identifiers" and the ARN examples): a principal in one of them can be nobody's.
_EXAMPLE_ACCOUNT_ARN = re.compile(r"^arn:aws[\w-]*:\w+::(111122223333|123456789012|444455556666|777788889999):")


def _is_example(text: str) -> bool:
    if _EXAMPLE_HOST.search(text) or _EXAMPLE_ACCOUNT_ARN.match(text):
        return True
    try:
        network = ipaddress.ip_network(text, strict=False)
    except ValueError:
        return False
    return any(
        network.version == block.version and network.subnet_of(block)  # type: ignore[arg-type]
        for block in _DOCUMENTATION_NETWORKS
    )


def example_values(raw: Mapping[str, Any], secret_keys: Collection[str] = ()) -> list[str]:
    """The settings (by key) that still hold an example value: a domain, e-mail or URL at a
    reserved example name, an address in a documentation block, or an ARN in one of AWS's
    example accounts. Let's Encrypt refuses an account at one, DNS serves none, partners
    cannot reach one, no deployer's traffic comes from one, and nobody can assume one."""
    found = []
    for key, value in sorted(raw.items()):
        if key in secret_keys:
            continue
        texts = _strings_in(_decoded(value))
        examples = sorted({text for text in texts if _is_example(text)})
        if examples:
            found.append(f"{key}: {', '.join(examples)}")
    return found


def _decoded(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _strings_in(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, Mapping):
        return [text for item in value.values() for text in _strings_in(item)]
    if isinstance(value, list):
        return [text for item in value for text in _strings_in(item)]
    return []


def refuse_example_values(examples: Sequence[str], offline: bool) -> None:
    """A deployment (preview or up) stops with every example value listed; the offline
    plan, which deploys nothing, shows them as a notice."""
    if not examples:
        return
    if offline:
        pulumi.log.warn("example values, to replace before a deployment:\n  " + "\n  ".join(examples))
        return
    raise SettingsError([f"{line} is an example value; set the stack's own" for line in examples])


def stack_example_values() -> list[str]:
    """The running stack's settings that still hold an example value."""
    raw, secret_keys = _raw_config()
    return example_values(raw, secret_keys)


def deploys_nothing() -> bool:
    """Whether the program runs under Pulumi's mocks (the offline plan and the tests), with
    no engine and no cloud behind it."""
    from pulumi.runtime.mocks import MockMonitor
    from pulumi.runtime.settings import SETTINGS

    return isinstance(SETTINGS.monitor, MockMonitor)
