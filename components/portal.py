"""The Tractus-X portal and its central identity provider (optional, ``portal.enabled``).

Two Argo CD Applications (project ``tractus-x-portal``), both on the platform's RDS
instance: centralidp (Keycloak, sync wave 0, the identity provider first) in
``tractus-x`` under Pod Security ``restricted``, and the portal (sync wave 2, after the
connector) in its own namespace ``portal`` at ``baseline``, as its chart cannot set a
seccomp profile (components/portal_values.py, "Pod Security"). The CX-Central realm is
seeded by the program's own Job beside Keycloak, in place of the chart's
(components/portal_values.py, "Realm seeding"). Every secret is explicit: the program
generates what the platform owns (Keycloak admin, client and service-account secrets, the
portal's encryption keys) and takes the database owners' passwords from the database
component and the credentials of outside services from encrypted config; all reach Vault
as seeds and the workloads as Secrets External Secrets makes (components/portal_values.py
explains the ones the portal chart renders too).

The registration frontend is routed by a Traefik IngressRoute with a stripPrefix
Middleware (components/portal_values.py, "Ingress").

Disaster recovery: the generated values are the primary's (its ``portalGeneratedSecrets``
export): the dr stack's Vault is restored from the primary's snapshots and its database
is the primary's, so a value generated anew would no longer match the realm or decrypt
the portal's data. At pilot light the database is a read-only replica: Keycloak and the
portal write on start (sessions, migrations, the realm seeding Job), so neither
Application runs there until ``dr.active``; activation adds them with the rest.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import cast

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from components import certificates
from components import portal_values as pv
from components.applications import ChildApplication, SyncedSecret, VaultSeed
from components.database import CENTRALIDP_DATABASE, PORTAL_DATABASE, DatabaseSpec
from components.ingress import TRAEFIK_PODS
from components.jobs import REPLACE_UNREADY, wait_timeouts
from components.namespaces import Namespaces
from components.passwords import generated_password
from components.registry import ImageRegistry
from components.settings import PortalSettings
from components.traffic import INTERNET, VPC, Need, Pods, ServiceRef, api_client

VAULT_PREFIX = "tractus-x"

# Playbook "Horizontal Scaling" (portal-hpa) scales the portal from 3 replicas; KEDA owns
# the frontend Deployment's count, the chart's replicaCount sets the others.
PORTAL_REPLICAS = 3


@dataclass(frozen=True)
class SmtpRelay:
    host: str
    port: str
    user: str
    sender: str
    password: pulumi.Input[str]


@dataclass(frozen=True)
class PortalArgs:
    settings: PortalSettings
    domain: str
    database_address: pulumi.Input[str]
    database_port: int
    # Owner passwords of PORTAL_DATABASE and CENTRALIDP_DATABASE, by database name.
    owner_passwords: Mapping[str, pulumi.Input[str]]
    smtp: SmtpRelay
    secret_rotation: int
    namespaces: Namespaces
    provider: k8s.Provider
    depends_on: Sequence[pulumi.Resource]  # the ingress controller (its CRDs)
    # An image that ships the RDS CA bundle at ca_bundle_path and python3 (the backup
    # image): Keycloak verifies the database's certificate against the bundle, and the
    # realm seeding Job waits for Keycloak with its python3.
    ca_bundle_image: pulumi.Input[str]
    ca_bundle_path: str
    images: ImageRegistry
    # On a dr stack: the primary's generated values (its portalGeneratedSecrets export).
    primary_generated: pulumi.Input[Mapping[str, str]] | None = None
    # False while the database is a read-only replica (pilot light).
    running: bool = True


def generated_names() -> tuple[str, ...]:
    """Every value the program generates for the portal, by name."""
    return (
        "centralidp-admin",
        *(f"client-{client}" for client in pv.CENTRALIDP_CLIENTS),
        *(f"service-account-{account}" for account in pv.CENTRALIDP_SERVICE_ACCOUNTS),
        *pv.PORTAL_ENCRYPTION_KEYS,
    )


class Portal(pulumi.ComponentResource):
    applications: list[ChildApplication]
    generated: dict[str, pulumi.Output[str]]
    realm_seeding: k8s.batch.v1.Job | None

    def __init__(self, name: str, args: PortalArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("tractusx:portal:Portal", name, None, opts)
        self._name = name
        self._args = args
        self.hosts = pv.Hosts.under(args.domain)
        self.generated = self._generated()
        self.applications = [self._centralidp(), self._portal()] if args.running else []
        self.realm_seeding = self._realm_seeding() if args.running else None
        self.registration_route = self._registration_route() if args.running else None
        self.register_outputs({"hosts": vars(self.hosts), "applications": [app.name for app in self.applications]})

    # --- secrets ---------------------------------------------------------------------

    def _generated(self) -> dict[str, pulumi.Output[str]]:
        args = self._args
        if args.primary_generated is not None:
            primary = pulumi.Output.from_input(args.primary_generated)
            return {key: pulumi.Output.secret(_pick(primary, key)) for key in generated_names()}
        values: dict[str, pulumi.Output[str]] = {}
        for key in generated_names():
            if key in pv.PORTAL_ENCRYPTION_KEYS:
                values[key] = self._encryption_key(key)
            else:
                values[key] = generated_password(f"{self._name}-{key}", args.secret_rotation, self)
        return values

    def _encryption_key(self, key: str) -> pulumi.Output[str]:
        """A 256-bit key as 64 hex digits. Not tied to ``secretRotation``: a new key could
        not decrypt what the portal stored with the old one."""
        random_id = random.RandomId(
            f"{self._name}-{key}", byte_length=pv.ENCRYPTION_KEY_BYTES, opts=pulumi.ResourceOptions(parent=self)
        )
        return pulumi.Output.secret(random_id.hex)

    def _service_account(self, account: str) -> pulumi.Output[str]:
        return self.generated[f"service-account-{account}"]

    # --- applications ----------------------------------------------------------------

    def _database(self, spec: DatabaseSpec) -> pulumi.Output[pv.Database]:
        port = self._args.database_port
        return pulumi.Output.from_input(self._args.database_address).apply(
            lambda host: pv.Database(host=host, port=port, name=spec.name, user=spec.owner)
        )

    def _centralidp(self) -> ChildApplication:
        args = self._args
        path = f"{VAULT_PREFIX}/centralidp"
        seeds = [
            VaultSeed(f"{path}/admin", {"admin-password": self.generated["centralidp-admin"]}),
            VaultSeed(f"{path}/database", {"password": args.owner_passwords[CENTRALIDP_DATABASE.name]}),
            VaultSeed(f"{path}/clients", {c: self.generated[f"client-{c}"] for c in pv.CENTRALIDP_CLIENTS}),
            VaultSeed(
                f"{path}/service-accounts", {a: self._service_account(a) for a in pv.CENTRALIDP_SERVICE_ACCOUNTS}
            ),
        ]
        # The chart renders none of these (existingSecret, realm seeding off): External
        # Secrets owns all four.
        secrets = [
            _synced(name, seed, pv.CENTRALIDP_NAMESPACE, chart_renders=False)
            for name, seed in zip(
                (
                    pv.CENTRALIDP_ADMIN_SECRET,
                    pv.CENTRALIDP_DATABASE_SECRET,
                    pv.CENTRALIDP_CLIENTS_SECRET,
                    pv.CENTRALIDP_SERVICE_ACCOUNTS_SECRET,
                ),
                seeds,
                strict=True,
            )
        ]
        ca_path = args.ca_bundle_path
        values = pulumi.Output.all(self._database(CENTRALIDP_DATABASE), args.ca_bundle_image).apply(
            lambda found: pv.centralidp_values(
                self.hosts,
                found[0],
                pv.CaBundle(image=found[1], path=ca_path),
                replicas=pv.CENTRALIDP_REPLICAS,
                images=args.images,
            )
        )
        return ChildApplication(
            name=pv.CENTRALIDP_RELEASE,
            project=pv.PROJECT,
            namespace=pv.CENTRALIDP_NAMESPACE,
            chart=pv.CENTRALIDP_CHART,
            release=pv.CENTRALIDP_RELEASE,
            values=values,
            sync_wave=0,
            seeds=seeds,
            secrets=secrets,
            labels={"app.kubernetes.io/part-of": "tractus-x-portal"},
        )

    def _portal(self) -> ChildApplication:
        args = self._args
        settings = args.settings
        path = f"{VAULT_PREFIX}/portal"
        owner = args.owner_passwords[PORTAL_DATABASE.name]
        interfaces: dict[str, pulumi.Input[str]] = {
            key: self._service_account(account) for key, (_, account) in pv.PORTAL_INTERFACE_CLIENTS.items()
        }
        interfaces.update({key: self.generated[key] for key in pv.PORTAL_ENCRYPTION_KEYS})
        interfaces.update(
            {
                "dim-client-secret": settings.dim_client_secret.output(),
                "clearinghouse-client-secret-default": settings.clearinghouse_client_secret.output(),
                "bpndidresolver-api-key": settings.bpn_did_resolver_api_key.output(),
            }
        )
        seeds = [
            VaultSeed(f"{path}/database", {"portal-password": owner, "provisioning-password": owner}),
            VaultSeed(
                f"{path}/keycloak",
                {
                    "central-client-secret": self._service_account(pv.PORTAL_CENTRAL_CLIENT),
                    "shared-client-secret": settings.shared_idp_client_secret.output(),
                },
            ),
            VaultSeed(
                f"{path}/mailing",
                {"password": args.smtp.password, "provisioning-sharedrealm-password": args.smtp.password},
            ),
            VaultSeed(f"{path}/interfaces", interfaces),
        ]
        # The chart renders these whatever the values say: External Secrets merges into them.
        secrets = [
            _synced(name, seed, pv.PORTAL_NAMESPACE, chart_renders=True)
            for name, seed in zip(
                (
                    pv.PORTAL_DATABASE_SECRET,
                    pv.PORTAL_KEYCLOAK_SECRET,
                    pv.PORTAL_MAILING_SECRET,
                    pv.PORTAL_INTERFACES_SECRET,
                ),
                seeds,
                strict=True,
            )
        ]
        smtp = args.smtp
        mail = pv.Mail(host=smtp.host, port=smtp.port, user=smtp.user, sender=smtp.sender)
        values = self._database(PORTAL_DATABASE).apply(
            lambda database: pv.portal_values(
                self.hosts,
                database,
                mail,
                services=settings.services,
                operator_bpn=settings.operator_bpn,
                operator_name=settings.operator_name,
                replicas=PORTAL_REPLICAS,
                images=args.images,
            )
        )
        return ChildApplication(
            name=pv.PORTAL_RELEASE,
            project=pv.PROJECT,
            namespace=pv.PORTAL_NAMESPACE,
            chart=pv.PORTAL_CHART,
            release=pv.PORTAL_RELEASE,
            values=values,
            sync_wave=2,
            scaled_deployments=[pv.PORTAL_DEPLOYMENT],
            seeds=seeds,
            secrets=secrets,
            labels={"app.kubernetes.io/part-of": "tractus-x-portal"},
        )

    def _realm_seeding(self) -> k8s.batch.v1.Job:
        """The CX-Central realm's seeding (components/portal_values.py, "Realm seeding"),
        beside Keycloak. Replaced (deleted first: one seeding at a time, same name)
        whenever its spec changes, so a changed realm setting is seeded again. The program
        waits for it to finish; a seeding that failed (Keycloak did not answer within the
        deadline) is replaced, and so run again, on the next ``pulumi up``."""
        args = self._args
        settings = args.settings
        spec = pulumi.Output.from_input(args.ca_bundle_image).apply(
            lambda image: pv.realm_seeding_job(
                self.hosts,
                services=settings.services,
                operator_bpn=settings.operator_bpn,
                wait_image=image,
                images=args.images,
            )
        )
        return k8s.batch.v1.Job(
            f"{self._name}-realm-seeding",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=pv.REALM_SEEDING_JOB,
                namespace=pv.CENTRALIDP_NAMESPACE,
                labels={**pv.REALM_SEEDING_LABELS, "app.kubernetes.io/part-of": "tractus-x-portal"},
                annotations=REPLACE_UNREADY,
            ),
            spec=cast("k8s.batch.v1.JobSpecArgsDict", spec),
            opts=pulumi.ResourceOptions(
                parent=self,
                provider=args.provider,
                depends_on=[args.namespaces.namespace(pv.CENTRALIDP_NAMESPACE)],
                replace_on_changes=["spec"],
                delete_before_replace=True,
                custom_timeouts=wait_timeouts(pv.REALM_SEEDING_DEADLINE_SECONDS),
            ),
        )

    # --- routing ---------------------------------------------------------------------

    def _registration_route(self) -> k8s.apiextensions.CustomResource:
        """/registration on the portal's host to the registration frontend, prefix
        stripped (what the chart's `/registration/(.*)` with `rewrite-target: /$1` does
        under ingress-nginx), with the frontend Ingress's certificate."""
        args = self._args

        def opts(*after: pulumi.Resource) -> pulumi.ResourceOptions:
            return pulumi.ResourceOptions(
                parent=self,
                provider=args.provider,
                depends_on=[args.namespaces.namespace(pv.PORTAL_NAMESPACE), *args.depends_on, *after],
            )

        strip = k8s.apiextensions.CustomResource(
            f"{self._name}-registration-strip",
            api_version="traefik.io/v1alpha1",
            kind="Middleware",
            metadata=k8s.meta.v1.ObjectMetaArgs(name="portal-registration-strip", namespace=pv.PORTAL_NAMESPACE),
            spec={"stripPrefix": {"prefixes": [pv.REGISTRATION_PATH]}},
            opts=opts(),
        )
        return k8s.apiextensions.CustomResource(
            f"{self._name}-registration-route",
            api_version="traefik.io/v1alpha1",
            kind="IngressRoute",
            metadata=k8s.meta.v1.ObjectMetaArgs(name="portal-registration", namespace=pv.PORTAL_NAMESPACE),
            spec={
                "entryPoints": ["websecure"],
                "routes": [
                    {
                        "match": f"Host(`{self.hosts.portal}`) && PathPrefix(`{pv.REGISTRATION_PATH}`)",
                        "kind": "Rule",
                        "middlewares": [{"name": "portal-registration-strip"}],
                        "services": [{"name": pv.REGISTRATION_SERVICE, "port": pv.PORT}],
                    }
                ],
                "tls": {"secretName": pv.FRONTEND_TLS_SECRET},
            },
            opts=opts(strip),
        )


