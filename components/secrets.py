"""Secrets: HashiCorp Vault (HA raft, KMS auto-unseal, TLS, audit, metrics) and External
Secrets Operator, which turns Vault paths into the Kubernetes Secrets workloads read.

How a secret flows: a value the program owns (a generated password, a credential from
encrypted stack config) goes into a seed Secret in namespace ``vault``; the bootstrap Job
writes it into Vault (KV v2 mount ``secret``); an ExternalSecret in the workload's
namespace has External Secrets copy it into the Secret the workload mounts. No secret
value is ever part of Helm values, an Argo CD Application or a ConfigMap.

Vault and External Secrets are Helm releases of the program (not Argo CD Applications):
their IRSA role, KMS key, TLS certificate and CRDs are the program's, and so are the
ClusterSecretStore and ExternalSecrets that need those CRDs.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components import charts
from components.applications import VAULT_KV_MOUNT, ChildApplication, SyncedSecret
from components.aws_context import AwsContext
from components.backup_image import program_pod
from components.cluster import Cluster
from components.helm import chart_release
from components.iam import policy_document
from components.jobs import REPLACE_UNREADY, wait_timeouts
from components.keys import customer_key, replica_key
from components.namespaces import Namespaces
from components.registry import ImageRegistry
from components.schedules import BACKUP_NAMESPACE
from components.traffic import CONTROL_PLANE, INTERNET, Need, Pods, api_client, scraped
from components.vault_spec import (
    API_SERVICE,
    BACKUP_CA_SECRET,
    BOOTSTRAP,
    CA_KEY,
    CA_MOUNT,
    ESO_NAMESPACE,
    ESO_SERVICE_ACCOUNT,
    EXTERNAL_SECRETS,
    KUBERNETES_AUTH_MOUNT,
    NAMESPACE,
    RECOVERY_SECRET,
    SERVER_LABELS,
    TLS_SECRET,
    VAULT_ADDR,
    bootstrap_spec,
    seed_secret_name,
    spec_json,
    vault_client_env,
)

# The vault chart's default server image is hashicorp/vault 2.0.4, pinned here too.
VAULT_IMAGE = "hashicorp/vault"
VAULT_IMAGE_TAG = "2.0.4"
VAULT_RELEASE = "vault"
VAULT_SERVICE_ACCOUNT = "vault"
VAULT_REPLICAS = 3  # raft quorum of 3: one pod (one zone) may be down
VAULT_PORT = 8200
VAULT_CLUSTER_PORT = 8201
VAULT_POD_LABELS = SERVER_LABELS
VAULT_UID = 100  # the image's vault user; the chart's default
VAULT_GID = 1000
TLS_DIR = f"/vault/userconfig/{TLS_SECRET}"
STORAGE_CLASS = "gp3-encrypted"  # the cluster's KMS-encrypted gp3 class
DATA_SIZE = "10Gi"
AUDIT_SIZE = "20Gi"

# The external-secrets chart runs ghcr.io/external-secrets/external-secrets at its
# appVersion (v2.9.0) and serves external-secrets.io/v1.
ESO_RELEASE = "external-secrets"
ESO_REPLICAS = 2
ESO_WEBHOOK_PORT = 10250  # the chart's webhook.port
ESO_API_VERSION = "external-secrets.io/v1"
CLUSTER_SECRET_STORE = "vault"
# ExternalSecrets re-read Vault hourly, so a rotated value reaches its Secret within an hour.
REFRESH_INTERVAL = "1h"

CERT_MANAGER_API = "cert-manager.io/v1"
CA_DURATION = "87600h"  # 10 years: the private CA only signs Vault's serving certificate
CA_RENEW_BEFORE = "8760h"
SERVER_CERT_DURATION = "2160h"  # 90 days, renewed 30 days before expiry
SERVER_CERT_RENEW_BEFORE = "720h"
SERVER_DNS_NAMES = (
    "vault",
    "vault.vault",
    "vault.vault.svc",
    "vault.vault.svc.cluster.local",
    "*.vault-internal",
    "*.vault-internal.vault.svc",
    "*.vault-internal.vault.svc.cluster.local",
    "vault-active.vault.svc",
)
SERVER_IP_ADDRESSES = ("127.0.0.1",)

BOOTSTRAP_SPEC_DIR = "/etc/vault-bootstrap"
SEED_DIR = "/var/run/vault-seeds"
BOOTSTRAP_DEADLINE_SECONDS = 900
SEED_LABEL = {"app.kubernetes.io/part-of": "vault-bootstrap"}
# Pulumi waits until External Secrets reports the ExternalSecret Ready (pulumi-kubernetes
# 4.18+ `pulumi.com/waitFor`; custom resources are otherwise not awaited), so a Secret
# that cannot be synced fails `pulumi up` instead of leaving a workload crash-looping.
WAIT_FOR_READY = {"pulumi.com/waitFor": "condition=Ready"}


def unseal_key_policy(key_arn: str) -> str:
    """Vault's seal needs exactly these three calls on its one key."""
    return policy_document(
        [
            {
                "Sid": "VaultAutoUnseal",
                "Effect": "Allow",
                "Action": ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt"],
                "Resource": key_arn,
            }
        ]
    )


