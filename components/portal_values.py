"""The portal and centralidp charts: the one module that knows their value keys.

Pinned charts, from the Tractus-X chart repository (eclipse-tractusx.github.io/charts/dev,
the repository the charts' own READMEs install from):

- ``portal`` 2.5.0 (eclipse-tractusx/portal, charts/portal): frontends (portal,
  registration, assets) and the backend services, with the portal database external.
- ``centralidp`` 4.2.1 (eclipse-tractusx/portal-iam, charts/centralidp): Keycloak (the
  chart wraps Bitnami's keycloak chart 25.2.0 under the ``keycloak`` key, image
  ``bitnamilegacy/keycloak:26.3.3``) and the CX-Central realm seeding Job. The Bitnami
  dependency is upstream's choice and the only packaging of the central IdP; 4.2.1's
  values reference the ``bitnamilegacy`` images (the catalog Bitnami moved in 2025).

Value keys were read from the charts' values.yaml and templates: the portal's
``portalAddress``, ``portalBackendAddress``, ``centralidp.address``, ``sharedidpAddress``,
``semanticsAddress``, ``bpdm.{poolAddress,portalGateAddress}``, ``custodianAddress``,
``sdfactoryAddress``, ``clearinghouse.default.{baseAddress,tokenAddress,clientId}``,
``issuerComponentAddress``, ``bpnDidResolver.{managementApiAddress,directoryApiAddress}``,
``dimWrapper.{baseAddress,tokenAddress}``, ``decentralIdentityManagementAuthAddress``,
``operator.{bpn,name}``, ``frontend.ingress`` / ``backend.ingress`` (``className``,
``annotations``, ``tls``, ``hosts[].paths[]``), ``backend.dbConnection.sslMode``,
``backend.keycloak.{secret,central.clientId,shared.clientId}``,
``backend.mailing.{secret,host,port,user,senderEmail}``, ``backend.interfaces.secret``,
``backend.processesworker.<client>.clientId``, ``postgresql.enabled``,
``externalDatabase.{host,port,database,secret,portalUser,provisioningUser}``,
``replicaCount``; centralidp's ``keycloak.{auth,production,httpRelativePath,replicaCount,
ingress,postgresql.enabled,externalDatabase}`` and ``realmSeeding.{clients,serviceAccounts,
sharedidp,bpn,sslRequired}``; under ``keycloak`` the Bitnami chart's parameters table
(bitnami/charts keycloak README): ``auth.passwordSecretKey``, ``proxyHeaders``,
``extraEnvVars``, ``initContainers``, ``extraVolumes``, ``extraVolumeMounts``,
``resources``, ``ingress.{pathType,tls}``, ``networkPolicy.enabled``
(the chart's own policy, on by default, allows any source and any egress: the platform's
NetworkPolicies govern instead) and ``externalDatabase.existingSecretPasswordKey``.
The Bitnami defaults already run Keycloak as a non-root user with a read-only root
filesystem, no privilege escalation, all capabilities dropped and RuntimeDefault seccomp,
with a PodDisruptionBudget.

Secrets. Both charts render their own Secrets and fill every value they are not given
with ``randAlphaNum`` at each render (their ``lookup`` of the existing Secret finds
nothing under Argo CD, which renders with ``helm template``), so every Argo CD sync would
rotate them. No secret value may be put in the values instead. The realm seeding's
client and service-account Secrets have an ``existingSecret`` switch that stops the
chart from rendering them: External Secrets owns those. The others (the Keycloak admin
and database Secrets, the portal's keycloak, mailing, interfaces and database Secrets)
are rendered whatever the values say and their workloads read exactly that name, so
External Secrets merges the Vault values into them (``SyncedSecret.chart_renders``).

Ingress (Traefik's Kubernetes Ingress NGINX provider, components/ingress.py). The portal
chart's frontend paths are regular expressions with ``use-regex`` and ``rewrite-target:
/$1``: ``/(.*)`` to the portal, ``/registration/(.*)`` to the registration frontend
(prefix stripped) and ``/((assets|documentation)/.*)`` to the assets (path kept). The
provider's ``use-regex`` handling was broken before Traefik v3.6.7 (traefik#12531) and its
``rewrite-target`` was reworked to match NGINX only after v3.6.9 (traefik#12730), so the
routing would depend on the exact Traefik patch release. The rewrites are identities
except for the registration frontend, so the values use plain ``Prefix`` paths without
regex or rewrite (any controller routes them the same), and the registration frontend
is served by a Traefik IngressRoute with a stripPrefix Middleware that the portal
component creates (``REGISTRATION_PATH``). The backend's paths are plain prefixes already.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from components import charts

PORTAL_CHART = charts.PORTAL
CENTRALIDP_CHART = charts.CENTRALIDP

NAMESPACE = "tractus-x"
PROJECT = "tractus-x-portal"
PORTAL_RELEASE = "portal"
CENTRALIDP_RELEASE = "centralidp"
INGRESS_CLASS = "nginx"
CLUSTER_ISSUER = "letsencrypt-prod"

# portal.fullname is the release name when it contains the chart name ("portal"), and
# every Deployment, Service and pod label is `<fullname>-<component>` (templates
# deployment-frontend-portal.yaml, service-frontend-*.yaml): the portal frontend's
# Deployment is `portal-portal`, its pods `app: portal-portal`.
PORTAL_FULLNAME = PORTAL_RELEASE
PORTAL_DEPLOYMENT = f"{PORTAL_FULLNAME}-portal"
PORTAL_POD_LABELS: Mapping[str, str] = {"app": PORTAL_DEPLOYMENT}
# Every pod of the portal chart carries its selector labels (portal.selectorLabels).
PORTAL_SELECTOR_LABELS: Mapping[str, str] = {
    "app.kubernetes.io/name": "portal",
    "app.kubernetes.io/instance": PORTAL_RELEASE,
}
REGISTRATION_SERVICE = f"{PORTAL_FULLNAME}-registration"
PORT = 8080  # portContainer and portService of every portal workload
REGISTRATION_PATH = "/registration"
# The certificate cert-manager issues for the frontend Ingress; the registration
# IngressRoute on the same host serves it too.
FRONTEND_TLS_SECRET = "portal-frontend-tls"

# Bitnami's keycloak chart labels its pods with the common labels: name (the chart's
# name, "keycloak") and instance (the release).
CENTRALIDP_POD_LABELS: Mapping[str, str] = {
    "app.kubernetes.io/name": "keycloak",
    "app.kubernetes.io/instance": CENTRALIDP_RELEASE,
}
KEYCLOAK_PORT = 8080  # Bitnami keycloak containerPorts.http
# Keycloak's embedded Infinispan cluster (JGroups) between the replicas.
KEYCLOAK_CLUSTER_PORT = 7800
CENTRALIDP_REPLICAS = 2

# Database TLS. RDS forces TLS (rds.force_ssl). Keycloak verifies the server: Bitnami's
# keycloak chart has `initContainers`, `extraVolumes` and `extraVolumeMounts` (its
# statefulset template renders them into the pod), so an init container copies the RDS
# CA bundle from the platform's backup image (components/backup_image.py) into an
# emptyDir at RDS_CA_FILE, and the Bitnami image appends KEYCLOAK_JDBC_PARAMS to its JDBC
# URL (pgjdbc reads every certificate of the PEM bundle given as sslrootcert). The portal
# cannot: its chart has no key to mount a file into the backend pods (portal_values),
# so its Npgsql connections encrypt (Require) without verifying the server.
RDS_CA_VOLUME = "rds-ca"
RDS_CA_DIR = "/rds-ca"
RDS_CA_FILE = f"{RDS_CA_DIR}/rds-ca.pem"
KEYCLOAK_JDBC_PARAMS = f"sslmode=verify-full&sslrootcert={RDS_CA_FILE}"
KEYCLOAK_USER_ID = 1001  # the Bitnami keycloak image's user (containerSecurityContext.runAsUser)
PORTAL_SSL_MODE = "Require"

# The chart's Secret names, set explicitly so the mapping to Vault is in one place.
PORTAL_KEYCLOAK_SECRET = "portal-backend-keycloak"
PORTAL_MAILING_SECRET = "portal-backend-mailing"
PORTAL_INTERFACES_SECRET = "portal-backend-interfaces"
PORTAL_DATABASE_SECRET = "portal-postgres-external-db"
CENTRALIDP_ADMIN_SECRET = "centralidp-admin"
CENTRALIDP_DATABASE_SECRET = "centralidp-database"
CENTRALIDP_CLIENTS_SECRET = "centralidp-clients"
CENTRALIDP_SERVICE_ACCOUNTS_SECRET = "centralidp-service-accounts"

# CX-Central's confidential clients (realmSeeding.clients; Secret keys are the chart's).
CENTRALIDP_CLIENTS = ("miw", "bpdm", "bpdm-gate", "bpdm-orchestrator")
# CX-Central's base service accounts (realmSeeding.serviceAccounts.clientSecrets).
CENTRALIDP_SERVICE_ACCOUNTS = (
    "sa-cl1-reg-2",
    "sa-cl2-01",
    "sa-cl2-02",
    "sa-cl2-03",
    "sa-cl2-04",
    "sa-cl2-05",
    "sa-cl2-06",
    "sa-cl3-cx-1",
    "sa-cl5-custodian-2",
    "sa-cl7-cx-1",
    "sa-cl7-cx-5",
    "sa-cl7-cx-7",
    "sa-cl8-cx-1",
    "sa-cl21-01",
    "sa-cl22-01",
    "sa-cl24-01",
    "sa-cl25-cx-1",
    "sa-cl25-cx-2",
    "sa-cl25-cx-3",
)
# The portal backend's clients in CX-Central: the Secret key of the portal chart and the
# service account it authenticates as (the wiring of tractus-x-umbrella's values). The
# same generated secret is the service account's in Keycloak and the portal's here.
PORTAL_CENTRAL_CLIENT = "sa-cl1-reg-2"
PORTAL_INTERFACE_CLIENTS: Mapping[str, tuple[str, str]] = {
    # secret key: (values key under backend.processesworker, service account)
    "bpdm-client-secret": ("bpdm", "sa-cl7-cx-5"),
    "custodian-client-secret": ("custodian", "sa-cl5-custodian-2"),
    "sdfactory-client-secret": ("sdfactory", "sa-cl8-cx-1"),
    "offerprovider-client-secret": ("offerprovider", "sa-cl2-03"),
    "issuercomponent-client-secret": ("issuerComponent", "sa-cl2-04"),
}
# The portal's symmetric keys; "Expected format is 256 bit (64 digits) hex" (values.yaml).
PORTAL_ENCRYPTION_KEYS = (
    "onboardingserviceprovider-encryption-key0",
    "onboardingserviceprovider-encryption-key1",
    "invitation-encryption-key0",
    "mailing-encryption-key0",
    "dim-encryption-key0",
    "serviceaccount-encryption-key0",
    "offerprovider-encryption-key0",
)
ENCRYPTION_KEY_BYTES = 32
# The interfaces Secret's keys for credentials of services outside the platform.
PORTAL_EXTERNAL_CREDENTIALS = (
    "dim-client-secret",
    "clearinghouse-client-secret-default",
    "bpndidresolver-api-key",
)


@dataclass(frozen=True)
class Hosts:
    portal: str
    backend: str
    centralidp: str

    @classmethod
    def under(cls, domain: str) -> Hosts:
        """The portal at the platform's domain itself (the name the failover records and
        the platform certificate cover), its API and the central IdP beside it."""
        return cls(portal=domain, backend=f"portal-backend.{domain}", centralidp=f"centralidp.{domain}")


@dataclass(frozen=True)
class Database:
    """Where a chart's database is: the platform's RDS instance."""

    host: str
    port: int
    name: str
    user: str


@dataclass(frozen=True)
class CaBundle:
    """An image that ships the RDS CA bundle, and the bundle's path in it."""

    image: str
    path: str


