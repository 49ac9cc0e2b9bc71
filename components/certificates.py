"""TLS: cert-manager and the Let's Encrypt ClusterIssuers (playbook "Certificate Management").

Every host the platform serves (components/hosts.py) gets its certificate from its own
Ingress: the ``cert-manager.io/cluster-issuer`` annotation and the Ingress's ``tls`` hosts
make cert-manager's ingress-shim create a Certificate for exactly those names, in the
Ingress's namespace. There is no platform-wide Certificate: one for names no Ingress
serves could never pass its challenge (over HTTP-01 Let's Encrypt must reach the name
through the edge; over DNS-01 the role may write only the served names' records).

With a Route 53 hosted zone (``dns.hostedZoneId``) the issuers solve DNS-01 in that zone:
Let's Encrypt then checks a TXT record, not the edge, so a stack gets its certificates
wherever DNS points. This is what lets a dr stack hold valid certificates before failover
(over HTTP-01 Let's Encrypt would reach the primary's edge, and dr's challenges would fail
until DNS moved). cert-manager's controller signs its Route 53 calls with an IRSA role of
its own service account that may only write the TXT records ``_acme-challenge.<host>`` of
the hosts the stack serves (components/hosts.py), in that one zone.

Without a hosted zone the challenge is HTTP-01, served through the ``nginx`` IngressClass,
which the ingress controller (components/ingress.py) serves. The playbook's solver sets
``class: nginx``, i.e. the legacy ``kubernetes.io/ingress.class`` annotation; the solver
uses ``ingressClassName`` instead, which selects the IngressClass object the controller
watches.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from components import charts
from components.cluster import Cluster
from components.helm import chart_release
from components.iam import policy_document
from components.ingress import TRAEFIK_PODS
from components.namespaces import Namespaces
from components.registry import ImageRegistry
from components.traffic import CONTROL_PLANE, INTERNET, Need, Pods, api_client, scraped

NAMESPACE = "cert-manager"
# crds.{enabled,keep} replace installCRDs from chart v1.15 on; prometheus.servicemonitor
# is spelt in lower case by the chart.
RELEASE_NAME = "cert-manager"
REPLICAS = 2

INGRESS_CLASS = "nginx"
# Playbook "Certificate Management": the production issuer; staging for trials (its
# rate limits are far higher, its certificates are not trusted).
ISSUERS = {
    "letsencrypt-prod": "https://acme-v02.api.letsencrypt.org/directory",
    "letsencrypt-staging": "https://acme-staging-v02.api.letsencrypt.org/directory",
}
CERTIFICATE_ISSUER = "letsencrypt-prod"


# The controller's service account (the chart's fullname): the IRSA role trusts only it.
CONTROLLER_SERVICE_ACCOUNT = RELEASE_NAME
# The record cert-manager writes for a DNS-01 challenge of <host> (RFC 8555, section 8.4).
CHALLENGE_LABEL = "_acme-challenge"


@dataclass(frozen=True)
class Dns01Zone:
    """The Route 53 hosted zone the issuers solve DNS-01 in, and the hosts they solve for."""

    hosted_zone_id: str
    hosts: tuple[str, ...]


@dataclass(frozen=True)
class CertificatesArgs:
    cluster: Cluster
    namespaces: Namespaces
    acme_email: str
    depends_on: Sequence[pulumi.Resource]  # the monitoring CRDs (ServiceMonitor)
    images: ImageRegistry
    dns01: Dns01Zone | None = None  # None: HTTP-01 through the edge


def chart_values(images: ImageRegistry, dns01_role_arn: pulumi.Input[str] | None = None) -> dict[str, Any]:
    security = {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
    }
    small = {"requests": {"cpu": "50m", "memory": "128Mi"}, "limits": {"cpu": "500m", "memory": "256Mi"}}
    component = {
        "replicaCount": REPLICAS,
        "podDisruptionBudget": {"enabled": True, "maxUnavailable": 1},
        "containerSecurityContext": security,
        "resources": small,
    }
    values: dict[str, Any] = {
        # CRDs installed and kept when the release is removed (deleting them would
        # delete every Certificate and Issuer).
        "crds": {"enabled": True, "keep": True},
        # Every cert-manager image (controller, webhook, cainjector, ACME solver, startup
        # check) is quay.io/jetstack/<name>: the registry is the stack's cache of Quay.
        "imageRegistry": images.registry("quay.io"),
        **component,
        "webhook": dict(component),
        "cainjector": dict(component),
        "prometheus": {"enabled": True, "servicemonitor": {"enabled": True}},
    }
    if dns01_role_arn is not None:
        values.update(dns01_values(dns01_role_arn))
    return values


def dns01_values(role_arn: pulumi.Input[str]) -> dict[str, Any]:
    """What the controller needs to solve DNS-01 in Route 53.

    - Its service account names the IRSA role (cert-manager docs, "Route53", "EKS IAM Role
      for Service Accounts (IRSA)"); ClusterIssuers may use such ambient credentials by
      default (``--cluster-issuer-ambient-credentials`` is true, ``--issuer-ambient-
      credentials`` false, so a namespaced Issuer cannot borrow the role). No ``fsGroup``:
      since Kubernetes 1.19 a non-root container reads the web identity token without one
      (Amazon EKS User Guide, Kubernetes 1.19 release notes).
    - The self-check asks only the recursive resolvers of the pod's ``/etc/resolv.conf``
      (kube-dns, which forwards to the VPC's resolver) instead of querying Route 53's
      authoritative nameservers directly on port 53 (cert-manager docs, DNS01, "Setting
      Nameservers for DNS01 Self Check"), so the controller needs no DNS egress to the
      internet. The usual cost of this mode, answers cached from before the record
      existed, does not arise: the Route 53 provider returns only once its change is
      INSYNC on every Route 53 nameserver, before the first lookup, and writes the record
      with a 10 s TTL (cert-manager pkg/issuer/acme/dns/route53/route53.go: changeRecord
      polls GetChange; route53TTL = 10).
    """
    return {
        "serviceAccount": {"annotations": {"eks.amazonaws.com/role-arn": role_arn}},
        "dns01RecursiveNameserversOnly": True,
    }


def cluster_issuer_spec(server: str, name: str, email: str, hosted_zone_id: str | None = None) -> dict[str, Any]:
    """An ACME issuer of Let's Encrypt solving DNS-01 in the hosted zone, or HTTP-01 through
    the edge without one. The zone is named, so the provider never looks it up
    (route53.go getHostedZoneID: no ListHostedZonesByName when hostedZoneID is set), and no
    ``region``: with IRSA the pod's AWS_REGION applies (cert-manager 1.16 made the field
    optional; session.go ignores it beside ambient credentials and AWS_REGION)."""
    solver: dict[str, Any] = (
        {"dns01": {"route53": {"hostedZoneID": hosted_zone_id}}}
        if hosted_zone_id is not None
        else {"http01": {"ingress": {"ingressClassName": INGRESS_CLASS}}}
    )
    return {
        "acme": {
            "server": server,
            "email": email,
            "privateKeySecretRef": {"name": name},
            "solvers": [solver],
        }
    }


def route53_record_name(name: str) -> str:
    """A DNS name as the Route 53 condition key route53:ChangeResourceRecordSetsNormalizedRecordNames
    holds it: lower case, no trailing dot, every character but a-z, 0-9, '-', '_' and '.'
    as a backslash and three octal digits (Route 53 Developer Guide, "Using IAM policy
    conditions for fine-grained access control", "Normalizing the Route 53 condition key
    values")."""
    allowed = set("abcdefghijklmnopqrstuvwxyz0123456789-_.")
    return "".join(c if c in allowed else f"\\{ord(c):03o}" for c in name.lower().removesuffix("."))


def dns01_policy(zone: Dns01Zone) -> str:
    """Least privilege for cert-manager's Route 53 DNS-01 provider with a named zone.

    The provider makes two calls (cert-manager pkg/issuer/acme/dns/route53/route53.go,
    changeRecord): ChangeResourceRecordSets, UPSERT to present and DELETE to clean up a
    multivalue TXT record ``_acme-challenge.<host>``, and GetChange until the change is
    INSYNC. cert-manager's Route53 guide also grants ListResourceRecordSets, which the
    provider has not called since it writes multivalue records (cert-manager 1.8, PR
    #4793), and ListHostedZonesByName, which it calls only without a hostedZoneID; neither
    is granted. The record names, type and actions are pinned with Route 53's condition
    keys; ForAllValues holds every change of a batch to them, and the Null test refuses a
    request without the keys, which ForAllValues alone would let pass (IAM User Guide,
    "Condition operators for multivalued context keys").
    """
    names = sorted(route53_record_name(f"{CHALLENGE_LABEL}.{host}") for host in zone.hosts)
    keys = {
        "route53:ChangeResourceRecordSetsNormalizedRecordNames": names,
        "route53:ChangeResourceRecordSetsRecordTypes": ["TXT"],
        "route53:ChangeResourceRecordSetsActions": ["DELETE", "UPSERT"],
    }
    return policy_document(
        [
            {
                "Sid": "ChallengeRecords",
                "Effect": "Allow",
                "Action": "route53:ChangeResourceRecordSets",
                "Resource": f"arn:aws:route53:::hostedzone/{zone.hosted_zone_id}",
                "Condition": {
                    "ForAllValues:StringEquals": keys,
                    "Null": {key: "false" for key in keys},
                },
            },
            {
                # Change ids are not tied to a zone; GetChange takes no condition key.
                "Sid": "ChangeStatus",
                "Effect": "Allow",
                "Action": "route53:GetChange",
                "Resource": "arn:aws:route53:::change/*",
            },
        ]
    )


class Certificates(pulumi.ComponentResource):
    release: k8s.helm.v3.Release
    dns01_role: aws.iam.Role | None
    issuers: list[k8s.apiextensions.CustomResource]

    def __init__(self, name: str, args: CertificatesArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("tractusx:certificates:Certificates", name, None, opts)
        provider = args.cluster.k8s_provider
        self.dns01_role = (
            args.cluster.irsa_role(
                f"{name}-dns01",
                namespace=NAMESPACE,
                service_account=CONTROLLER_SERVICE_ACCOUNT,
                description=(
                    f"cert-manager: ACME DNS-01 challenge records of the served hosts in {args.dns01.hosted_zone_id}"
                ),
                inline_policy=dns01_policy(args.dns01),
                parent=self,
            )
            if args.dns01 is not None
            else None
        )
        self.release = chart_release(
            f"{name}-release",
            release=RELEASE_NAME,
            chart=charts.CERT_MANAGER,
            namespace=NAMESPACE,
            values=chart_values(args.images, self.dns01_role.arn if self.dns01_role is not None else None),
            parent=self,
            provider=provider,
            depends_on=[args.namespaces.namespace(NAMESPACE), *args.depends_on],
        )
        after_crds = pulumi.ResourceOptions(parent=self, provider=provider, depends_on=[self.release])
        issuers = [
            k8s.apiextensions.CustomResource(
                f"{name}-{issuer}",
                api_version="cert-manager.io/v1",
                kind="ClusterIssuer",
                metadata=k8s.meta.v1.ObjectMetaArgs(name=issuer),
                spec=cluster_issuer_spec(
                    server, issuer, args.acme_email, args.dns01.hosted_zone_id if args.dns01 is not None else None
                ),
                opts=after_crds,
            )
            for issuer, server in ISSUERS.items()
        ]
        self.issuers = issuers
        self.register_outputs(
            {
                "release": self.release.name,
                "issuers": list(ISSUERS),
                "dns01_role_arn": self.dns01_role.arn if self.dns01_role is not None else None,
            }
        )


def _cert_manager(component: str) -> Pods:
    return Pods(NAMESPACE, {"app.kubernetes.io/instance": RELEASE_NAME, "app.kubernetes.io/component": component})


SOLVER_LABELS = {"acme.cert-manager.io/http01-solver": "true"}
SOLVER_PORT = 8089


def challenge_flows(namespace: str, http01: bool) -> tuple[Need, ...]:
    """What the ACME challenges of a namespace's certificates need of the network. HTTP-01:
    cert-manager runs the solver pod in the namespace of the Certificate it solves for
    (cert-manager pkg/issuer/acme/http/pod.go) and Let's Encrypt's request reaches it
    through Traefik. DNS-01: nothing in the namespace (the controller writes the record).
    Every namespace with a Certificate or an Ingress of the platform's issuers declares
    this."""
    if not http01:
        return ()
    return (
        Need(
            TRAEFIK_PODS,
            Pods(namespace, SOLVER_LABELS),
            SOLVER_PORT,
            "Let's Encrypt's HTTP-01 request reaches the solver through Traefik",
        ),
    )


def flows(http01: bool) -> tuple[Need, ...]:
    """cert-manager's own flows. With DNS-01 the controller calls Route 53 and STS (the
    IRSA role's AssumeRoleWithWebIdentity) over HTTPS on the internet (the VPC has no
    endpoint for either: components/network.py) and runs its self-check through kube-dns
    (``dns01_values``: recursive nameservers only; every pod's name resolution is declared
    in components/network_policies.py), so it needs nothing on port 53 outside the
    cluster. With HTTP-01 it requests the challenge at the public host first."""
    controller, webhook, cainjector = (_cert_manager(c) for c in ("controller", "webhook", "cainjector"))
    https = "cert-manager talks ACME to Let's Encrypt" + (
        "" if http01 else ", and to Route 53 and STS (IRSA) for the DNS-01 challenge records"
    )
    return (
        Need(controller, INTERNET, 443, https),
        *(
            (Need(controller, INTERNET, 80, "cert-manager checks the HTTP-01 challenge at the public host first"),)
            if http01
            else ()
        ),
        Need(CONTROL_PLANE, webhook, 10250, "the API server calls cert-manager's admission webhook"),
        *(
            api_client(pods, f"cert-manager's {name}")
            for pods, name in (
                (controller, "controller"),
                (webhook, "webhook"),
                (cainjector, "CA injector"),
                (_cert_manager("startupapicheck"), "install check"),
            )
        ),
        *(scraped(pods, 9402, f"cert-manager's {pods.name}") for pods in (controller, webhook, cainjector)),
    )
