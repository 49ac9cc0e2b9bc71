"""The tractusx-connector chart's Helm values: the one module that knows its value keys.

A chart upgrade changes this module (and its tests) and nothing else. The values are a
pure function of typed inputs; the connector component (components/edc.py) supplies them
from the settings and the program's outputs.

The plan renders the pinned chart with these values and checks that the chart reads every
key and that what it renders is valid (offline/rendered_checks.py).

What the templates do with the values, and what that means here:
- Names: Deployments, Services and Ingresses are `<fullname>-controlplane` /
  `<fullname>-dataplane`, and fullname is `<release>-tractusx-connector` unless the release
  name contains the chart name. `fullnameOverride` is the release, so the Deployments are
  `<release>-controlplane` and `<release>-dataplane`, the names KEDA and the alerts use.
- Pods carry `app.kubernetes.io/name: tractusx-connector-<plane>` and
  `app.kubernetes.io/instance: <release>-<plane>` (the selector labels) plus `podLabels`.
- Credentials: the chart renders `postgresql.auth.password` into
  `EDC_DATASOURCE_DEFAULT_PASSWORD` and `vault.hashicorp.token` into
  `EDC_VAULT_HASHICORP_TOKEN` as plain `value`s, and both are `required`. The values set
  them to Kubernetes variable references, `$(EDC_DATABASE_PASSWORD)` and
  `$(EDC_VAULT_TOKEN)`, and `<plane>.envSecretNames` loads those two variables from the
  Secrets External Secrets makes (envFrom). The kubelet expands `$(VAR)` in an env value
  from the variables defined before it, envFrom's first, so the connector gets the
  Secrets' values and no credential is in the values. The chart's API keys
  (`<plane>.endpoints.<api>.authKey`, default "password") are generated keys handed over
  the same way.
- `EDC_RUNTIME_ID`: the chart sets it to `<fullname>-<plane>` for every replica. Upstream
  EDC uses the runtime id as the lease holder of its state machines, so replicas with one
  id take each other's leases (eclipse-tractusx/tractusx-edc#2132). The pod's name comes
  in as POD_NAME (`envValueFrom`, downward API), and `JAVA_TOOL_OPTIONS` (`env`, rendered
  after `envValueFrom`) sets the system property `edc.runtime.id` from it; EDC's
  configuration takes system properties over environment variables.
- Ingress: `controlplane.ingresses` / `dataplane.ingresses` are lists; only the
  internet-facing entry is given (the chart's default second entry, management and control
  on an "intranet" host, is thereby gone). `certManager.clusterIssuer` becomes the
  `cert-manager.io/cluster-issuer` annotation; `tls.secretName` names the certificate's Secret.
- Metrics: the image starts the JVM with the OpenTelemetry Java agent, configured from the
  chart's `<plane>.opentelemetry` properties (mounted at /app/opentelemetry.properties); the
  chart turns it off by default. It is turned on here with the Prometheus exporter on the
  chart's metrics port (9090), which the chart's container and Service already expose.
- Autoscaling: the chart's HPA template uses autoscaling/v2beta1 (removed in Kubernetes
  1.25), so `autoscaling.enabled` stays false and KEDA scales the Deployments.
- Update strategy: the chart sets none, so the Deployments roll out with Kubernetes' default
  RollingUpdate of 25% unavailable / 25% surge, which is the playbook's "Application
  Updates" patch. The chart has no key for it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi

from components import charts
from components.applications import VAULT_KV_MOUNT
from components.registry import ImageRegistry

# tractusx-connector 0.12.1 from the Tractus-X chart repository. The dev repository holds
# every released chart version (the stable one only those of a Tractus-X release); the
# version is pinned, so it resolves to the same chart either way.
CHART = charts.TRACTUSX_CONNECTOR
APP_VERSION = "0.12.1"  # the chart's appVersion: the connector release
# The chart's default images for a PostgreSQL + HashiCorp Vault connector, pinned to the
# chart's appVersion explicitly (the init container below uses the same image).
CONTROL_PLANE_IMAGE = "tractusx/edc-controlplane-postgresql-hashicorp-vault"
DATA_PLANE_IMAGE = "tractusx/edc-dataplane-hashicorp-vault"

CONTROL_PLANE = "controlplane"
DATA_PLANE = "dataplane"
PLANES = (CONTROL_PLANE, DATA_PLANE)

# The endpoints the program relies on (NetworkPolicies, Ingress, ServiceMonitor), set
# explicitly so a changed chart default cannot move them. Chart defaults of the versions
# read, except the data plane's control port (8083 in 0.5-0.10, 8084 on main).
CONTROL_PLANE_ENDPOINTS: Mapping[str, Mapping[str, Any]] = {
    "default": {"port": 8080, "path": "/api"},  # health checks; never on an Ingress
    "management": {"port": 8081, "path": "/management"},  # never on an Ingress
    "control": {"port": 8083, "path": "/control"},  # data plane -> control plane; never on an Ingress
    "protocol": {"port": 8084, "path": "/api/v1/dsp"},  # DSP: internet-facing
    "metrics": {"port": 9090, "path": "/metrics"},
}
DATA_PLANE_ENDPOINTS: Mapping[str, Mapping[str, Any]] = {
    "default": {"port": 8080, "path": "/api"},
    "public": {"port": 8081, "path": "/api/public"},  # data pulled by partners: internet-facing
    "control": {"port": 8084, "path": "/api/control"},  # control plane -> data plane (signaling)
    "metrics": {"port": 9090, "path": "/metrics"},
}
PUBLIC_ENDPOINT = {CONTROL_PLANE: "protocol", DATA_PLANE: "public"}
METRICS_PORT_NAME = "metrics"
METRICS_PORT = 9090

# The chart's control plane Deployment (templates/deployment-controlplane.yaml of 0.12.1)
# lists six variables twice: WEB_HTTP_CATALOG_PORT, _PATH, _AUTH_TYPE, _AUTH_KEY,
# EDC_CATALOG_CACHE_EXECUTION_ENABLED and TX_EDC_CATALOG_NODE_LIST_FILE, unconditionally
# and with the same values, and it has no value to drop either copy nor one to annotate
# the Deployment. Server-side apply refuses the Deployment ("duplicate entries for key"),
# so Argo CD applies this chart client-side, which creates and patches it as kubectl apply
# does; the kubelet takes the later of two variables of one name.
CLIENT_SIDE_APPLY_REASON = "tractusx-connector 0.12.1 renders six env variables twice in the control plane Deployment"

# The variables the Secrets hand the pods (envFrom), and the chart's `required` plain
# values as references to them (see the module docstring).
DATABASE_PASSWORD_VARIABLE = "EDC_DATABASE_PASSWORD"
VAULT_TOKEN_VARIABLE = "EDC_VAULT_TOKEN"
# The chart's API keys (`required` plain values, default "password"): the management API
# (the participant's own applications), the catalog API and the data plane's consumer
# proxy. Each is a generated key handed over like the credentials above.
API_KEYS: Mapping[str, Mapping[str, str]] = {
    CONTROL_PLANE: {"management": "EDC_MANAGEMENT_API_KEY", "catalog": "EDC_CATALOG_API_KEY"},
    DATA_PLANE: {"proxy": "EDC_PROXY_API_KEY"},
}
API_KEY_VARIABLES = tuple(variable for keys in API_KEYS.values() for variable in keys.values())
POD_NAME_VARIABLE = "POD_NAME"


def reference(variable: str) -> str:
    """A Kubernetes env value that the kubelet replaces with ``variable``'s value."""
    return f"$({variable})"


