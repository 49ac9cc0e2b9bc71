"""The Tractus-X EDC connector: its Argo CD Application, secrets and monitoring.

The connector is the tractusx-connector chart (components/connector_values.py), deployed by
Argo CD under the root Application; this component describes that Application as a
``ChildApplication`` and creates what the program itself owns around it: the
ServiceMonitor that makes Prometheus scrape it as job ``tractus-x-edc`` (the playbook's
``EDCConnectorDown`` selects that job). The autoscalers and disruption budgets are the
autoscaling component's, the NetworkPolicies the security component's; both take the
connector's names from here.

Namespace: ``tractus-x``. The playbook runs the control plane there: its HPAs
("Horizontal Scaling", "Custom Metrics Auto-scaling"), its rollout and its secret rotation
("Application Updates", "Security Updates") all address ``-n tractus-x``, and KEDA watches
that namespace (components/autoscaling.py). The playbook's ``edc-standalone`` namespace
is not created: nothing of the platform runs there, and NetworkPolicies that select no pod
guard nothing; another connector is another ChildApplication, with its namespace.

Secrets: the program writes the connector's database password and its STS client secret
into Vault (``VaultSeed``); External Secrets makes the Kubernetes Secrets the pods read
(the database password, and the connector's own periodic Vault token), and the connector
reads its STS client secret from Vault itself by alias, under a policy that covers only
its path. No secret value is in the Application.

Disaster recovery: on a pilot-light dr stack the database is a read-only replica, and the
connector runs its schema migrations at start, so it cannot start there: the Application
keeps both Deployments at 0 replicas and the autoscalers are paused at 0 until ``dr.active``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

import pulumi
import pulumi_kubernetes as k8s

from components import certificates, vault_spec
from components import connector_values as chart
from components.applications import ChildApplication, SyncedSecret, VaultPolicy, VaultSeed
from components.certificates import CERTIFICATE_ISSUER, INGRESS_CLASS
from components.database import EDC_DATABASE
from components.ingress import TRAEFIK_PODS
from components.jobs import REPLACE_UNREADY, wait_timeouts
from components.namespaces import Namespaces
from components.passwords import generated_password
from components.registry import ImageRegistry
from components.settings import EdcSettings
from components.traffic import INTERNET, VPC, Need, Pods, ServiceRef, scraped

RELEASE = "edc"
NAMESPACE = EDC_DATABASE.namespace
PROJECT = "tractus-x-edc"
APPLICATION = "tractusx-connector"
# Sync waves of the root Application: identity provider 0, connector 1, portal 2.
SYNC_WAVE = 1
CONTROL_PLANE_DEPLOYMENT = chart.deployment_name(RELEASE, chart.CONTROL_PLANE)
DATA_PLANE_DEPLOYMENT = chart.deployment_name(RELEASE, chart.DATA_PLANE)
DEPLOYMENTS = (CONTROL_PLANE_DEPLOYMENT, DATA_PLANE_DEPLOYMENT)
CONTROL_PLANE_LABELS = chart.selector_labels(RELEASE, chart.CONTROL_PLANE)
DATA_PLANE_LABELS = chart.selector_labels(RELEASE, chart.DATA_PLANE)
# Playbook "Alert Configuration": EDCConnectorDown watches up{job="tractus-x-edc"}.
JOB = "tractus-x-edc"
SCRAPE_INTERVAL = "30s"

# Vault (KV v2 paths without the mount). The connector's policy covers VAULT_PATH and
# below: its STS client secret, its token keys, and whatever it stores at runtime. The
# database password and the connector's token live outside it, so the connector cannot
# change what External Secrets hands to its own pods.
VAULT_URL = "https://vault.vault.svc:8200"
VAULT_PATH = "tractus-x/edc"
VAULT_TOKEN_PATH = "tractus-x/vault-tokens/edc"
DATABASE_VAULT_PATH = "tractus-x/databases/edc"
STS_CLIENT_SECRET_ALIAS = f"{VAULT_PATH}/sts-client-secret"
# The hashicorp-vault extension of EDC reads a secret's value from the property `content`.
EDC_VAULT_PROPERTY = "content"
VAULT_TOKEN_SECRET = "edc-vault-token"
# The connector's generated API keys, outside its own Vault path like the database password.
API_KEYS_VAULT_PATH = "tractus-x/api-keys/edc"
API_KEYS_SECRET = "edc-api-keys"

# Playbook "Horizontal Scaling": the control plane starts with the HPA's minimum, 2; the
# data plane with 2 as well (one per zone failure).
REPLICAS = 2
# Per pod: the chart's defaults (requests 500m / 1 GiB, CPU limit 1.5); the memory request
# equals its limit so the JVM's heap (75% of the limit) is always backed.
RESOURCES = chart.Resources(cpu_request="500m", cpu_limit="1500m", memory="1Gi")


@dataclass(frozen=True)
class ConnectorArgs:
    settings: EdcSettings
    domain: str
    database_address: pulumi.Input[str]
    database_port: pulumi.Input[int]
    database_password: pulumi.Input[str]
    # Raising it generates new API keys (the stack's secretRotation).
    secret_rotation: int
    # An image that ships the RDS CA bundle at ca_bundle_path (the backup image).
    ca_bundle_image: pulumi.Input[str]
    ca_bundle_path: str
    # A pilot-light dr stack: the database is a read-only replica.
    standby: bool
    namespaces: Namespaces
    provider: k8s.Provider
    images: ImageRegistry
    depends_on: Sequence[pulumi.Resource] = ()  # the monitoring stack (ServiceMonitor CRD)


def hosts(domain: str) -> dict[str, str]:
    """The internet-facing hosts: the DSP endpoint and the data plane's public API."""
    return {chart.CONTROL_PLANE: f"edc.{domain}", chart.DATA_PLANE: f"edc-data.{domain}"}


