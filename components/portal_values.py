"""The portal and centralidp charts: the one module that knows their value keys.

Pinned charts, from the Tractus-X chart repository (eclipse-tractusx.github.io/charts/dev,
the repository the charts' own READMEs install from):

- ``portal`` 2.5.0 (eclipse-tractusx/portal, charts/portal): frontends (portal,
  registration, assets) and the backend services, with the portal database external.
- ``centralidp`` 4.2.1 (eclipse-tractusx/portal-iam, charts/centralidp): Keycloak 25.0.6
  (the chart wraps Bitnami's keycloak chart 23.0.0 under the ``keycloak`` key, image
  ``docker.io/bitnamilegacy/keycloak:25.0.6-debian-12-r0``) and the CX-Central realm
  seeding Job. The Bitnami chart is upstream's choice and the only packaging of the
  central IdP: it runs its container through Bitnami's scripts (/opt/bitnami, the
  ``KEYCLOAK_*`` variables of its env-vars ConfigMap), which the official Keycloak image
  does not have, so no maintained image can take its place (components/charts.py,
  BITNAMI_IMAGES). The CX-Central realm and theme come from ``tractusx/portal-iam``.

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
``replicaCount``; centralidp's ``keycloak.{image,auth,production,replicaCount,ingress,
postgresql.enabled,externalDatabase}`` and ``realmSeeding.enabled``; under ``keycloak`` the
Bitnami chart's parameters table (bitnami/charts keycloak README): ``auth.passwordSecretKey``,
``proxyHeaders``, ``extraEnvVars``, ``initContainers``, ``extraVolumes``,
``extraVolumeMounts``, ``resources``, ``ingress.{pathType,tls}``, ``networkPolicy.enabled``
(the chart's own policy, on by default, allows any source and any egress: the platform's
NetworkPolicies govern instead) and ``externalDatabase.existingSecretPasswordKey``.
The Bitnami defaults already run Keycloak as a non-root user with a read-only root
filesystem, no privilege escalation, all capabilities dropped and RuntimeDefault seccomp,
with a PodDisruptionBudget.

Pod Security. The portal chart renders every container's securityContext itself
(runAsNonRoot, no privilege escalation, all capabilities dropped, read-only root) with no
seccompProfile and no pod securityContext, and no value adds either (every
deployment-*, job-* and cronjob-*.yaml template), so ``restricted`` refuses all its pods:
the portal runs in its own namespace at ``baseline`` (PORTAL_NAMESPACE,
components/namespaces.py). Keycloak meets ``restricted`` and stays in ``tractus-x``
(CENTRALIDP_NAMESPACE); the chart's realm seeding Job does not (its containers'
securityContexts are fixed as well, job-seeding.yaml), which is one reason the program runs
the seeding itself (below).

Realm seeding. centralidp 4.2.1's seeding Job (job-seeding.yaml) cannot run here as it is:
its ``wait-for-keycloak`` init container is ``alpine/curl:latest``, written into the
template with no value to change it; no seccompProfile can be set; it reads the admin
password from a Secret named after the Keycloak fullname (``centralidp-keycloak``, key
``admin-password``), which nothing creates once ``keycloak.auth.existingSecret`` is set;
and its name carries ``.Release.Revision``, which is always 1 under Argo CD (``helm
template``), so any change of its pod template would make every later sync fail on the
Job's immutable template. ``realmSeeding.enabled: false`` turns it (and the chart's
client Secrets) off, and the program runs the same seeding as its own Job
(``realm_seeding_job``: the chart's seeding image and realm files, the environment of
job-seeding.yaml entry for entry) with pinned images, under ``restricted``, reading the
platform's Secrets, and replaced whenever its spec changes.

Secrets. Both charts render their own Secrets and fill every value they are not given
with ``randAlphaNum`` at each render (their ``lookup`` of the existing Secret finds
nothing under Argo CD, which renders with ``helm template``), so every Argo CD sync
would write new random values over the ones External Secrets keeps there. No secret value
may be put in the values instead. centralidp renders none: ``keycloak.auth.existingSecret``
and ``keycloak.externalDatabase.existingSecret`` switch off the Bitnami chart's admin and
database Secrets (its secrets.yaml and secret-external-db.yaml), and the realm seeding is
off, so External Secrets owns all four centralidp Secrets (creationPolicy Owner). The
portal chart renders its keycloak, mailing and interfaces Secrets unconditionally and the
external database one whenever ``postgresql.enabled`` is false (secret-backend-*.yaml),
each under the very name its workloads read, with no switch: External Secrets merges
the Vault values into them (``SyncedSecret.chart_renders``) and Argo CD must leave their
data alone, ``/data`` and the ``/stringData`` the chart renders alike (components/gitops.py).

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
component creates (``REGISTRATION_PATH``). The backend's paths are plain prefixes already;
the chart's default routes ``/api/provisioning`` to a ``provisioning-service`` that no
template of portal 2.5.0 renders, so the values route only to the five backend Services
the chart has (BACKEND_ROUTES).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from components import charts
from components.registry import ImageRegistry

PORTAL_CHART = charts.PORTAL
CENTRALIDP_CHART = charts.CENTRALIDP

# The portal runs at `baseline` in its own namespace, the identity provider beside the
# other Tractus-X applications at `restricted` (module docstring, "Pod Security").
PORTAL_NAMESPACE = "portal"
CENTRALIDP_NAMESPACE = "tractus-x"
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
# The backend Ingress's paths and the Services they reach (`<fullname>-<service>`): one per
# backend Service template of portal 2.5.0 (service-backend-*.yaml).
BACKEND_ROUTES: tuple[tuple[str, str], ...] = (
    ("/api/registration", "registration-service"),
    ("/api/administration", "administration-service"),
    ("/api/notification", "notification-service"),
    ("/api/apps", "marketplace-app-service"),
    ("/api/services", "services-service"),
)
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
# centralidp 4.2.1's keycloak.image (Keycloak 25.0.6 of Bitnami's packaging), set
# explicitly so that the image that runs is named here.
KEYCLOAK_IMAGE: Mapping[str, str] = {
    "registry": "docker.io",
    "repository": "bitnamilegacy/keycloak",
    "tag": "25.0.6-debian-12-r0",
}
# The portal chart's images (portal 2.5.0's `<frontend|backend>.<component>.image.name`),
# named here so that the stack's cache serves them; the tags stay the chart's.
PORTAL_IMAGES: Mapping[tuple[str, str], str] = {
    ("frontend", "portal"): "docker.io/tractusx/portal-frontend",
    ("frontend", "registration"): "docker.io/tractusx/portal-frontend-registration",
    ("frontend", "assets"): "docker.io/tractusx/portal-assets",
    ("backend", "registration"): "docker.io/tractusx/portal-registration-service",
    ("backend", "administration"): "docker.io/tractusx/portal-administration-service",
    ("backend", "appmarketplace"): "docker.io/tractusx/portal-marketplace-app-service",
    ("backend", "portalmigrations"): "docker.io/tractusx/portal-portal-migrations",
    ("backend", "portalmaintenance"): "docker.io/tractusx/portal-maintenance-service",
    ("backend", "notification"): "docker.io/tractusx/portal-notification-service",
    ("backend", "services"): "docker.io/tractusx/portal-services-service",
    ("backend", "provisioningmigrations"): "docker.io/tractusx/portal-provisioning-migrations",
    ("backend", "processesworker"): "docker.io/tractusx/portal-processes-worker",
}
KEYCLOAK_PORT = 8080  # Bitnami keycloak containerPorts.http
# Keycloak's Service (common.names.fullname: `<release>-keycloak`, service.ports.http)
# and path (centralidp's httpRelativePath, kept from Keycloak 16).
KEYCLOAK_ADDRESS = f"http://{CENTRALIDP_RELEASE}-keycloak.{CENTRALIDP_NAMESPACE}:80"
KEYCLOAK_PATH = "/auth"
CENTRALIDP_ADMIN_USER = "admin"
# The CX-Central theme and realm files (tractusx/portal-iam, the image centralidp 4.2.1's
# keycloak.initContainers and realmSeeding.initContainer use), copied by init containers
# into emptyDirs: the theme into Keycloak's themes directory, the realm for the seeding.
PORTAL_IAM_IMAGE = "docker.io/tractusx/portal-iam:v4.2.0"
THEMES_VOLUME = "themes"
THEMES_DIR = "/opt/bitnami/keycloak/themes/catenax-central"
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
CENTRALIDP_ADMIN_KEY = "admin-password"
CENTRALIDP_DATABASE_SECRET = "centralidp-database"
CENTRALIDP_CLIENTS_SECRET = "centralidp-clients"
CENTRALIDP_SERVICE_ACCOUNTS_SECRET = "centralidp-service-accounts"

# The realm seeding (module docstring, "Realm seeding"): centralidp 4.2.1's
# realmSeeding.image with the realm files of PORTAL_IAM_IMAGE.
REALM_SEEDING_JOB = "centralidp-realm-seeding"
REALM_SEEDING_IMAGE = "docker.io/tractusx/portal-iam-seeding:v4.2.0-iam"
REALM_SEEDING_LABELS: Mapping[str, str] = {
    "app.kubernetes.io/name": "realm-seeding",
    "app.kubernetes.io/instance": CENTRALIDP_RELEASE,
}
REALM = "CX-Central"
REALM_VOLUME = "realms"
REALM_DIR = "/app/realms"  # the seeding image's working directory is /app
# Keycloak starts within minutes; a seeding still waiting after this fails, and so does
# `pulumi up` (the program waits for the Job).
REALM_SEEDING_DEADLINE_SECONDS = 1800
# CX-Central's clients in the order (and so the index) job-seeding.yaml gives them: the
# client id and the key of its secret in CENTRALIDP_CLIENTS_SECRET (None: public client).
REALM_CLIENTS: tuple[tuple[str, str | None], ...] = (
    ("Cl1-CX-Registration", None),
    ("Cl2-CX-Portal", None),
    ("Cl3-CX-Semantic", None),
    ("Cl5-CX-Custodian", "miw"),
    ("Cl7-CX-BPDM", "bpdm"),
    ("Cl16-CX-BPDMGate", "bpdm-gate"),
    ("Cl25-CX-BPDM-Orchestrator", "bpdm-orchestrator"),
)
# job-seeding.yaml numbers the base service accounts' clients from 20, their users from 1
# (user 0 is the realm's initial user, whose BPN attribute it sets too).
REALM_SERVICE_ACCOUNT_FIRST_CLIENT = 20
REALM_INITIAL_USER = "ac1cf001-7fbc-1f2f-817f-bce058020006"
SHARED_IDP_ALIAS = "CX-Operator"

# CX-Central's confidential clients (the keys of CENTRALIDP_CLIENTS_SECRET).
CENTRALIDP_CLIENTS = tuple(key for _, key in REALM_CLIENTS if key is not None)
# CX-Central's base service accounts (centralidp 4.2.1's realmSeeding.serviceAccounts).
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


def _restricted(user: int | None = None) -> dict[str, Any]:
    """A container securityContext that Pod Security `restricted` admits. Without ``user``
    the image's own (numeric, non-root) user runs, as the charts run these images."""
    context: dict[str, Any] = {
        "runAsNonRoot": True,
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    if user is not None:
        context |= {"runAsUser": user, "runAsGroup": user}
    return context


def _copy_init(name: str, image: str, command: list[str], volume: str, directory: str) -> dict[str, Any]:
    """An init container that copies files into the emptyDir ``volume`` at ``directory``."""
    return {
        "name": name,
        "image": image,
        "command": command,
        "securityContext": _restricted(),
        "resources": _resources("10m", "32Mi", "100m"),
        "volumeMounts": [{"name": volume, "mountPath": directory}],
    }


def _rds_ca_init(ca: CaBundle) -> dict[str, Any]:
    """Copies the RDS CA bundle into the emptyDir Keycloak reads it from, as the
    Bitnami image's user and as locked down as the chart's own containers."""
    copy = f"import shutil; shutil.copyfile({ca.path!r}, {RDS_CA_FILE!r})"
    init = _copy_init("rds-ca", ca.image, ["python3", "-c", copy], RDS_CA_VOLUME, RDS_CA_DIR)
    init["securityContext"] = _restricted(KEYCLOAK_USER_ID)
    return init


def _themes_init(images: ImageRegistry) -> dict[str, Any]:
    """centralidp 4.2.1's own `import` init container (keycloak.initContainers, with the
    `themes` volume and mount): the values' initContainers, extraVolumes and
    extraVolumeMounts replace the chart's lists, so the CX-Central theme is copied here."""
    copy = "cp -R /import/themes/catenax-central/* /themes"
    return _copy_init("themes", images.image(PORTAL_IAM_IMAGE), ["sh", "-c", copy], THEMES_VOLUME, "/themes")


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
    images: ImageRegistry,
) -> dict[str, Any]:
    """The portal chart's values: addresses, ingress, external database, Secret names,
    images from the stack's cache."""
    https = {name: f"https://{host}" for name, host in vars(hosts).items()}
    cors = {
        "nginx.ingress.kubernetes.io/enable-cors": "true",
        "nginx.ingress.kubernetes.io/cors-allow-origin": https["portal"],
    }
    values: dict[str, Any] = {
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
                        "paths": _paths(*BACKEND_ROUTES),
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
    for (section, component), image in PORTAL_IMAGES.items():
        values[section].setdefault(component, {})["image"] = {"name": images.image(image)}
    return values


def centralidp_values(
    hosts: Hosts, database: Database, ca: CaBundle, *, replicas: int, images: ImageRegistry
) -> dict[str, Any]:
    """The centralidp chart's values: Keycloak on RDS behind the ingress, every Secret
    named, the chart's realm seeding off (``realm_seeding_job`` seeds the realm)."""
    return {
        "keycloak": {
            "image": {**KEYCLOAK_IMAGE, "registry": images.registry(KEYCLOAK_IMAGE["registry"])},
            "auth": {
                "adminUser": CENTRALIDP_ADMIN_USER,
                "existingSecret": CENTRALIDP_ADMIN_SECRET,
                "passwordSecretKey": CENTRALIDP_ADMIN_KEY,
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
            # which an init container copies into the emptyDir at RDS_CA_FILE. The
            # CX-Central theme is copied by the chart's own init container (_themes_init).
            "extraEnvVars": [{"name": "KEYCLOAK_JDBC_PARAMS", "value": KEYCLOAK_JDBC_PARAMS}],
            "initContainers": [_themes_init(images), _rds_ca_init(ca)],
            "extraVolumes": [
                {"name": THEMES_VOLUME, "emptyDir": {"sizeLimit": "64Mi"}},
                {"name": RDS_CA_VOLUME, "emptyDir": {"sizeLimit": "2Mi"}},
            ],
            "extraVolumeMounts": [
                {"name": THEMES_VOLUME, "mountPath": THEMES_DIR, "readOnly": True},
                {"name": RDS_CA_VOLUME, "mountPath": RDS_CA_DIR, "readOnly": True},
            ],
            "networkPolicy": {"enabled": False},
        },
        # The program seeds the realm (module docstring, "Realm seeding"); off, the chart
        # renders neither its Job nor its client Secrets.
        "realmSeeding": {"enabled": False},
    }


def _env(name: str, value: str) -> dict[str, Any]:
    return {"name": name, "value": value}


def _secret_env(name: str, secret: str, key: str) -> dict[str, Any]:
    return {"name": name, "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}}


def _everything_under(address: str) -> str:
    return f"{address.rstrip('/')}/*"


def realm_seeding_env(hosts: Hosts, *, services: Mapping[str, str], operator_bpn: str) -> list[dict[str, Any]]:
    """The seeding's configuration, entry for entry as centralidp 4.2.1's job-seeding.yaml
    renders it (clients, base service accounts, BPN attributes, the shared IdP), with
    the platform's hosts, services and Secrets where the chart takes values."""
    portal = f"https://{hosts.portal}"
    # Where each client may send a browser back to: the portal's clients to the portal,
    # the data space's services' clients to the service (the chart's defaults are
    # example.org placeholders).
    redirects = {
        "Cl1-CX-Registration": f"{portal}/*",
        "Cl2-CX-Portal": f"{portal}/*",
        "Cl3-CX-Semantic": f"{portal}/*",
        "Cl5-CX-Custodian": _everything_under(services["custodian"]),
        "Cl7-CX-BPDM": _everything_under(services["bpdmPool"]),
        "Cl16-CX-BPDMGate": _everything_under(services["bpdmPortalGate"]),
    }
    realm = "KEYCLOAKSEEDING__REALMS__0"
    env = [
        _env("KEYCLOAK__CENTRAL__CONNECTIONSTRING", KEYCLOAK_ADDRESS),
        _env("KEYCLOAK__CENTRAL__USER", CENTRALIDP_ADMIN_USER),
        _secret_env("KEYCLOAK__CENTRAL__PASSWORD", CENTRALIDP_ADMIN_SECRET, CENTRALIDP_ADMIN_KEY),
        _env("KEYCLOAK__CENTRAL__AUTHREALM", "master"),
        _env("KEYCLOAK__CENTRAL__USEAUTHTRAIL", "true"),
        _env(f"{realm}__DATAPATHS__0", f"realms/{REALM}-realm.json"),
        _env(f"{realm}__CREATE", "true"),
        _env(f"{realm}__UPDATE", "true"),
        _env(f"{realm}__DELETE", "true"),
        _env(f"{realm}__INSTANCENAME", "central"),
        _env(f"{realm}__REALM", REALM),
        _env(f"{realm}__SSLREQUIRED", "external"),
        _env(f"{realm}__DATAPATHS__1", f"realms/{REALM}-users-0.json"),
    ]
    for index, (client, key) in enumerate(REALM_CLIENTS):
        prefix = f"{realm}__CLIENTS__{index}"
        env.append(_env(f"{prefix}__CLIENTID", client))
        if client == "Cl2-CX-Portal":
            env.append(_env(f"{prefix}__ROOTURL", f"{portal}/home"))
        if client in redirects:
            env.append(_env(f"{prefix}__REDIRECTURIS__0", redirects[client]))
        if key is not None:
            env.append(_secret_env(f"{prefix}__SECRET", CENTRALIDP_CLIENTS_SECRET, key))
    for offset, account in enumerate(CENTRALIDP_SERVICE_ACCOUNTS):
        prefix = f"{realm}__CLIENTS__{REALM_SERVICE_ACCOUNT_FIRST_CLIENT + offset}"
        env.append(_env(f"{prefix}__CLIENTID", account))
        env.append(_secret_env(f"{prefix}__SECRET", CENTRALIDP_SERVICE_ACCOUNTS_SECRET, account))
    users = (REALM_INITIAL_USER, *(f"service-account-{account}" for account in CENTRALIDP_SERVICE_ACCOUNTS))
    for index, user in enumerate(users):
        prefix = f"{realm}__USERS__{index}"
        env.append(_env(f"{prefix}__USERNAME", user))
        env.append(_env(f"{prefix}__ATTRIBUTES__0__NAME", "bpn"))
        env.append(_env(f"{prefix}__ATTRIBUTES__0__VALUES__0", operator_bpn))
    prefix = f"{realm}__IDENTITYPROVIDERS__0"
    openid = f"{services['sharedidp'].rstrip('/')}/auth/realms/{SHARED_IDP_ALIAS}/protocol/openid-connect"
    env.append(_env(f"{prefix}__ALIAS", SHARED_IDP_ALIAS))
    for setting, endpoint in (
        ("TOKENURL", "token"),
        ("JWKSURL", "certs"),
        ("AUTHORIZATIONURL", "auth"),
        ("LOGOUTURL", "logout"),
    ):
        env.append(_env(f"{prefix}__CONFIG__{setting}", f"{openid}/{endpoint}"))
    return env


def _wait_for_keycloak(image: str) -> dict[str, Any]:
    """Polls Keycloak's master realm through its Service until it answers 200 (the
    chart's `until curl ...` loop, with the platform's python3 image for curl)."""
    url = f"{KEYCLOAK_ADDRESS}{KEYCLOAK_PATH}/realms/master/.well-known/openid-configuration"
    script = (
        "import time, urllib.request\n"
        "while True:\n"
        "    try:\n"
        f"        urllib.request.urlopen({url!r}, timeout=5).close()\n"
        "        break\n"
        "    except OSError as error:\n"
        "        print('waiting for Keycloak:', error, flush=True)\n"
        "        time.sleep(5)\n"
    )
    return {
        "name": "wait-for-keycloak",
        "image": image,
        "command": ["python3", "-c", script],
        "securityContext": _restricted(),
        "resources": _resources("10m", "64Mi", "100m"),
    }


def realm_seeding_job(
    hosts: Hosts, *, services: Mapping[str, str], operator_bpn: str, wait_image: str, images: ImageRegistry
) -> dict[str, Any]:
    """The spec of the Job that creates and updates the CX-Central realm: the realm files
    copied from PORTAL_IAM_IMAGE, Keycloak awaited (``wait_image`` has python3), then the
    seeding image with ``realm_seeding_env``."""
    copy = f"cp -R /import/catenax-central/realms/* {REALM_DIR}"
    seeding = {
        "name": "realm-seeding",
        "image": images.image(REALM_SEEDING_IMAGE),
        "env": realm_seeding_env(hosts, services=services, operator_bpn=operator_bpn),
        "securityContext": _restricted(),
        # centralidp 4.2.1's realmSeeding.resources.
        "resources": {
            "requests": {"cpu": "250m", "memory": "850M", "ephemeral-storage": "50Mi"},
            "limits": {"cpu": "750m", "memory": "850M", "ephemeral-storage": "1024Mi"},
        },
        "volumeMounts": [{"name": REALM_VOLUME, "mountPath": REALM_DIR, "readOnly": True}],
    }
    return {
        # Keycloak may answer before its admin API does: a failed seeding is retried.
        "backoffLimit": 6,
        "activeDeadlineSeconds": REALM_SEEDING_DEADLINE_SECONDS,
        "template": {
            "metadata": {"labels": dict(REALM_SEEDING_LABELS)},
            "spec": {
                "restartPolicy": "Never",
                "automountServiceAccountToken": False,
                "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
                "initContainers": [
                    _copy_init("realms", images.image(PORTAL_IAM_IMAGE), ["sh", "-c", copy], REALM_VOLUME, REALM_DIR),
                    _wait_for_keycloak(wait_image),
                ],
                "containers": [seeding],
                "volumes": [{"name": REALM_VOLUME, "emptyDir": {"sizeLimit": "64Mi"}}],
            },
        },
    }