# The OpenTelemetry Java agent: metrics through its Prometheus exporter on the metrics
# port; no traces or logs exported (the platform runs no collector). The experimental HTTP
# server telemetry adds http_server_active_requests (requests in flight), which the
# autoscaler uses as the playbook's queue depth.
OPENTELEMETRY_PROPERTIES = "\n".join(
    (
        "otel.javaagent.enabled=true",
        "otel.javaagent.debug=false",
        "otel.metrics.exporter=prometheus",
        "otel.exporter.prometheus.host=0.0.0.0",
        f"otel.exporter.prometheus.port={METRICS_PORT}",
        "otel.traces.exporter=none",
        "otel.logs.exporter=none",
        "otel.instrumentation.http.server.emit-experimental-telemetry=true",
    )
)

# JVM heap from the container's memory limit: 75% of it, the rest for metaspace, threads,
# direct buffers and the agent.
MAX_RAM_PERCENTAGE = 75

# The database's certificate is verified against the RDS CA bundle, which the platform's
# backup image ships: an init container copies it into the emptyDir at RDS_CA_FILE, and
# the JDBC driver reads it from there (sslrootcert; it loads every certificate of a PEM
# bundle).
RDS_CA_FILE = "/truststore/rds-ca.pem"

# The connector trusts Vault's private CA through a trust store built at start: an init
# container (the connector's own image, which has keytool) copies the JDK's cacerts and adds
# the CA from the Secret VAULT_CA_SECRET (key `ca.crt`, the CA of Vault's certificate,
# copied into the connector's namespace by the secrets component), into an emptyDir the
# JVM then uses (javax.net.ssl.trustStore). The JDK's cacerts keeps the public CAs, so
# partners, the STS and the BDRS over public TLS still verify.
VAULT_CA_SECRET = "vault-ca"
VAULT_CA_KEY = "ca.crt"
TRUSTSTORE_DIR = "/truststore"
JDK_CACERTS = "/opt/java/openjdk/lib/security/cacerts"  # the chart's own custom-CA init uses this path
USER_ID = 10001  # the chart's default user of both images