@dataclass(frozen=True)
class Mail:
    host: str
    port: str
    user: str
    sender: str


def _rds_ca_init(ca: CaBundle) -> dict[str, Any]:
    """Copies the RDS CA bundle into the emptyDir Keycloak reads it from, as the
    Bitnami image's user and as locked down as the chart's own containers."""
    copy = f"import shutil; shutil.copyfile({ca.path!r}, {RDS_CA_FILE!r})"
    return {
        "name": "rds-ca",
        "image": ca.image,
        "command": ["python3", "-c", copy],
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": KEYCLOAK_USER_ID,
            "runAsGroup": KEYCLOAK_USER_ID,
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "resources": _resources("10m", "32Mi", "100m"),
        "volumeMounts": [{"name": RDS_CA_VOLUME, "mountPath": RDS_CA_DIR}],
    }


def _tls_annotations(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    return {"cert-manager.io/cluster-issuer": CLUSTER_ISSUER, **(extra or {})}


def _paths(*routes: tuple[str, str]) -> list[dict[str, Any]]:
    return [
        {"path": path, "pathType": "Prefix", "backend": {"service": service, "port": PORT}} for path, service in routes
    ]


def _resources(cpu: str, memory: str, cpu_limit: str) -> dict[str, Any]:
    return {"requests": {"cpu": cpu, "memory": memory}, "limits": {"cpu": cpu_limit, "memory": memory}}


def portal_values(
    hosts: Hosts,
    database: Database,
    mail: Mail,
    *,
    services: Mapping[str, str],
    operator_bpn: str,
    operator_name: str,
    replicas: int,
) -> dict[str, Any]:
    """The portal chart's values: addresses, ingress, external database, Secret names."""
    https = {name: f"https://{host}" for name, host in vars(hosts).items()}
    cors = {
        "nginx.ingress.kubernetes.io/enable-cors": "true",
        "nginx.ingress.kubernetes.io/cors-allow-origin": https["portal"],
    }
    return {
        "portalAddress": https["portal"],
        "portalBackendAddress": https["backend"],
        "centralidp": {"address": https["centralidp"]},
        "sharedidpAddress": services["sharedidp"],
        "semanticsAddress": services["semantics"],
        "bpdm": {"poolAddress": services["bpdmPool"], "portalGateAddress": services["bpdmPortalGate"]},
        "custodianAddress": services["custodian"],
        "sdfactoryAddress": services["sdfactory"],
        "clearinghouse": {
            "default": {"baseAddress": services["clearinghouse"], "tokenAddress": services["clearinghouseToken"]}
        },
        "issuerComponentAddress": services["issuerComponent"],
        "bpnDidResolver": {
            "managementApiAddress": services["bpnDidResolverManagement"],
            "directoryApiAddress": services["bpnDidResolverDirectory"],
        },
        "dimWrapper": {"baseAddress": services["dim"], "tokenAddress": services["dimToken"]},
        "decentralIdentityManagementAuthAddress": services["dimAuth"],
        "operator": {"bpn": operator_bpn, "name": operator_name},
        "frontend": {
            "ingress": {
                "enabled": True,
                "className": INGRESS_CLASS,
                "annotations": _tls_annotations(cors),
                "tls": [{"secretName": FRONTEND_TLS_SECRET, "hosts": [hosts.portal]}],
                "hosts": [
                    {
                        "host": hosts.portal,
                        # Plain prefixes (module docstring); /registration is the
                        # IngressRoute's, the longer rule wins over "/".
                        "paths": _paths(("/", "portal"), ("/assets", "assets"), ("/documentation", "assets")),
                    }
                ],
            },
            "portal": {"resources": _resources("50m", "128M", "200m")},
            "registration": {"resources": _resources("25m", "100M", "100m")},
            "assets": {"resources": _resources("25m", "100M", "100m")},
        },
        "backend": {
            "ingress": {
                "enabled": True,
                "className": INGRESS_CLASS,
                "annotations": _tls_annotations({**cors, "nginx.ingress.kubernetes.io/proxy-body-size": "8m"}),
                "tls": [{"secretName": "portal-backend-tls", "hosts": [hosts.backend]}],
                "hosts": [
                    {
                        "host": hosts.backend,
                        "paths": _paths(
                            ("/api/registration", "registration-service"),
                            ("/api/administration", "administration-service"),
                            ("/api/notification", "notification-service"),
                            ("/api/provisioning", "provisioning-service"),
                            ("/api/apps", "marketplace-app-service"),
                            ("/api/services", "services-service"),
                        ),
                    }
                ],
            },
            # RDS refuses unencrypted connections (rds.force_ssl); Npgsql's Require
            # encrypts but does not verify the server. VerifyFull needs the RDS CA in
            # the pods (`Root Certificate=<file>`), and the chart has no key to put a
            # file there: every backend Deployment, Job and CronJob template renders a
            # fixed pod spec (its one volume the `tmp` emptyDir at /mnt/tmp, no
            # initContainers, extraVolumes or extra env), and the images carry no RDS CA.
            # So the portal stays at Require (PORTAL_SSL_MODE).
            "dbConnection": {"sslMode": PORTAL_SSL_MODE},
            "keycloak": {
                "secret": PORTAL_KEYCLOAK_SECRET,
                "central": {"clientId": PORTAL_CENTRAL_CLIENT},
            },
            "mailing": {
                "secret": PORTAL_MAILING_SECRET,
                "host": mail.host,
                "port": mail.port,
                "user": mail.user,
                "senderEmail": mail.sender,
            },
            "provisioning": {
                "sharedRealm": {
                    "smtpServer": {
                        "host": mail.host,
                        "port": mail.port,
                        "user": mail.user,
                        "from": mail.sender,
                        "replyTo": mail.sender,
                    }
                }
            },
            "interfaces": {"secret": PORTAL_INTERFACES_SECRET},
            "processesworker": {key: {"clientId": account} for key, account in PORTAL_INTERFACE_CLIENTS.values()},
        },
        "postgresql": {"enabled": False},
        "externalDatabase": {
            "host": database.host,
            "port": database.port,
            "database": database.name,
            "secret": PORTAL_DATABASE_SECRET,
            # One owner role per database (components/database.py), for both schemas.
            "portalUser": database.user,
            "provisioningUser": database.user,
        },
        "replicaCount": replicas,
    }


def centralidp_values(
    hosts: Hosts, database: Database, ca: CaBundle, *, sharedidp: str, operator_bpn: str, replicas: int
) -> dict[str, Any]:
    """The centralidp chart's values: Keycloak on RDS behind the ingress, the realm seeded
    for the portal's hosts, every Secret named."""
    portal = f"https://{hosts.portal}"
    return {
        "keycloak": {
            "auth": {
                "adminUser": "admin",
                "existingSecret": CENTRALIDP_ADMIN_SECRET,
                "passwordSecretKey": "admin-password",
            },
            # Production mode behind the TLS-terminating ingress controller, which sets
            # the X-Forwarded-* headers Keycloak then trusts.
            "production": True,
            "proxyHeaders": "xforwarded",
            "replicaCount": replicas,
            "resources": _resources("500m", "1536Mi", "2"),
            "ingress": {
                "enabled": True,
                "ingressClassName": INGRESS_CLASS,
                "hostname": hosts.centralidp,
                "pathType": "Prefix",
                "annotations": _tls_annotations(),
                # The chart's TLS Secret is `<hostname>-tls`; cert-manager fills it.
                "tls": True,
            },
            "postgresql": {"enabled": False},
            "externalDatabase": {
                "host": database.host,
                "port": database.port,
                "user": database.user,
                "database": database.name,
                "existingSecret": CENTRALIDP_DATABASE_SECRET,
                "existingSecretPasswordKey": "password",
            },
            # RDS refuses unencrypted connections (rds.force_ssl); the JDBC driver
            # verifies the server's certificate and name against the RDS CA bundle,
            # which an init container copies into the emptyDir at RDS_CA_FILE.
            "extraEnvVars": [{"name": "KEYCLOAK_JDBC_PARAMS", "value": KEYCLOAK_JDBC_PARAMS}],
            "initContainers": [_rds_ca_init(ca)],
            "extraVolumes": [{"name": RDS_CA_VOLUME, "emptyDir": {"sizeLimit": "2Mi"}}],
            "extraVolumeMounts": [{"name": RDS_CA_VOLUME, "mountPath": RDS_CA_DIR, "readOnly": True}],
            "networkPolicy": {"enabled": False},
        },
        "realmSeeding": {
            "enabled": True,
            "sslRequired": "external",
            "bpn": operator_bpn,
            "sharedidp": sharedidp,
            "clients": {
                "registration": {"redirects": [f"{portal}/*"]},
                "portal": {"rootUrl": f"{portal}/home", "redirects": [f"{portal}/*"]},
                "semantics": {"redirects": [f"{portal}/*"]},
                "existingSecret": CENTRALIDP_CLIENTS_SECRET,
            },
            "serviceAccounts": {"existingSecret": CENTRALIDP_SERVICE_ACCOUNTS_SECRET},
        },
    }