def _synced(name: str, seed: VaultSeed, namespace: str, chart_renders: bool) -> SyncedSecret:
    """The Secret ``name`` in ``namespace`` with every property of ``seed`` under the same key."""
    return SyncedSecret(
        name=name,
        namespace=namespace,
        path=seed.path,
        keys={key: key for key in seed.data},
        chart_renders=chart_renders,
    )


def _pick(values: pulumi.Output[Mapping[str, str]], key: str) -> pulumi.Output[str]:
    def pick(found: Mapping[str, str]) -> str:
        if key not in found:
            raise pulumi.RunError(
                f"the primary stack's portalGeneratedSecrets has no {key}: enable the portal on the primary stack first"
            )
        return found[key]

    return values.apply(pick)


FRONTEND_ROUTE = "users reach the portal's frontends and services through Traefik"


def flows(http01: bool) -> tuple[Need, ...]:
    """The portal and its identity provider, while they run: Traefik in; out, the identity
    providers, the data space's services and mail over HTTPS and SMTP submission, and their
    databases (RDS). The portal chart's Jobs and CronJobs (migrations, maintenance, the
    processes worker) carry none of its labels, so the outbound flows are every pod's of
    the portal's namespace, its only workload. Its Ingresses' certificates are solved in
    its namespace when the issuers solve HTTP-01 (``http01``)."""
    portal_pods = Pods(pv.PORTAL_NAMESPACE, pv.PORTAL_SELECTOR_LABELS)
    every_portal_pod = Pods(pv.PORTAL_NAMESPACE)
    keycloak = Pods(pv.CENTRALIDP_NAMESPACE, pv.CENTRALIDP_POD_LABELS)
    seeding = Pods(pv.CENTRALIDP_NAMESPACE, pv.REALM_SEEDING_LABELS)
    keycloak_service = ServiceRef(
        pv.CENTRALIDP_NAMESPACE, f"{pv.CENTRALIDP_RELEASE}-keycloak", pv.CENTRALIDP_POD_LABELS, {80: pv.KEYCLOAK_PORT}
    )
    return (
        Need(TRAEFIK_PODS, portal_pods, pv.PORT, FRONTEND_ROUTE),
        Need(TRAEFIK_PODS, keycloak, pv.KEYCLOAK_PORT, "users and the portal sign in at the central identity provider"),
        Need(every_portal_pod, INTERNET, 443, "the portal calls the identity providers and the data space's services"),
        Need(every_portal_pod, INTERNET, 587, "the portal sends mail through the SMTP relay"),
        Need(every_portal_pod, VPC, 5432, "the portal uses its databases (RDS)"),
        Need(keycloak, INTERNET, 443, "Keycloak brokers to the shared identity provider"),
        Need(keycloak, INTERNET, 587, "Keycloak sends mail through the SMTP relay"),
        Need(keycloak, VPC, 5432, "Keycloak uses its database (RDS)"),
        Need(keycloak, keycloak, pv.KEYCLOAK_CLUSTER_PORT, "the Keycloak replicas form one cluster (JGroups)"),
        # centralidp's keycloak.rbac grants Keycloak's account get/list on pods.
        api_client(keycloak, "Keycloak (it finds its cluster members among the pods)"),
        Need(seeding, keycloak_service, 80, "the realm seeding Job configures Keycloak"),
        *certificates.challenge_flows(pv.PORTAL_NAMESPACE, http01),
    )