@dataclass(frozen=True)
class Resources:
    cpu_request: str
    cpu_limit: str
    memory: str  # request and limit: the JVM sizes its heap from the limit


@dataclass(frozen=True)
class ConnectorInputs:
    release: str
    namespace: str
    # Identity (DCP)
    bpn: str
    did: str
    participant_context_id: str
    trusted_issuers: Sequence[str]
    sts_url: str
    sts_token_url: str
    sts_client_id: str
    sts_client_secret_alias: str  # a Vault alias, never the secret
    bdrs_url: str
    token_signer_alias: str
    token_verifier_alias: str
    # Internet-facing hosts
    protocol_host: str
    public_host: str
    cluster_issuer: str
    ingress_class: str
    # Database (the platform's RDS)
    jdbc_url: pulumi.Input[str]
    database_user: str
    # An image with the RDS CA bundle (the backup image, by digest) and the bundle's path in it
    rds_ca_image: pulumi.Input[str]
    rds_ca_bundle: str
    # Vault
    vault_url: str
    # Secrets in the namespace that hold DATABASE_PASSWORD_VARIABLE and VAULT_TOKEN_VARIABLE
    credential_secrets: Sequence[str]
    # Scale: replicas each Deployment starts with (KEDA owns them afterwards)
    replicas: Mapping[str, int]
    resources: Mapping[str, Resources]
    # Where the stack's nodes pull the connector's images from (its pull-through cache).
    images: ImageRegistry


def deployment_name(release: str, plane: str) -> str:
    """The chart's Deployment (and Service) name of a plane, with fullnameOverride = release."""
    return f"{release}-{plane}"


def selector_labels(release: str, plane: str) -> dict[str, str]:
    """The labels the chart's Deployment selects its pods by."""
    return {
        "app.kubernetes.io/name": f"{CHART.name}-{plane}",
        "app.kubernetes.io/instance": f"{release}-{plane}",
    }


def tls_secret(release: str, plane: str) -> str:
    return f"{deployment_name(release, plane)}-tls"