def vault_config(region: str, key_id: str) -> str:
    """Vault's server configuration (HCL): TLS listener, raft with retry_join over TLS,
    KMS auto-unseal, Kubernetes service registration (vault-active labels) and Prometheus
    telemetry. It names a key, never key material or a credential."""
    joins = "\n".join(
        f"""  retry_join {{
    leader_api_addr     = "https://vault-{i}.vault-internal:{VAULT_PORT}"
    leader_ca_cert_file = "{TLS_DIR}/{CA_KEY}"
  }}"""
        for i in range(VAULT_REPLICAS)
    )
    return f"""disable_mlock = true
ui = false

listener "tcp" {{
  address         = "[::]:{VAULT_PORT}"
  cluster_address = "[::]:{VAULT_CLUSTER_PORT}"
  tls_cert_file   = "{TLS_DIR}/tls.crt"
  tls_key_file    = "{TLS_DIR}/tls.key"
  tls_min_version = "tls12"
  # Prometheus scrapes /v1/sys/metrics without a Vault token.
  telemetry {{
    unauthenticated_metrics_access = true
  }}
}}

storage "raft" {{
  path = "/vault/data"
{joins}
}}

seal "awskms" {{
  region     = "{region}"
  kms_key_id = "{key_id}"
}}

service_registration "kubernetes" {{}}

telemetry {{
  prometheus_retention_time = "30s"
  disable_hostname          = true
}}
"""