def jdbc_url(address: str, port: int) -> str:
    # TLS, verified against the RDS CA bundle (host name included), as the database init Job does.
    return f"jdbc:postgresql://{address}:{port}/{EDC_DATABASE.name}?sslmode=verify-full&sslrootcert={chart.RDS_CA_FILE}"


def inputs(args: ConnectorArgs) -> chart.ConnectorInputs:
    settings = args.settings
    replicas = 0 if args.standby else REPLICAS
    host = hosts(args.domain)
    return chart.ConnectorInputs(
        release=RELEASE,
        namespace=NAMESPACE,
        bpn=settings.bpn,
        did=settings.did,
        participant_context_id=settings.participant_context_id,
        trusted_issuers=settings.trusted_issuers,
        sts_url=settings.sts_url,
        sts_token_url=settings.sts_token_url,
        sts_client_id=settings.sts_client_id,
        sts_client_secret_alias=STS_CLIENT_SECRET_ALIAS,
        bdrs_url=settings.bdrs_url,
        token_signer_alias=f"{VAULT_PATH}/{settings.token_signer_key}",
        token_verifier_alias=f"{VAULT_PATH}/{settings.token_verifier_key}",
        protocol_host=host[chart.CONTROL_PLANE],
        public_host=host[chart.DATA_PLANE],
        cluster_issuer=CERTIFICATE_ISSUER,
        ingress_class=INGRESS_CLASS,
        jdbc_url=pulumi.Output.all(args.database_address, args.database_port).apply(
            lambda endpoint: jdbc_url(str(endpoint[0]), int(endpoint[1]))
        ),
        database_user=EDC_DATABASE.owner,
        rds_ca_image=args.ca_bundle_image,
        rds_ca_bundle=args.ca_bundle_path,
        vault_url=VAULT_URL,
        credential_secrets=(EDC_DATABASE.secret_name, VAULT_TOKEN_SECRET, API_KEYS_SECRET),
        replicas={plane: replicas for plane in chart.PLANES},
        resources={plane: RESOURCES for plane in chart.PLANES},
        images=args.images,
    )


def service_monitor_spec() -> dict[str, Any]:
    """Both planes' metrics ports, scraped as job ``tractus-x-edc`` (the job label would
    otherwise be the Service's name)."""
    return {
        "selector": {
            "matchExpressions": [
                {
                    "key": "app.kubernetes.io/instance",
                    "operator": "In",
                    "values": [
                        CONTROL_PLANE_LABELS["app.kubernetes.io/instance"],
                        DATA_PLANE_LABELS["app.kubernetes.io/instance"],
                    ],
                }
            ]
        },
        "namespaceSelector": {"matchNames": [NAMESPACE]},
        "endpoints": [
            {
                "port": chart.METRICS_PORT_NAME,
                "path": "/metrics",
                "interval": SCRAPE_INTERVAL,
                "relabelings": [{"action": "replace", "targetLabel": "job", "replacement": JOB}],
            }
        ],
    }