def connector_values(inputs: ConnectorInputs) -> dict[str, Any]:
    """The chart's values for one connector."""
    for plane in PLANES:
        if plane not in inputs.replicas or plane not in inputs.resources:
            raise ValueError(f"connector {inputs.release}: replicas and resources are needed for {plane}")
    return {
        # The chart's bundled PostgreSQL and Vault are for tests: the platform's RDS and
        # Vault are used.
        "install": {"postgresql": False, "vault": False},
        "fullnameOverride": inputs.release,
        "participant": {
            "id": inputs.bpn,  # TRACTUSX_EDC_PARTICIPANT_BPN
            "contextId": inputs.participant_context_id,  # EDC_PARTICIPANT_CONTEXT_ID
        },
        "iatp": {
            "id": inputs.did,  # EDC_PARTICIPANT_ID and EDC_IAM_ISSUER_ID
            "trustedIssuers": list(inputs.trusted_issuers),  # EDC_IAM_TRUSTED-ISSUER_<n>-ISSUER_ID
            "sts": {
                # The wallet's STS URL (0.12.1 reads `iatp.sts.dim.url`).
                "dim": {"url": inputs.sts_url},
                "oauth": {
                    "token_url": inputs.sts_token_url,
                    "client": {"id": inputs.sts_client_id, "secret_alias": inputs.sts_client_secret_alias},
                },
            },
        },
        CONTROL_PLANE: {
            **_plane(inputs, CONTROL_PLANE, inputs.images.image(CONTROL_PLANE_IMAGE), CONTROL_PLANE_ENDPOINTS),
            "bdrs": {"server": {"url": inputs.bdrs_url}},  # TX_EDC_IAM_IATP_BDRS_SERVER_URL
        },
        DATA_PLANE: {
            **_plane(inputs, DATA_PLANE, inputs.images.image(DATA_PLANE_IMAGE), DATA_PLANE_ENDPOINTS),
            # The keys the data plane signs and verifies its access tokens (EDRs) with,
            # as Vault aliases.
            "token": {
                "signer": {"privatekey_alias": inputs.token_signer_alias},
                "verifier": {"publickey_alias": inputs.token_verifier_alias},
            },
        },
        "postgresql": {
            # The default datasource (EDC_DATASOURCE_DEFAULT_*) of both planes.
            "jdbcUrl": inputs.jdbc_url,
            "auth": {"username": inputs.database_user, "password": reference(DATABASE_PASSWORD_VARIABLE)},
        },
        "vault": {
            "hashicorp": {
                "url": inputs.vault_url,
                "token": reference(VAULT_TOKEN_VARIABLE),
                "healthCheck": {"enabled": True, "standbyOk": True},
                # KV version 2 at the platform's mount; the connector's aliases are paths
                # below it (EDC reads the property `content` of each).
                "paths": {"secret": f"/v1/{VAULT_KV_MOUNT}", "health": "/v1/sys/health"},
            }
        },
        "serviceAccount": {"create": True},
        # The program makes the connector's NetworkPolicies (components/network_policies.py).
        "networkPolicy": {"enabled": False},
    }


