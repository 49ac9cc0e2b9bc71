"""The host names the platform serves, said once: DNS records, probes and the checks of the
plan follow from this list.

Each host is served by an Ingress (or IngressRoute) of the product it belongs to, with a
certificate cert-manager issues for that Ingress (its ``tls`` hosts and the
``cert-manager.io/cluster-issuer`` annotation; over DNS-01 in the hosted zone, whose IAM
role may write only these names' challenge records, or HTTP-01 without one,
components/certificates.py): the connector's DSP endpoint and public data API always, the
portal, its backend and the central identity provider when the portal is enabled. The
plan checks that the rendered Ingresses serve exactly these names (offline/rendered_checks.py
``hosts_are_served_named_probed_and_certified``).
"""

from __future__ import annotations

from dataclasses import dataclass

from components import connector_values as connector
from components import edc
from components import portal_values as pv


@dataclass(frozen=True)
class ServedHost:
    name: str  # the fully qualified host name
    path: str  # a path its Ingress routes to the product (what the blackbox probe requests)
    what: str

    @property
    def url(self) -> str:
        return f"https://{self.name}{self.path}"


def served_hosts(domain: str, portal_runs: bool) -> tuple[ServedHost, ...]:
    """Every name the stack serves. A dr stack serves its primary's names; the portal's
    only once activated (at pilot light the portal is not deployed: its activation adds
    them, with their records and probes)."""
    edc_hosts = edc.hosts(domain)
    hosts = [
        ServedHost(
            edc_hosts[connector.CONTROL_PLANE],
            connector.CONTROL_PLANE_ENDPOINTS["protocol"]["path"],
            "the connector's DSP endpoint",
        ),
        ServedHost(
            edc_hosts[connector.DATA_PLANE],
            connector.DATA_PLANE_ENDPOINTS["public"]["path"],
            "the connector's public data API",
        ),
    ]
    if portal_runs:
        names = pv.Hosts.under(domain)
        hosts += [
            ServedHost(names.portal, "/", "the portal"),
            ServedHost(names.backend, pv.BACKEND_ROUTES[0][0], "the portal's backend services"),
            ServedHost(names.centralidp, f"{pv.KEYCLOAK_PATH}/", "the central identity provider"),
        ]
    return tuple(hosts)
