"""Helpers to run ``promtool test rules`` on the program's rule groups from Python cases."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.alerts import AlertParameters, RuleGroup, rule_groups, rules_file
from offline.observability import tool

PARAMETERS = AlertParameters(
    database_identifier="tx-prod-postgres",
    database_allocated_storage_gib=100,
    replication_rule_id="backups-to-dr-region",
    watches_primary_edge=True,
)
GROUPS: tuple[RuleGroup, ...] = rule_groups(PARAMETERS)


def require(name: str) -> str:
    """The tool's path; without it the test fails (make test installs it) rather than skips."""
    path = tool(name)
    if path is None:
        pytest.fail(f"{name} is not installed: run `make test` (tools/install-system-packages, tools/install-amtool)")
    return path


def series(name: str, labels: Mapping[str, str]) -> str:
    inner = ", ".join(f'{key}="{value}"' for key, value in sorted(labels.items()))
    return f"{name}{{{inner}}}"


@dataclass(frozen=True)
class Case:
    """Input series, an evaluation time and the alerts expected to fire (labels), if any."""

    name: str
    alertname: str
    eval_time: str
    input_series: Mapping[str, str]
    fires: Sequence[Mapping[str, str]] = ()
    interval: str = "1m"
    evaluation_interval: str = "1m"
    promql: Sequence[Mapping[str, Any]] = field(default_factory=tuple)


def _rule_for(alertname: str, labels: Mapping[str, str]) -> Mapping[str, Any]:
    """The alerting rule named ``alertname`` whose own labels the expected alert carries."""
    matches: list[Mapping[str, Any]] = [
        rule
        for group in GROUPS
        for rule in group.as_dict()["rules"]
        if rule.get("alert") == alertname and all(labels.get(k) == v for k, v in rule["labels"].items())
    ]
    if len(matches) != 1:
        raise LookupError(f"{len(matches)} rules {alertname} match labels {dict(labels)}")
    return matches[0]


def _render(template: str, labels: Mapping[str, str]) -> str:
    """Prometheus' rendering of ``{{ $labels.x }}`` (a missing label renders empty)."""
    return re.sub(r"\{\{ \$labels\.(\w+) \}\}", lambda m: labels.get(m.group(1), ""), template)


def expected_alert(alertname: str, labels: Mapping[str, str]) -> dict[str, Any]:
    rule = _rule_for(alertname, labels)
    return {
        "exp_labels": dict(labels),
        "exp_annotations": {key: _render(value, labels) for key, value in rule["annotations"].items()},
    }


def promtool_test(case: Case) -> dict[str, Any]:
    test: dict[str, Any] = {
        "name": case.name,
        "interval": case.interval,
        "input_series": [{"series": s, "values": v} for s, v in case.input_series.items()],
        "alert_rule_test": [
            {
                "eval_time": case.eval_time,
                "alertname": case.alertname,
                "exp_alerts": [expected_alert(case.alertname, labels) for labels in case.fires],
            }
        ],
    }
    if case.promql:
        test["promql_expr_test"] = list(case.promql)
    return test


def groups_with(alertname: str) -> tuple[RuleGroup, ...]:
    """The groups an alert needs: its own, and the SLO recordings for the burn-rate alerts."""
    return tuple(g for g in GROUPS if any(rule.as_rule().get("alert") == alertname for rule in g.rules))


def _minutes(duration: str) -> int:
    return int(duration[:-1]) * {"m": 1, "h": 60}[duration[-1]]


def run_rule_tests(cases: Sequence[Case], directory: Path) -> subprocess.CompletedProcess[str]:
    """Only the alert's own group is loaded: promtool evaluates every loaded rule at every
    step up to the latest eval time, and the backup cases run for days."""
    promtool = require("promtool")
    (alertname,) = {case.alertname for case in cases}
    (directory / "rules.yaml").write_text(rules_file(groups_with(alertname)))
    document = {
        "rule_files": ["rules.yaml"],
        "evaluation_interval": max((case.evaluation_interval for case in cases), key=_minutes),
        "tests": [promtool_test(case) for case in cases],
    }
    (directory / "tests.yaml").write_text(yaml.safe_dump(document, sort_keys=False, width=200))
    return subprocess.run(
        [promtool, "test", "rules", "tests.yaml"], cwd=directory, capture_output=True, text=True, check=False
    )