def _restricted_container() -> dict[str, Any]:
    return {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def vault_values(config: pulumi.Input[str], role_arn: pulumi.Input[str], images: ImageRegistry) -> dict[str, Any]:
    pod_labels = dict(VAULT_POD_LABELS)
    return {
        "global": {"tlsDisable": False, "serverTelemetry": {"prometheusOperator": True}},
        # External Secrets delivers Vault data to workloads: no agent injector, no CSI
        # provider, no UI (operators use the CLI through `kubectl exec`).
        "injector": {"enabled": False},
        "csi": {"enabled": False},
        "ui": {"enabled": False},
        "server": {
            "image": {"repository": images.image(VAULT_IMAGE), "tag": VAULT_IMAGE_TAG},
            "logFormat": "json",
            "resources": {
                "requests": {"cpu": "250m", "memory": "256Mi"},
                "limits": {"cpu": "1", "memory": "512Mi"},
            },
            # Ready while uninitialised (uninitcode=204): the Helm release (atomic, so it
            # waits for every pod) finishes before anything has initialised Vault; the
            # bootstrap Job, which runs after the release, initialises it. Standbys are
            # Ready (standbyok); a sealed pod is not (503).
            "readinessProbe": {"enabled": True, "path": "/v1/sys/health?standbyok=true&uninitcode=204"},
            "extraEnvironmentVars": {"VAULT_CACERT": f"{TLS_DIR}/{CA_KEY}"},
            "volumes": [
                {"name": TLS_SECRET, "secret": {"secretName": TLS_SECRET, "defaultMode": 0o440}},
                # The chart's entrypoint writes the rendered config to /tmp: the root
                # filesystem stays read-only.
                {"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}},
            ],
            "volumeMounts": [
                {"name": TLS_SECRET, "mountPath": TLS_DIR, "readOnly": True},
                {"name": "tmp", "mountPath": "/tmp"},
            ],
            "affinity": {
                "podAntiAffinity": {
                    "requiredDuringSchedulingIgnoredDuringExecution": [
                        {"labelSelector": {"matchLabels": pod_labels}, "topologyKey": "kubernetes.io/hostname"}
                    ]
                }
            },
            "topologySpreadConstraints": [
                {
                    "maxSkew": 1,
                    "topologyKey": "topology.kubernetes.io/zone",
                    "whenUnsatisfiable": "DoNotSchedule",
                    "labelSelector": {"matchLabels": pod_labels},
                }
            ],
            "dataStorage": {"enabled": True, "size": DATA_SIZE, "storageClass": STORAGE_CLASS},
            "auditStorage": {"enabled": True, "size": AUDIT_SIZE, "storageClass": STORAGE_CLASS},
            "serviceAccount": {
                "create": True,
                "name": VAULT_SERVICE_ACCOUNT,
                "annotations": {
                    "eks.amazonaws.com/role-arn": role_arn,
                    "eks.amazonaws.com/sts-regional-endpoints": "true",
                },
            },
            # Kubernetes auth reviews the callers' tokens with Vault's own account.
            "authDelegator": {"enabled": True},
            "statefulSet": {
                "securityContext": {
                    "pod": {
                        "runAsNonRoot": True,
                        "runAsUser": VAULT_UID,
                        "runAsGroup": VAULT_GID,
                        "fsGroup": VAULT_GID,
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                    "container": _restricted_container(),
                }
            },
            "ha": {
                "enabled": True,
                "replicas": VAULT_REPLICAS,
                "raft": {"enabled": True, "setNodeId": True, "config": config},
                "disruptionBudget": {"enabled": True, "maxUnavailable": 1},
            },
        },
        "serverTelemetry": {
            "serviceMonitor": {
                "enabled": True,
                "interval": "30s",
                "scrapeTimeout": "10s",
                # Prometheus verifies Vault's certificate with the private CA.
                "tlsConfig": {
                    "ca": {"secret": {"name": TLS_SECRET, "key": CA_KEY}},
                    "serverName": f"vault.{NAMESPACE}.svc",
                },
            }
        },
    }


def external_secrets_values(images: ImageRegistry) -> dict[str, Any]:
    security = {**_restricted_container(), "enabled": True, "runAsUser": 1000}
    small = {"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"cpu": "500m", "memory": "256Mi"}}

    def spread(component: str) -> list[dict[str, Any]]:
        labels = {"app.kubernetes.io/name": component, "app.kubernetes.io/instance": ESO_RELEASE}
        return [
            {
                "maxSkew": 1,
                "topologyKey": "topology.kubernetes.io/zone",
                "whenUnsatisfiable": "ScheduleAnyway",
                "labelSelector": {"matchLabels": labels},
            }
        ]

    def component(name: str) -> dict[str, Any]:
        return {
            "replicaCount": ESO_REPLICAS,
            "resources": small,
            "securityContext": security,
            "podDisruptionBudget": {"enabled": True, "minAvailable": 1},
            "topologySpreadConstraints": spread(name),
            "metrics": {"service": {"enabled": True}},
        }

    return {
        # The controller, webhook and cert controller run the one image (the chart's
        # global.repository replaces each component's image.repository).
        "global": {"repository": images.image("ghcr.io/external-secrets/external-secrets")},
        # CRDs come with the chart: the ClusterSecretStore and ExternalSecrets need them.
        "installCRDs": True,
        **component("external-secrets"),
        # Two controller replicas elect a leader, so only one reconciles at a time.
        "leaderElect": True,
        "serviceAccount": {"create": True, "name": ESO_SERVICE_ACCOUNT},
        # The ServiceMonitor CRD exists (monitoring stack): failing loudly beats silently
        # not monitoring.
        "serviceMonitor": {"enabled": True, "renderMode": "failIfMissing"},
        "webhook": component("external-secrets-webhook"),
        # The cert controller runs without leader election unless told (its
        # --enable-leader-election defaults to false, cmd/controller/certcontroller.go):
        # two replicas would otherwise both rotate the webhook's certificate.
        "certController": {
            **component("external-secrets-cert-controller"),
            "extraArgs": {"enable-leader-election": True},
        },
    }


def cluster_secret_store_spec() -> dict[str, Any]:
    return {
        "provider": {
            "vault": {
                "server": VAULT_ADDR,
                "path": VAULT_KV_MOUNT,
                "version": "v2",
                "caProvider": {"type": "Secret", "name": TLS_SECRET, "key": CA_KEY, "namespace": NAMESPACE},
                "auth": {
                    "kubernetes": {
                        "mountPath": KUBERNETES_AUTH_MOUNT,
                        "role": EXTERNAL_SECRETS,
                        "serviceAccountRef": {"name": ESO_SERVICE_ACCOUNT, "namespace": ESO_NAMESPACE},
                    }
                },
            }
        }
    }


def external_secret_spec(secret: SyncedSecret) -> dict[str, Any]:
    return {
        "refreshInterval": REFRESH_INTERVAL,
        "secretStoreRef": {"kind": "ClusterSecretStore", "name": CLUSTER_SECRET_STORE},
        # Owner: the Secret is External Secrets' (and goes with the ExternalSecret);
        # CreateOrMerge: the chart renders the Secret too (SyncedSecret.chart_renders).
        # External Secrets creates it with the Vault values before Argo CD's first sync,
        # whose RespectIgnoreDifferences then keeps that live data, and writes the Vault
        # values into it again whenever they differ (ESO 2.8+, "ownership deletion policy");
        # Retain: a path missing in Vault keeps the last good Secret instead of deleting it.
        "target": {
            "name": secret.name,
            "creationPolicy": "CreateOrMerge" if secret.chart_renders else "Owner",
            "deletionPolicy": "Retain",
        },
        "data": [
            {"secretKey": key, "remoteRef": {"key": secret.path, "property": prop}}
            for key, prop in sorted(secret.keys.items())
        ],
    }


def certificate_specs() -> dict[str, dict[str, Any]]:
    """The private CA (self-signed) and Vault's serving certificate signed by it."""
    return {
        "vault-ca": {
            "isCA": True,
            "commonName": "tractusx-platform vault CA",
            "secretName": "vault-ca",
            "duration": CA_DURATION,
            "renewBefore": CA_RENEW_BEFORE,
            "privateKey": {"algorithm": "ECDSA", "size": 384, "rotationPolicy": "Always"},
            "issuerRef": {"name": "vault-selfsigned", "kind": "Issuer", "group": "cert-manager.io"},
        },
        TLS_SECRET: {
            "secretName": TLS_SECRET,
            "commonName": f"vault.{NAMESPACE}.svc",
            "dnsNames": list(SERVER_DNS_NAMES),
            "ipAddresses": list(SERVER_IP_ADDRESSES),
            "duration": SERVER_CERT_DURATION,
            "renewBefore": SERVER_CERT_RENEW_BEFORE,
            "usages": ["server auth", "client auth", "digital signature", "key encipherment"],
            "privateKey": {"algorithm": "ECDSA", "size": 256, "rotationPolicy": "Always"},
            "issuerRef": {"name": "vault-ca", "kind": "Issuer", "group": "cert-manager.io"},
        },
    }


def _digest(values: Sequence[Any]) -> str:
    return hashlib.sha256(repr(list(values)).encode()).hexdigest()


CA_READER = "vault-ca-reader"
CA_SOURCE_STORE = "vault-tls"


def ca_source_store_spec() -> dict[str, Any]:
    """The Kubernetes API as a secret store: Secrets of namespace vault, read as vault-ca-reader."""
    return {
        "provider": {
            "kubernetes": {
                "remoteNamespace": NAMESPACE,
                "server": {
                    "url": "https://kubernetes.default.svc",
                    "caProvider": {"type": "ConfigMap", "name": "kube-root-ca.crt", "key": "ca.crt"},
                },
                "auth": {"serviceAccount": {"name": CA_READER}},
            }
        }
    }


def backup_ca_spec() -> dict[str, Any]:
    return {
        "refreshInterval": REFRESH_INTERVAL,
        "secretStoreRef": {"kind": "SecretStore", "name": CA_SOURCE_STORE},
        "target": {"name": BACKUP_CA_SECRET, "creationPolicy": "Owner", "deletionPolicy": "Retain"},
        "data": [{"secretKey": CA_KEY, "remoteRef": {"key": TLS_SECRET, "property": CA_KEY}}],
    }


@dataclass(frozen=True)
class SecretsArgs:
    name_prefix: str
    cluster: Cluster
    namespaces: Namespaces
    applications: Sequence[ChildApplication]
    image: pulumi.Input[str]  # the backup image (txbackup) by digest, for the bootstrap Job
    ctx: AwsContext
    tags: Mapping[str, str]
    # cert-manager (Issuer, Certificate CRDs) and the monitoring stack (ServiceMonitor CRD).
    depends_on: Sequence[pulumi.Resource]
    images: ImageRegistry
    # On a dr stack: the primary's unseal key, a multi-Region key replicated here, so
    # this Vault unseals a restored snapshot of the primary's Vault.
    primary_unseal_key_arn: pulumi.Input[str] | None = None


class Secrets(pulumi.ComponentResource):
    unseal_key_arn: pulumi.Output[str]
    vault: k8s.helm.v3.Release
    external_secrets: k8s.helm.v3.Release
    bootstrap_job: k8s.batch.v1.Job
    ready: list[pulumi.Resource]  # what a consumer of synced Secrets depends on

    def __init__(self, name: str, args: SecretsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("tractusx:secrets:Secrets", name, None, opts)
        self._name = name
        self._args = args
        self._provider = args.cluster.k8s_provider
        self.unseal_key_arn = self._unseal_key()
        role = args.cluster.irsa_role(
            f"{name}-vault",
            namespace=NAMESPACE,
            service_account=VAULT_SERVICE_ACCOUNT,
            description="Vault: KMS auto-unseal with its one key",
            inline_policy=self.unseal_key_arn.apply(unseal_key_policy),
            parent=self,
        )
        tls = self._tls()
        config = self.unseal_key_arn.apply(lambda arn: vault_config(args.ctx.region, arn))
        self.vault = chart_release(
            f"{name}-vault-release",
            release=VAULT_RELEASE,
            chart=charts.VAULT,
            namespace=NAMESPACE,
            values=vault_values(config, role.arn, args.images),
            parent=self,
            provider=self._provider,
            depends_on=[args.namespaces.namespace(NAMESPACE), tls, role, *args.depends_on],
        )
        self.external_secrets = chart_release(
            f"{name}-external-secrets-release",
            release=ESO_RELEASE,
            chart=charts.EXTERNAL_SECRETS,
            namespace=ESO_NAMESPACE,
            values=external_secrets_values(args.images),
            parent=self,
            provider=self._provider,
            depends_on=[args.namespaces.namespace(ESO_NAMESPACE), *args.depends_on],
        )
        self.bootstrap_job = self._bootstrap()
        store = self._k8s(
            "cluster-secret-store",
            ESO_API_VERSION,
            "ClusterSecretStore",
            k8s.meta.v1.ObjectMetaArgs(name=CLUSTER_SECRET_STORE),
            cluster_secret_store_spec(),
            depends_on=[self.external_secrets, self.bootstrap_job],
        )
        self.external_secret_objects = [
            self._external_secret(secret, store) for app in args.applications for secret in app.secrets
        ]
        self.ca_copies = self._ca_copies()
        self.ready = [store, self.bootstrap_job, *self.external_secret_objects, *self.ca_copies]
        self.register_outputs({"unseal_key_arn": self.unseal_key_arn, "vault_address": VAULT_ADDR})

    def _k8s(  # noqa: PLR0917 - one custom resource: its role, type, metadata, spec, dependencies
        self,
        role: str,
        api_version: str,
        kind: str,
        metadata: k8s.meta.v1.ObjectMetaArgs,
        spec: Mapping[str, Any],
        depends_on: Sequence[pulumi.Resource],
    ) -> k8s.apiextensions.CustomResource:
        return k8s.apiextensions.CustomResource(
            f"{self._name}-{role}",
            api_version=api_version,
            kind=kind,
            metadata=metadata,
            spec=dict(spec),
            opts=pulumi.ResourceOptions(parent=self, provider=self._provider, depends_on=list(depends_on)),
        )

    def _unseal_key(self) -> pulumi.Output[str]:
        args = self._args
        alias = f"{args.name_prefix}-vault-unseal"
        description = f"Vault auto-unseal of {args.name_prefix}"
        if args.primary_unseal_key_arn is not None:
            return replica_key(
                f"{self._name}-unseal",
                primary_key_arn=args.primary_unseal_key_arn,
                alias=alias,
                description=description,
                ctx=args.ctx,
                parent=self,
                tags=args.tags,
            ).arn
        return customer_key(
            f"{self._name}-unseal",
            alias=alias,
            description=description,
            ctx=args.ctx,
            parent=self,
            tags=args.tags,
            multi_region=True,
        ).arn

    def _tls(self) -> k8s.apiextensions.CustomResource:
        """Self-signed issuer -> private CA -> CA issuer -> Vault's serving certificate."""
        namespace = self._args.namespaces.namespace(NAMESPACE)
        selfsigned = self._k8s(
            "selfsigned-issuer",
            CERT_MANAGER_API,
            "Issuer",
            k8s.meta.v1.ObjectMetaArgs(name="vault-selfsigned", namespace=NAMESPACE),
            {"selfSigned": {}},
            depends_on=[namespace, *self._args.depends_on],
        )
        specs = certificate_specs()
        ca = self._k8s(
            "ca-certificate",
            CERT_MANAGER_API,
            "Certificate",
            k8s.meta.v1.ObjectMetaArgs(name="vault-ca", namespace=NAMESPACE),
            specs["vault-ca"],
            depends_on=[selfsigned],
        )
        ca_issuer = self._k8s(
            "ca-issuer",
            CERT_MANAGER_API,
            "Issuer",
            k8s.meta.v1.ObjectMetaArgs(name="vault-ca", namespace=NAMESPACE),
            {"ca": {"secretName": "vault-ca"}},
            depends_on=[ca],
        )
        return self._k8s(
            "server-certificate",
            CERT_MANAGER_API,
            "Certificate",
            k8s.meta.v1.ObjectMetaArgs(name=TLS_SECRET, namespace=NAMESPACE),
            specs[TLS_SECRET],
            depends_on=[ca_issuer],
        )

    def _ca_namespaces(self) -> list[str]:
        """Where pods talk to Vault themselves: the backup jobs, and every application
        with a Vault policy (the connector), each in its own namespace."""
        talking = {app.namespace for app in self._args.applications if app.vault_policies}
        return [BACKUP_NAMESPACE, *sorted(talking - {BACKUP_NAMESPACE})]

    def _ca_copies(self) -> list[k8s.apiextensions.CustomResource]:
        """Vault's CA certificate as Secret ``vault-ca`` (key ``ca.crt``) in each namespace
        of ``_ca_namespaces`` (a pod mounts Secrets of its own namespace only).

        External Secrets copies key ``ca.crt`` of ``vault-server-tls`` with its Kubernetes
        provider, as the account ``vault-ca-reader`` of that namespace, which may read that
        one Secret of namespace vault and nothing else; the copy follows cert-manager's
        renewals hourly.
        """
        provider = self._provider
        labels = {"app.kubernetes.io/name": CA_READER, "app.kubernetes.io/part-of": "tractusx-platform"}
        targets = self._ca_namespaces()
        accounts = [
            k8s.core.v1.ServiceAccount(
                f"{self._name}-ca-reader-sa{_suffix(namespace)}",
                metadata=k8s.meta.v1.ObjectMetaArgs(name=CA_READER, namespace=namespace, labels=labels),
                automount_service_account_token=False,
                opts=pulumi.ResourceOptions(
                    parent=self, provider=provider, depends_on=[self._args.namespaces.namespace(namespace)]
                ),
            )
            for namespace in targets
        ]
        role = k8s.rbac.v1.Role(
            f"{self._name}-ca-reader-role",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=CA_READER, namespace=NAMESPACE, labels=labels),
            rules=[
                k8s.rbac.v1.PolicyRuleArgs(
                    api_groups=[""], resources=["secrets"], resource_names=[TLS_SECRET], verbs=["get"]
                )
            ],
            opts=pulumi.ResourceOptions(
                parent=self, provider=provider, depends_on=[self._args.namespaces.namespace(NAMESPACE)]
            ),
        )
        binding = k8s.rbac.v1.RoleBinding(
            f"{self._name}-ca-reader-binding",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=CA_READER, namespace=NAMESPACE, labels=labels),
            role_ref=k8s.rbac.v1.RoleRefArgs(api_group="rbac.authorization.k8s.io", kind="Role", name=CA_READER),
            subjects=[
                k8s.rbac.v1.SubjectArgs(kind="ServiceAccount", name=CA_READER, namespace=namespace)
                for namespace in targets
            ],
            opts=pulumi.ResourceOptions(parent=self, provider=provider, depends_on=[role, *accounts]),
        )
        copies = []
        for namespace in targets:
            store = self._k8s(
                f"ca-source-store{_suffix(namespace)}",
                ESO_API_VERSION,
                "SecretStore",
                k8s.meta.v1.ObjectMetaArgs(name=CA_SOURCE_STORE, namespace=namespace, labels=labels),
                ca_source_store_spec(),
                depends_on=[self.external_secrets, binding],
            )
            copies.append(
                k8s.apiextensions.CustomResource(
                    f"{self._name}-{'backup' if namespace == BACKUP_NAMESPACE else namespace}-ca",
                    api_version=ESO_API_VERSION,
                    kind="ExternalSecret",
                    metadata=k8s.meta.v1.ObjectMetaArgs(
                        name=BACKUP_CA_SECRET, namespace=namespace, labels=labels, annotations=WAIT_FOR_READY
                    ),
                    spec=backup_ca_spec(),
                    opts=pulumi.ResourceOptions(parent=self, provider=provider, depends_on=[store, self.vault]),
                )
            )
        return copies

    # --- bootstrap ---------------------------------------------------------------------

    def _seed_secrets(self) -> list[k8s.core.v1.Secret]:
        namespace = self._args.namespaces.namespace(NAMESPACE)
        secrets = []
        for app in self._args.applications:
            for seed in app.seeds:
                name = seed_secret_name(seed)
                secrets.append(
                    k8s.core.v1.Secret(
                        f"{self._name}-{name}",
                        metadata=k8s.meta.v1.ObjectMetaArgs(
                            name=name,
                            namespace=NAMESPACE,
                            labels={**SEED_LABEL, "app.kubernetes.io/managed-by": "pulumi"},
                            annotations={"tractusx-platform/vault-path": f"{VAULT_KV_MOUNT}/{seed.path}"},
                        ),
                        type="Opaque",
                        string_data={key: pulumi.Output.secret(value) for key, value in seed.data.items()},
                        opts=pulumi.ResourceOptions(parent=self, provider=self._provider, depends_on=[namespace]),
                    )
                )
        return secrets

    def _bootstrap(self) -> k8s.batch.v1.Job:
        args = self._args
        provider = self._provider
        child = pulumi.ResourceOptions(
            parent=self, provider=provider, depends_on=[args.namespaces.namespace(NAMESPACE)]
        )
        labels = {"app.kubernetes.io/name": BOOTSTRAP, "app.kubernetes.io/part-of": "tractusx-platform"}
        spec = bootstrap_spec(args.applications, restore=args.primary_unseal_key_arn is not None)
        document = spec_json(spec)
        config_map = k8s.core.v1.ConfigMap(
            f"{self._name}-bootstrap-spec",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=BOOTSTRAP, namespace=NAMESPACE, labels=labels),
            data={"spec.json": document},
            opts=child,
        )
        seeds = self._seed_secrets()
        account = k8s.core.v1.ServiceAccount(
            f"{self._name}-bootstrap-sa",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=BOOTSTRAP, namespace=NAMESPACE, labels=labels),
            automount_service_account_token=False,
            opts=child,
        )
        # It creates the recovery-key Secret once, then reads and updates only that one.
        role = k8s.rbac.v1.Role(
            f"{self._name}-bootstrap-role",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=BOOTSTRAP, namespace=NAMESPACE, labels=labels),
            rules=[
                k8s.rbac.v1.PolicyRuleArgs(api_groups=[""], resources=["secrets"], verbs=["create"]),
                k8s.rbac.v1.PolicyRuleArgs(
                    api_groups=[""], resources=["secrets"], resource_names=[RECOVERY_SECRET], verbs=["get", "update"]
                ),
            ],
            opts=child,
        )
        binding = k8s.rbac.v1.RoleBinding(
            f"{self._name}-bootstrap-binding",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=BOOTSTRAP, namespace=NAMESPACE, labels=labels),
            role_ref=k8s.rbac.v1.RoleRefArgs(api_group="rbac.authorization.k8s.io", kind="Role", name=BOOTSTRAP),
            subjects=[k8s.rbac.v1.SubjectArgs(kind="ServiceAccount", name=BOOTSTRAP, namespace=NAMESPACE)],
            opts=pulumi.ResourceOptions(parent=self, provider=provider, depends_on=[role, account]),
        )
        # The Job is replaced (deleted first: one bootstrap at a time, same name) whenever
        # the spec or a seed value changes. The spec's hash is on the pod template; the
        # seeds' hash, a digest of secret values and so kept secret, is on the Job's own
        # metadata (a secret value anywhere in the pod template would make the whole
        # template secret, and unreadable in a plan).
        seed_hash: pulumi.Output[str] = pulumi.Output.secret(
            pulumi.Output.all(*[s.string_data for s in seeds]).apply(_digest)
        )
        spec_hash = hashlib.sha256(document.encode()).hexdigest()
        return k8s.batch.v1.Job(
            f"{self._name}-bootstrap",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=BOOTSTRAP,
                namespace=NAMESPACE,
                labels=labels,
                annotations={"tractusx-platform/seeds-sha256": seed_hash, **REPLACE_UNREADY},
            ),
            spec=k8s.batch.v1.JobSpecArgs(
                backoff_limit=6,  # Vault's pods may still be starting: retried with back-off
                active_deadline_seconds=BOOTSTRAP_DEADLINE_SECONDS,
                template=k8s.core.v1.PodTemplateSpecArgs(
                    metadata=k8s.meta.v1.ObjectMetaArgs(
                        labels=labels, annotations={"tractusx-platform/spec-sha256": spec_hash}
                    ),
                    spec=self._bootstrap_pod(seeds),
                ),
            ),
            opts=pulumi.ResourceOptions(
                parent=self,
                provider=provider,
                depends_on=[self.vault, config_map, binding, *seeds],
                replace_on_changes=["spec", "metadata.annotations"],
                delete_before_replace=True,
                custom_timeouts=wait_timeouts(BOOTSTRAP_DEADLINE_SECONDS),
            ),
        )

    def _bootstrap_pod(self, seeds: Sequence[k8s.core.v1.Secret]) -> k8s.core.v1.PodSpecArgs:
        names = [seed_secret_name(seed) for app in self._args.applications for seed in app.seeds]
        env = [
            *[k8s.core.v1.EnvVarArgs(name=k, value=v) for k, v in vault_client_env(BOOTSTRAP).items()],
            k8s.core.v1.EnvVarArgs(name="BOOTSTRAP_SPEC", value=f"{BOOTSTRAP_SPEC_DIR}/spec.json"),
            k8s.core.v1.EnvVarArgs(name="SEED_DIR", value=SEED_DIR),
            k8s.core.v1.EnvVarArgs(
                name="POD_NAMESPACE",
                value_from=k8s.core.v1.EnvVarSourceArgs(
                    field_ref=k8s.core.v1.ObjectFieldSelectorArgs(field_path="metadata.namespace")
                ),
            ),
        ]
        volumes = [
            k8s.core.v1.VolumeArgs(name="tmp", empty_dir=k8s.core.v1.EmptyDirVolumeSourceArgs(size_limit="64Mi")),
            k8s.core.v1.VolumeArgs(
                name="vault-tls",
                secret=k8s.core.v1.SecretVolumeSourceArgs(
                    secret_name=TLS_SECRET, items=[k8s.core.v1.KeyToPathArgs(key=CA_KEY, path=CA_KEY)]
                ),
            ),
            k8s.core.v1.VolumeArgs(
                name="spec", config_map=k8s.core.v1.ConfigMapVolumeSourceArgs(name=BOOTSTRAP, default_mode=0o444)
            ),
            *[
                k8s.core.v1.VolumeArgs(
                    name=f"seed-{i}", secret=k8s.core.v1.SecretVolumeSourceArgs(secret_name=name, default_mode=0o400)
                )
                for i, name in enumerate(names)
            ],
        ]
        mounts = [
            k8s.core.v1.VolumeMountArgs(name="tmp", mount_path="/tmp"),
            k8s.core.v1.VolumeMountArgs(name="vault-tls", mount_path=CA_MOUNT, read_only=True),
            k8s.core.v1.VolumeMountArgs(name="spec", mount_path=BOOTSTRAP_SPEC_DIR, read_only=True),
            *[
                k8s.core.v1.VolumeMountArgs(name=f"seed-{i}", mount_path=f"{SEED_DIR}/{name}", read_only=True)
                for i, name in enumerate(names)
            ],
        ]
        return program_pod(
            image=self._args.image,
            service_account=BOOTSTRAP,
            container=BOOTSTRAP,
            args=[BOOTSTRAP],
            env=env,
            requests={"cpu": "100m", "memory": "128Mi"},
            limits={"cpu": "500m", "memory": "256Mi"},
            volumes=volumes,
            volume_mounts=mounts,
        )

    def _external_secret(
        self, secret: SyncedSecret, store: k8s.apiextensions.CustomResource
    ) -> k8s.apiextensions.CustomResource:
        return k8s.apiextensions.CustomResource(
            f"{self._name}-{secret.namespace}-{secret.name}",
            api_version=ESO_API_VERSION,
            kind="ExternalSecret",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=secret.name,
                namespace=secret.namespace,
                annotations=WAIT_FOR_READY,
                labels={"app.kubernetes.io/part-of": "tractusx-platform"},
            ),
            spec=external_secret_spec(secret),
            opts=pulumi.ResourceOptions(
                parent=self,
                provider=self._provider,
                depends_on=[store, self._args.namespaces.namespace(secret.namespace)],
            ),
        )