def _endpoints(plane: str, endpoints: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """The plane's endpoints with the API keys as references. The chart merges these with
    its defaults, so the catalog and proxy endpoints keep their default port and path."""
    merged = {name: dict(endpoint) for name, endpoint in endpoints.items()}
    for endpoint, variable in API_KEYS[plane].items():
        merged.setdefault(endpoint, {})["authKey"] = reference(variable)
    return merged


def _plane(
    inputs: ConnectorInputs, plane: str, image: str, endpoints: Mapping[str, Mapping[str, Any]]
) -> dict[str, Any]:
    resources = inputs.resources[plane]
    host = inputs.protocol_host if plane == CONTROL_PLANE else inputs.public_host
    return {
        "image": {"repository": image, "tag": APP_VERSION, "pullPolicy": "IfNotPresent"},
        "replicaCount": inputs.replicas[plane],
        "autoscaling": {"enabled": False},
        "endpoints": _endpoints(plane, endpoints),
        "logs": {"level": "INFO"},
        "resources": {
            "requests": {"cpu": resources.cpu_request, "memory": resources.memory},
            "limits": {"cpu": resources.cpu_limit, "memory": resources.memory},
        },
        "podSecurityContext": {
            "runAsNonRoot": True,
            "runAsUser": USER_ID,
            "runAsGroup": USER_ID,
            "fsGroup": USER_ID,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "securityContext": _container_security(),
        "opentelemetry": OPENTELEMETRY_PROPERTIES,
        "env": {
            "JAVA_TOOL_OPTIONS": (
                f"-XX:MaxRAMPercentage={MAX_RAM_PERCENTAGE}.0 "
                f"-Djavax.net.ssl.trustStore={TRUSTSTORE_DIR}/cacerts -Djavax.net.ssl.trustStoreType=PKCS12 "
                f"-Dedc.runtime.id={reference(POD_NAME_VARIABLE)}"
            ),
        },
        "envValueFrom": {POD_NAME_VARIABLE: {"fieldRef": {"fieldPath": "metadata.name"}}},
        "envSecretNames": list(inputs.credential_secrets),
        "initContainers": [_rds_ca_init(inputs), _truststore_init(image)],
        "volumes": [
            {
                "name": "vault-ca",
                "secret": {"secretName": VAULT_CA_SECRET, "items": [{"key": VAULT_CA_KEY, "path": "ca.crt"}]},
            },
            {"name": "truststore", "emptyDir": {"sizeLimit": "2Mi"}},
        ],
        "volumeMounts": [{"name": "truststore", "mountPath": TRUSTSTORE_DIR, "readOnly": True}],
        # Replicas spread over the zones (the cluster's node groups span three).
        "affinity": {
            "podAntiAffinity": {
                "preferredDuringSchedulingIgnoredDuringExecution": [
                    {
                        "weight": 100,
                        "podAffinityTerm": {
                            "topologyKey": "topology.kubernetes.io/zone",
                            "labelSelector": {"matchLabels": selector_labels(inputs.release, plane)},
                        },
                    }
                ]
            }
        },
        "ingresses": [
            {
                "enabled": True,
                "hostname": host,
                "endpoints": [PUBLIC_ENDPOINT[plane]],
                "className": inputs.ingress_class,
                "annotations": {},
                "tls": {"enabled": True, "secretName": tls_secret(inputs.release, plane)},
                "certManager": {"clusterIssuer": inputs.cluster_issuer},
            }
        ],
    }


# The Job that pulls the connector's images on a pilot-light dr stack (image_warmup_spec).
IMAGE_WARMUP_JOB = "edc-image-warmup"
IMAGE_WARMUP_LABELS: Mapping[str, str] = {"app.kubernetes.io/name": IMAGE_WARMUP_JOB}
IMAGE_WARMUP_DEADLINE_SECONDS = 900


def image_warmup_spec(images: ImageRegistry) -> dict[str, Any]:
    """A Job that pulls both planes' images through the stack's cache and exits. A
    pilot-light dr stack runs no connector pod, so its images would otherwise be imported
    from Docker Hub only when the activation starts the connector. Each container runs the
    image's shell (the one the truststore init container uses) to do nothing, as locked
    down as the connector's own containers; the pod needs no network and no API access."""
    planes = ((CONTROL_PLANE, CONTROL_PLANE_IMAGE), (DATA_PLANE, DATA_PLANE_IMAGE))
    return {
        "backoffLimit": 3,
        "activeDeadlineSeconds": IMAGE_WARMUP_DEADLINE_SECONDS,
        "template": {
            "metadata": {"labels": dict(IMAGE_WARMUP_LABELS)},
            "spec": {
                "restartPolicy": "Never",
                "automountServiceAccountToken": False,
                "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
                "containers": [
                    {
                        "name": plane,
                        "image": f"{images.image(image)}:{APP_VERSION}",
                        "command": ["/bin/sh", "-c", "true"],
                        "securityContext": _container_security(),
                        "resources": {
                            "requests": {"cpu": "10m", "memory": "16Mi"},
                            "limits": {"cpu": "100m", "memory": "64Mi"},
                        },
                    }
                    for plane, image in planes
                ],
            },
        },
    }


def _container_security() -> dict[str, Any]:
    return {
        "runAsNonRoot": True,
        "runAsUser": USER_ID,
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"], "add": []},
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def _rds_ca_init(inputs: ConnectorInputs) -> dict[str, Any]:
    """Copies the RDS CA bundle for the JDBC driver's verify-full."""
    copy = f"import shutil; shutil.copyfile({inputs.rds_ca_bundle!r}, {RDS_CA_FILE!r})"
    return {
        "name": "rds-ca",
        "image": inputs.rds_ca_image,
        "command": ["python3", "-c", copy],
        "securityContext": _container_security(),
        "resources": {"requests": {"cpu": "10m", "memory": "32Mi"}, "limits": {"cpu": "100m", "memory": "64Mi"}},
        "volumeMounts": [{"name": "truststore", "mountPath": TRUSTSTORE_DIR}],
    }


def _truststore_init(image: str) -> dict[str, Any]:
    """Builds the JVM's trust store: the JDK's public CAs plus Vault's CA."""
    store = f"{TRUSTSTORE_DIR}/cacerts"
    # `changeit` is the JDK's published default password of cacerts: it guards no secret
    # (a trust store holds public certificates), keytool only needs it to write the copy.
    script = (
        f"cp {JDK_CACERTS} {store} && "
        f"keytool -importcert -noprompt -alias vault-ca -file /vault-ca/ca.crt -keystore {store} -storepass changeit"
    )
    return {
        "name": "vault-ca-truststore",
        "image": f"{image}:{APP_VERSION}",
        "command": ["/bin/sh", "-c", script],
        "securityContext": _container_security(),
        "resources": {"requests": {"cpu": "50m", "memory": "128Mi"}, "limits": {"cpu": "500m", "memory": "256Mi"}},
        "volumeMounts": [
            {"name": "vault-ca", "mountPath": "/vault-ca", "readOnly": True},
            {"name": "truststore", "mountPath": TRUSTSTORE_DIR},
        ],
    }
