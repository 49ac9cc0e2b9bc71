"""Shared fixtures: each stack run once under the harness, as the offline plan runs it."""

from __future__ import annotations

import json
from typing import Any

import pytest

from components.settings import PORTAL_SERVICES
from offline.crd_schemas import CrdIndex
from offline.harness import MOCK_ACCOUNT_ID, RegisteredResource, StackRun, run_stack, run_stacks
from offline.recovery_objectives import ZONE_ID
from offline.render import StackRendering, render_stack
from offline.rendered_checks import check_stack

# The Vault world of the Vault programs' and the dr activation's tests.
from tests.support.vault_world import aws, dr_bucket, world  # noqa: F401


@pytest.fixture(scope="session")
def runs() -> dict[str, StackRun]:
    return run_stacks()


@pytest.fixture(scope="session")
def prod(runs: dict[str, StackRun]) -> StackRun:
    return runs["prod"]


@pytest.fixture(scope="session")
def dr(runs: dict[str, StackRun]) -> StackRun:
    return runs["dr"]


@pytest.fixture(scope="session")
def prod_with_zone() -> StackRun:
    """prod with a Route 53 hosted zone: failover records, health check and its alarm, DNS-01."""
    return run_stack("prod", overrides={"dns": {"hostedZoneId": ZONE_ID}})


@pytest.fixture(scope="session")
def with_zone(prod_with_zone: StackRun) -> StackRun:
    """dr with the same hosted zone."""
    return run_stack("dr", overrides={"dns": {"hostedZoneId": ZONE_ID}}, references={"prod": prod_with_zone})


@pytest.fixture(params=["prod", "dr"])
def stack(request: pytest.FixtureRequest, runs: dict[str, StackRun]) -> StackRun:
    return runs[request.param]


@pytest.fixture(scope="session")
def renderings(runs: dict[str, StackRun]) -> dict[str, StackRendering]:
    """Every chart of each stack rendered with the real helm, as the plan renders them."""
    return {name: render_stack(run) for name, run in runs.items()}


@pytest.fixture(scope="session")
def crds(renderings: dict[str, StackRendering]) -> CrdIndex:
    """The CRDs prod installs (its charts' real CRDs)."""
    return renderings["prod"].crds


def chart_of(release: RegisteredResource) -> str:
    """The name of the chart a Helm release installs: the last segment of its OCI reference
    (the stack's copy, components/chart_mirror.py) or the repository chart's name."""
    return str(release.inputs["chart"]).rsplit("/", 1)[-1]


def release(run: StackRun, chart: str) -> RegisteredResource:
    """The stack's one Helm release of ``chart``."""
    (found,) = [r for r in run.of_type("kubernetes:helm.sh/v3:Release") if chart_of(r) == chart]
    return found


def stack_copy_path(run: StackRun) -> str:
    """Where the stack's own copy of the charts is (Argo CD's repoURL): the harness's
    account, the stack's region, the stack's name prefix (README "Charts")."""
    region, environment = run.exports["region"], run.exports["environment"]
    return f"{MOCK_ACCOUNT_ID}.dkr.ecr.{region}.amazonaws.com/tx-{environment}/charts"


def stack_copy(run: StackRun, chart: str) -> str:
    """The OCI reference of ``chart`` in the stack's own copy (a Helm release's chart)."""
    return f"oci://{stack_copy_path(run)}/{chart}"


def policy(document: Any) -> dict[str, Any]:
    """An IAM or KMS policy document as a dict, whether given as JSON text or not."""
    return json.loads(document) if isinstance(document, str) else dict(document)


# Where each stack pulls every image from (components/registry.py): its own ECR, in its
# own region, in the offline plan's account (AWS's documentation example account).
IMAGE_REGISTRIES = {
    "prod": "123456789012.dkr.ecr.eu-central-1.amazonaws.com/tx-prod",
    "dr": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/tx-dr",
}

# The portal and its identity provider enabled (off in the stack files): the services
# and credentials an operator configures for it (README "Portal and identity provider").
PORTAL_SETTINGS = {
    "enabled": True,
    "operatorBpn": "BPNL000000000001",
    "operatorName": "Example Operator",
    "services": {service: f"https://{service.lower()}.partner.example.org" for service in PORTAL_SERVICES},
}


@pytest.fixture(scope="session")
def portal_runs() -> dict[str, StackRun]:
    """prod, the dr stack at pilot light, and the dr stack activated, each with the portal."""
    overrides = {"portal": PORTAL_SETTINGS}
    prod = run_stack("prod", overrides=overrides)
    references = {"prod": prod}
    return {
        "prod": prod,
        "dr": run_stack("dr", overrides=overrides, references=references),
        "dr-active": run_stack("dr", overrides={**overrides, "dr.active": "true"}, references=references),
    }


@pytest.fixture(scope="session")
def checked(
    runs: dict[str, StackRun], renderings: dict[str, StackRendering]
) -> dict[str, tuple[StackRendering, list[str]]]:
    """Each stack's rendering and every finding of every check, as the plan checks it."""
    return {name: check_stack(run, renderings[name]) for name, run in runs.items()}


@pytest.fixture(scope="session")
def portal_checked(portal_runs: dict[str, StackRun]) -> dict[str, tuple[StackRendering, list[str]]]:
    """Each portal run rendered with the real helm, and every finding of every check."""
    return {name: check_stack(run) for name, run in portal_runs.items()}


@pytest.fixture(params=["prod", "dr-active"])
def portal_stack(request: pytest.FixtureRequest, portal_runs: dict[str, StackRun]) -> StackRun:
    """A stack whose portal runs: prod, or the dr stack once activated."""
    return portal_runs[request.param]
