"""The RTO and RPO derivation (docs/recovery-objectives.md) stays true to the plan: the
figures the plan decides are read from it, the document is regenerated from them, and the
targets (playbook "Disaster Recovery": RTO 30 minutes; database RPO 5 minutes) hold."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from offline import recovery_objectives
from offline.harness import StackRun
from offline.recovery_objectives import Derivation, Facts, derive, facts_from

DOCUMENT = Path(__file__).resolve().parent.parent / "docs" / "recovery-objectives.md"


@pytest.fixture(scope="module")
def derivation(prod_with_zone: StackRun, with_zone: StackRun) -> Derivation:
    """What `make recovery-objectives` derives (offline.recovery_objectives.derivation_of_the_plan),
    from the same runs the other tests read."""
    return derive(facts_from(prod_with_zone, with_zone))


def test_the_figures_the_plan_decides_are_read_from_it(derivation: Derivation) -> None:
    assert derivation.facts == Facts(
        health_check_interval=10,
        health_check_failures=3,
        health_alarm_period=60,
        health_alarm_periods=1,
        edge_probe_interval=30,
        edge_down_for=180,
        group_wait=30,
        replica_lag_warning=60,
        replica_lag_page=300,
        replica_lag_for=120,
        lag_read_interval=60,
        vault_snapshot_every=900,
        vault_snapshot_alert=1500,
        backup_window="00:30-01:30",
    )


def test_the_derivation_document_is_the_plans(derivation: Derivation) -> None:
    assert DOCUMENT.read_text() == recovery_objectives.markdown(derivation), (
        "docs/recovery-objectives.md is stale: python3 -m offline.recovery_objectives --out docs/recovery-objectives.md"
    )


def test_the_design_meets_the_rto_and_the_database_rpo(derivation: Derivation) -> None:
    assert derivation.problems() == []
    assert derivation.total("typical") <= recovery_objectives.RTO_TARGET_MINUTES
    assert derivation.database_rpo.typical <= recovery_objectives.DATABASE_RPO_TARGET_MINUTES
    # Detection pages from outside prod's region within minutes, by either path.
    assert all(row.worst <= 5 for row in derivation.detection)


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"replica_lag_warning": 600}, "typical database RPO 10.0 min > 5 min"),
        ({"health_alarm_period": 900, "edge_down_for": 1800}, "typical RTO"),
    ],
)
def test_slower_detection_or_a_later_lag_warning_misses_the_targets(
    derivation: Derivation, change: dict[str, int], problem: str
) -> None:
    slower = derive(dataclasses.replace(derivation.facts, **change))  # type: ignore[arg-type]
    assert any(found.startswith(problem) for found in slower.problems()), slower.problems()


def test_the_lag_is_read_as_often_as_rds_publishes_it(derivation: Derivation) -> None:
    # At the exporter's and Prometheus's defaults (300 s each) a lag reaches the page
    # minutes later: the worst database RPO grows by the difference.
    slow = derive(dataclasses.replace(derivation.facts, lag_read_interval=300))
    assert slow.database_rpo.worst - derivation.database_rpo.worst == pytest.approx(4.0)
