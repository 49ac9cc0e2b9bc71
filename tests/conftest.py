"""Shared fixtures: each stack run once under the harness, as the offline plan runs it."""

from __future__ import annotations

import json
from typing import Any

import pytest

from offline.harness import StackRun, run_stacks


@pytest.fixture(scope="session")
def runs() -> dict[str, StackRun]:
    return run_stacks()


@pytest.fixture(scope="session")
def prod(runs: dict[str, StackRun]) -> StackRun:
    return runs["prod"]


@pytest.fixture(scope="session")
def dr(runs: dict[str, StackRun]) -> StackRun:
    return runs["dr"]


@pytest.fixture(params=["prod", "dr"])
def stack(request: pytest.FixtureRequest, runs: dict[str, StackRun]) -> StackRun:
    return runs[request.param]


def policy(document: Any) -> dict[str, Any]:
    """An IAM or KMS policy document as a dict, whether given as JSON text or not."""
    return json.loads(document) if isinstance(document, str) else dict(document)