def _suffix(namespace: str) -> str:
    """Resource-name suffix of a CA copy: none for namespace backup, whose copy came first."""
    return "" if namespace == BACKUP_NAMESPACE else f"-{namespace}"


VAULT_SERVICE = API_SERVICE


def flows() -> tuple[Need, ...]:
    """Vault, its bootstrap Job and External Secrets; Vault's other clients declare theirs."""
    vault = Pods(NAMESPACE, VAULT_POD_LABELS)
    bootstrap = Pods(NAMESPACE, {"app.kubernetes.io/name": BOOTSTRAP})
    controller = Pods(ESO_NAMESPACE, {"app.kubernetes.io/name": ESO_RELEASE})
    webhook = Pods(ESO_NAMESPACE, {"app.kubernetes.io/name": f"{ESO_RELEASE}-webhook"})
    cert_controller = Pods(ESO_NAMESPACE, {"app.kubernetes.io/name": f"{ESO_RELEASE}-cert-controller"})
    return (
        Need(vault, INTERNET, 443, "Vault unseals with AWS KMS (and STS for IRSA)"),
        api_client(vault, "Vault (Kubernetes auth's TokenReview, service registration)"),
        Need(vault, vault, VAULT_PORT, "the Vault pods join the raft cluster through the API port (retry_join)"),
        Need(vault, vault, VAULT_CLUSTER_PORT, "raft replication and request forwarding among the Vault pods"),
        Need(bootstrap, VAULT_SERVICE, VAULT_PORT, "the bootstrap Job initialises and configures Vault"),
        api_client(bootstrap, "the Vault bootstrap Job (its recovery-key Secret)"),
        Need(controller, VAULT_SERVICE, VAULT_PORT, "External Secrets reads the values from Vault"),
        api_client(controller, "External Secrets"),
        api_client(cert_controller, "External Secrets' certificate controller"),
        Need(CONTROL_PLANE, webhook, ESO_WEBHOOK_PORT, "the API server calls External Secrets' webhook"),
        scraped(vault, VAULT_PORT, "the active Vault"),
        *(scraped(pods, 8080, pods.name) for pods in (controller, webhook, cert_controller)),
    )
