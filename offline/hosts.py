"""The host names a stack serves, as its rendered objects show them, against what the
program names (components/hosts.py): DNS records, probes and certificates on exactly
those names.

A name is served when an Ingress routes it (``spec.rules[].host``) or a Traefik
IngressRoute matches it (``Host(`...`)`` in a route's ``match``). Its certificate is the
one cert-manager's ingress-shim makes for an Ingress whose ``tls`` lists the name and that
names a ClusterIssuer (cert-manager docs, "Annotated Ingress resource"), or a Certificate
object. What the plan reports:
- a served name the program does not list (it would get no DNS record and no probe), and a
  listed name nothing serves (its record and probe point at a 404);
- a served name without a certificate, and a certificate for a name nothing serves (its
  challenge can never be answered: HTTP-01 reaches no route, and DNS-01's role may write
  only the records of served names, components/certificates.py);
- DNS: with a hosted zone, the stack's Route 53 records; without one, the records it asks
  the operator to create (the ``dnsRecords`` output): either must be exactly the served
  names;
- the blackbox Probe's targets: exactly the served names.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

from components.alerts import PRIMARY_EDGE_JOB
from offline.harness import StackRun
from offline.operated import ISSUER_ANNOTATIONS
from offline.render import Placed

RECORD = "aws:route53/record:Record"
_HOST_MATCH = re.compile(r"Host\(\s*`([^`]+)`\s*\)")


def routed(objects: Iterable[Placed]) -> dict[str, list[str]]:
    """Every host an Ingress or IngressRoute routes, with what routes it."""
    hosts: dict[str, list[str]] = {}
    for placed in objects:
        obj = placed.obj
        kind, spec = obj.get("kind"), obj.get("spec") or {}
        name = f"{kind} {placed.namespace}/{(obj.get('metadata') or {}).get('name')}"
        found: list[str] = []
        if kind == "Ingress":
            found = [str(rule["host"]) for rule in spec.get("rules") or [] if rule.get("host")]
        elif kind == "IngressRoute":
            found = [host for route in spec.get("routes") or [] for host in _HOST_MATCH.findall(route.get("match", ""))]
        for host in found:
            hosts.setdefault(host, []).append(name)
    return hosts


def acme_issuers(objects: Iterable[Placed]) -> set[str]:
    """The (Cluster)Issuers that sign through ACME (Let's Encrypt), by name."""
    return {
        str((placed.obj.get("metadata") or {}).get("name"))
        for placed in objects
        if placed.obj.get("kind") in ("ClusterIssuer", "Issuer") and "acme" in (placed.obj.get("spec") or {})
    }


def certified(objects: Iterable[Placed]) -> dict[str, list[str]]:
    """Every public name an ACME certificate is issued for: by ingress-shim from an Ingress
    annotated with an ACME issuer (its ``tls`` hosts), or by a Certificate of such an
    issuer. Certificates of the platform's private CAs (Vault's) name in-cluster Services,
    not the edge's."""
    objects = list(objects)
    acme = acme_issuers(objects)
    names: dict[str, list[str]] = {}
    for placed in objects:
        obj = placed.obj
        kind, spec, metadata = obj.get("kind"), obj.get("spec") or {}, obj.get("metadata") or {}
        what = f"{kind} {placed.namespace}/{metadata.get('name')}"
        annotations = metadata.get("annotations") or {}
        found: list[str] = []
        if kind == "Ingress" and any(annotations.get(a) in acme for a in ISSUER_ANNOTATIONS):
            tls = [entry for entry in spec.get("tls") or [] if entry.get("secretName")]
            found = [str(host) for entry in tls for host in entry.get("hosts") or []]
        elif kind == "Certificate" and (spec.get("issuerRef") or {}).get("name") in acme:
            found = [str(name) for name in spec.get("dnsNames") or []]
        for host in found:
            names.setdefault(host, []).append(what)
    return names


def probed(objects: Iterable[Placed]) -> set[str]:
    """The hosts the blackbox probes of the served names ask for (not the dr stack's probe
    of the primary's load balancer, which asks by the balancer's own name)."""
    return {
        str(urlsplit(str(target)).hostname)
        for placed in objects
        if placed.obj.get("kind") == "Probe" and (placed.obj.get("spec") or {}).get("jobName") != PRIMARY_EDGE_JOB
        for target in (((placed.obj.get("spec") or {}).get("targets") or {}).get("staticConfig") or {}).get("static")
        or []
    }


def in_dns(run: StackRun) -> tuple[str, set[str]]:
    """Where the stack's names are: its Route 53 records, or the records it asks for."""
    records = run.of_type(RECORD)
    if records:
        return "Route 53 records", {str(r.inputs["name"]) for r in records}
    wanted = run.exports.get("dnsRecords") or []
    return "records to create (output dnsRecords)", {str(record["name"]) for record in wanted}


def host_findings(run: StackRun, objects: Iterable[Placed]) -> list[str]:
    objects = list(objects)
    listed = {str(host) for host in run.exports.get("servedHosts") or []}
    served, certificates = routed(objects), certified(objects)
    findings = [
        f"{host} is routed by {', '.join(by)} but not among the hosts the program serves (components/hosts.py): "
        "it gets no DNS record and no probe"
        for host, by in sorted(served.items())
        if host not in listed
    ]
    findings += [
        f"{host} is listed as served but no Ingress or IngressRoute routes it" for host in sorted(listed - set(served))
    ]
    findings += [f"{host} is served without a certificate" for host in sorted(set(served) - set(certificates))]
    findings += [
        f"{host}: {', '.join(by)} asks a certificate for a name nothing serves (its challenge cannot pass)"
        for host, by in sorted(certificates.items())
        if host not in served
    ]
    where, names = in_dns(run)
    findings += _differences(where, names, listed)
    findings += _differences("the blackbox probes", probed(objects), listed)
    return findings


def _differences(what: str, names: set[str], served: set[str]) -> list[str]:
    return [f"{what}: {host} is served but missing" for host in sorted(served - names)] + [
        f"{what}: {host} is not served" for host in sorted(names - served)
    ]


def records_table(exports: Mapping[str, Any]) -> list[str]:
    """The records the plan prints when the stack has no hosted zone."""
    return [f"{record['name']} CNAME {record['value']}" for record in exports.get("dnsRecords") or []]
