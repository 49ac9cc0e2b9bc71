"""The hosts a stack serves: the rendered Ingresses against the program's list, the DNS
records, the probes and the certificates (offline/hosts.py), and each fault reported."""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

from offline.harness import StackRun
from offline.hosts import host_findings
from offline.render import Placed, StackRendering
from offline.rendered_checks import deployed


def objects(renderings: dict[str, StackRendering]) -> list[Placed]:
    return [Placed(p.origin, p.namespace, copy.deepcopy(p.obj)) for p in deployed(renderings["prod"])]


def with_exports(run: StackRun, **exports: Any) -> StackRun:
    return dataclasses.replace(run, exports={**run.exports, **exports})


def test_the_stacks_serve_exactly_the_hosts_they_name(
    runs: dict[str, StackRun], renderings: dict[str, StackRendering]
) -> None:
    for name, run in runs.items():
        assert host_findings(run, deployed(renderings[name])) == [], name
        domain = run.exports["domain"]
        assert run.exports["servedHosts"] == [f"edc.{domain}", f"edc-data.{domain}"]


def test_a_routed_host_the_program_does_not_list_is_reported(
    runs: dict[str, StackRun], renderings: dict[str, StackRendering]
) -> None:
    run = runs["prod"]
    data = f"edc-data.{run.exports['domain']}"
    listed = [host for host in run.exports["servedHosts"] if host != data]
    findings = host_findings(with_exports(run, servedHosts=listed), objects(renderings))
    assert (
        findings[0].startswith(f"{data} is routed by Ingress tractus-x/edc-dataplane-")
        and "no DNS record" in findings[0]
    )


def test_a_listed_host_nothing_serves_and_its_record_and_probe_are_reported(
    runs: dict[str, StackRun], renderings: dict[str, StackRendering]
) -> None:
    run = runs["prod"]
    api = f"api.{run.exports['domain']}"
    findings = host_findings(with_exports(run, servedHosts=[*run.exports["servedHosts"], api]), objects(renderings))
    assert f"{api} is listed as served but no Ingress or IngressRoute routes it" in findings
    assert f"records to create (output dnsRecords): {api} is served but missing" in findings
    assert f"the blackbox probes: {api} is served but missing" in findings


def test_a_certificate_for_a_name_nothing_serves_is_reported(
    runs: dict[str, StackRun], renderings: dict[str, StackRendering]
) -> None:
    """The platform-wide certificate the platform once had, for the domain and api.<domain>."""
    run = runs["prod"]
    domain = run.exports["domain"]
    certificate = {
        "apiVersion": "cert-manager.io/v1",
        "kind": "Certificate",
        "metadata": {"name": "tractus-x-tls", "namespace": "tractus-x"},
        "spec": {
            "dnsNames": [domain, f"api.{domain}"],
            "issuerRef": {"kind": "ClusterIssuer", "name": "letsencrypt-prod"},
        },
    }
    findings = host_findings(run, [*objects(renderings), Placed("test", "tractus-x", certificate)])
    unservable = (
        "Certificate tractus-x/tractus-x-tls asks a certificate for a name nothing serves (its challenge cannot pass)"
    )
    assert findings == [f"api.{domain}: {unservable}", f"{domain}: {unservable}"]


def test_a_host_served_without_a_certificate_is_reported(
    runs: dict[str, StackRun], renderings: dict[str, StackRendering]
) -> None:
    run = runs["prod"]
    rendered = objects(renderings)
    for placed in rendered:
        if placed.obj.get("kind") == "Ingress" and placed.obj["metadata"]["name"].startswith("edc-controlplane"):
            placed.obj["spec"].pop("tls")
    assert host_findings(run, rendered) == [f"edc.{run.exports['domain']} is served without a certificate"]


def test_a_probe_or_a_record_that_misses_a_host_is_reported(
    runs: dict[str, StackRun], renderings: dict[str, StackRendering]
) -> None:
    run = runs["prod"]
    edc = f"edc.{run.exports['domain']}"
    rendered = objects(renderings)
    for placed in rendered:
        if placed.obj.get("kind") == "Probe":
            static = placed.obj["spec"]["targets"]["staticConfig"]["static"]
            static[:] = [target for target in static if edc not in target]
    records = [record for record in run.exports["dnsRecords"] if record["name"] != edc]
    assert host_findings(with_exports(run, dnsRecords=records), rendered) == [
        f"records to create (output dnsRecords): {edc} is served but missing",
        f"the blackbox probes: {edc} is served but missing",
    ]