class Connector(pulumi.ComponentResource):
    application: ChildApplication
    image_warmup: k8s.batch.v1.Job | None

    def __init__(self, name: str, args: ConnectorArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("tractusx:edc:Connector", name, None, opts)
        settings = args.settings
        api_keys = {
            variable: generated_password(f"{name}-{variable.lower().replace('_', '-')}", args.secret_rotation, self)
            for variable in chart.API_KEY_VARIABLES
        }
        self.application = ChildApplication(
            name=APPLICATION,
            project=PROJECT,
            namespace=NAMESPACE,
            chart=chart.CHART,
            release=RELEASE,
            values=chart.connector_values(inputs(args)),
            sync_wave=SYNC_WAVE,
            scaled_deployments=DEPLOYMENTS,
            seeds=(
                VaultSeed(DATABASE_VAULT_PATH, {"password": pulumi.Output.secret(args.database_password)}),
                VaultSeed(STS_CLIENT_SECRET_ALIAS, {EDC_VAULT_PROPERTY: settings.sts_client_secret.output()}),
                VaultSeed(API_KEYS_VAULT_PATH, api_keys),
            ),
            secrets=(
                # Each key is the environment variable the connector's pods load (envFrom).
                SyncedSecret(
                    EDC_DATABASE.secret_name,
                    NAMESPACE,
                    DATABASE_VAULT_PATH,
                    {chart.DATABASE_PASSWORD_VARIABLE: "password"},
                ),
                SyncedSecret(VAULT_TOKEN_SECRET, NAMESPACE, VAULT_TOKEN_PATH, {chart.VAULT_TOKEN_VARIABLE: "token"}),
                SyncedSecret(API_KEYS_SECRET, NAMESPACE, API_KEYS_VAULT_PATH, {v: v for v in chart.API_KEY_VARIABLES}),
            ),
            vault_policies=(VaultPolicy(RELEASE, (VAULT_PATH,), VAULT_TOKEN_PATH),),
            labels={"app.kubernetes.io/part-of": "tractus-x", "app.kubernetes.io/component": "edc"},
            client_side_apply_reason=chart.CLIENT_SIDE_APPLY_REASON,
        )
        self.service_monitor = k8s.apiextensions.CustomResource(
            f"{name}-monitor",
            api_version="monitoring.coreos.com/v1",
            kind="ServiceMonitor",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=RELEASE, namespace=NAMESPACE, labels={"app.kubernetes.io/part-of": "edc"}
            ),
            spec=service_monitor_spec(),
            opts=pulumi.ResourceOptions(
                parent=self,
                provider=args.provider,
                depends_on=[args.namespaces.namespace(NAMESPACE), *args.depends_on],
            ),
        )
        # At pilot light: the connector's images pulled into the stack's cache now, not at
        # the activation (README "Disaster recovery").
        self.image_warmup = self._image_warmup(name, args) if args.standby else None
        self.register_outputs({"deployments": list(DEPLOYMENTS), "hosts": hosts(args.domain)})

    def _image_warmup(self, name: str, args: ConnectorArgs) -> k8s.batch.v1.Job:
        return k8s.batch.v1.Job(
            f"{name}-image-warmup",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=chart.IMAGE_WARMUP_JOB,
                namespace=NAMESPACE,
                labels={**chart.IMAGE_WARMUP_LABELS, "app.kubernetes.io/part-of": "tractus-x"},
                annotations=REPLACE_UNREADY,
            ),
            spec=cast("k8s.batch.v1.JobSpecArgsDict", chart.image_warmup_spec(args.images)),
            opts=pulumi.ResourceOptions(
                parent=self,
                provider=args.provider,
                depends_on=[args.namespaces.namespace(NAMESPACE), *args.depends_on],
                custom_timeouts=wait_timeouts(chart.IMAGE_WARMUP_DEADLINE_SECONDS),
            ),
        )


def flows(http01: bool) -> tuple[Need, ...]:
    """The connector's flows, plane by plane. In: partners through Traefik on the public
    endpoints only (DSP on the control plane, the public API on the data plane), Prometheus
    on the metrics port, each plane from the other on its control port. Out: PostgreSQL
    (RDS, in the VPC), Vault, the other plane's control port, and HTTPS to the internet
    (partners' connectors, the STS, the BDRS, DID documents). The management and control
    APIs are reachable from nowhere else. Its Ingresses' certificates are solved beside it
    when the issuers solve HTTP-01 (``http01``)."""
    control, data = Pods(NAMESPACE, CONTROL_PLANE_LABELS), Pods(NAMESPACE, DATA_PLANE_LABELS)
    vault = vault_spec.API_SERVICE
    public = {
        chart.CONTROL_PLANE: chart.CONTROL_PLANE_ENDPOINTS["protocol"],
        chart.DATA_PLANE: chart.DATA_PLANE_ENDPOINTS["public"],
    }
    needs = [
        Need(
            TRAEFIK_PODS, control, public[chart.CONTROL_PLANE]["port"], "partners' connectors reach DSP through Traefik"
        ),
        Need(
            TRAEFIK_PODS,
            data,
            public[chart.DATA_PLANE]["port"],
            "partners pull data from the public API through Traefik",
        ),
        Need(
            data,
            ServiceRef(NAMESPACE, CONTROL_PLANE_DEPLOYMENT, CONTROL_PLANE_LABELS),
            chart.CONTROL_PLANE_ENDPOINTS["control"]["port"],
            "the data plane calls the control API",
        ),
        Need(
            control,
            ServiceRef(NAMESPACE, DATA_PLANE_DEPLOYMENT, DATA_PLANE_LABELS),
            chart.DATA_PLANE_ENDPOINTS["control"]["port"],
            "the control plane signals the data plane",
        ),
    ]
    for pods, plane in ((control, "control plane"), (data, "data plane")):
        needs += [
            Need(pods, vault, 8200, f"the connector's {plane} reads its secrets from Vault"),
            Need(pods, VPC, 5432, f"the connector's {plane} uses its database (RDS)"),
            Need(pods, INTERNET, 443, f"the connector's {plane} talks to partners and the identity services"),
            scraped(pods, chart.METRICS_PORT, f"the connector's {plane}"),
        ]
    needs += certificates.challenge_flows(NAMESPACE, http01)  # its Ingresses' certificates
    return tuple(needs)
