"""The alert rules and the Alertmanager configuration a stack would deploy, checked by
the real tools: ``promtool check rules``, ``amtool check-config`` and
``amtool config routes test`` (promtool from Debian's prometheus package; amtool 0.28
from tools/install-amtool: Debian 12's 0.25 refuses ``url_file``, which the configuration
uses and the chart's Alertmanager v0.34 reads).

Without the tools (a machine where ``make test`` has not installed them) the checks
report nothing and the plan says so; the test suite requires them.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from components.alerting import CONFIG_KEY, CONFIG_SECRET, EMAIL, HEARTBEAT, NULL, PAGERDUTY, SLACK
from offline.harness import StackRun

PROMETHEUS_RULE = "kubernetes:monitoring.coreos.com/v1:PrometheusRule"
SECRET = "kubernetes:core/v1:Secret"
RULES_FILE = "prometheus-rules.yaml"
ALERTMANAGER_FILE = "alertmanager.yaml"
# The pinned amtool (tools/install-amtool), never another on PATH.
INSTALLED_AMTOOL = Path(__file__).resolve().parent.parent / ".venv" / "bin" / "amtool"

# Playbook "Alerting Channels": where each severity must arrive.
EXPECTED_ROUTES: Mapping[str, tuple[str, ...]] = {
    "critical": (PAGERDUTY, EMAIL),
    "warning": (SLACK, EMAIL),
}
# The always-firing alerts reach no human channel: Watchdog only the external heartbeat
# (nobody, on a stack without one), InfoInhibitor nobody.
ALWAYS_FIRING_ROUTES: Mapping[str, tuple[tuple[str, ...], ...]] = {
    "Watchdog": ((HEARTBEAT,), (NULL,)),
    "InfoInhibitor": ((NULL,),),
}


def _plain(value: Any) -> Any:
    # offline.checks lists these checks, so it is imported when they run, not before.
    from offline.checks import plain

    return plain(value)


def rules_document(run: StackRun) -> dict[str, Any] | None:
    """Every PrometheusRule group of the stack, as one Prometheus rule file."""
    resources = run.of_type(PROMETHEUS_RULE)
    if not resources:
        return None
    groups: list[Any] = []
    for resource in resources:
        groups += _plain(resource.inputs)["spec"]["groups"]
    return {"groups": groups}


def alertmanager_text(run: StackRun) -> str | None:
    for resource in run.of_type(SECRET):
        manifest = _plain(resource.inputs)
        if manifest.get("metadata", {}).get("name") == CONFIG_SECRET:
            return str(manifest["stringData"][CONFIG_KEY])
    return None


def write_files(run: StackRun, target: Path) -> None:
    rules = rules_document(run)
    if rules is not None:
        (target / RULES_FILE).write_text(yaml.safe_dump(rules, sort_keys=False, width=200))
    config = alertmanager_text(run)
    if config is not None:
        (target / ALERTMANAGER_FILE).write_text(config)


def tool(name: str) -> str | None:
    """The path of ``promtool`` or ``amtool`` as the checks run it, None when it is missing."""
    if name == "amtool":
        return str(INSTALLED_AMTOOL) if INSTALLED_AMTOOL.exists() else None
    return shutil.which(name)


def _run(command: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False, timeout=120)


def alert_rules_pass_promtool(run: StackRun) -> list[str]:
    """``promtool check rules`` accepts the stack's rule groups (syntax, duplicates)."""
    promtool, rules = tool("promtool"), rules_document(run)
    if promtool is None or rules is None:
        return []
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / RULES_FILE
        path.write_text(yaml.safe_dump(rules, sort_keys=False, width=200))
        result = _run([promtool, "check", "rules", str(path)], Path(directory))
    if result.returncode != 0:
        return [f"promtool check rules: {(result.stdout + result.stderr).strip()}"]
    return []


def routes_for(amtool: str, config: Path, labels: Mapping[str, str]) -> tuple[str, ...]:
    """The receivers ``amtool config routes test`` picks for an alert with ``labels``."""
    result = _run(
        [amtool, "config", "routes", "test", f"--config.file={config}", *(f"{k}={v}" for k, v in labels.items())],
        config.parent,
    )
    return tuple(sorted(result.stdout.strip().split(","))) if result.returncode == 0 else ()


def alertmanager_config_passes_amtool(run: StackRun) -> list[str]:
    """``amtool check-config`` accepts the configuration, each severity reaches the
    receivers "Alerting Channels" names, and the always-firing alerts none of them."""
    amtool, config = tool("amtool"), alertmanager_text(run)
    if amtool is None or config is None:
        return []
    findings = []
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / ALERTMANAGER_FILE
        path.write_text(config)
        result = _run([amtool, "check-config", str(path)], Path(directory))
        if result.returncode != 0:
            return [f"amtool check-config: {(result.stdout + result.stderr).strip()}"]
        for severity, receivers in EXPECTED_ROUTES.items():
            got = routes_for(amtool, path, {"alertname": "Probe", "severity": severity})
            if got != tuple(sorted(receivers)):
                findings.append(
                    f"severity={severity} goes to {', '.join(got) or 'nothing'}, not {', '.join(receivers)}"
                )
        for alertname, allowed in ALWAYS_FIRING_ROUTES.items():
            got = routes_for(amtool, path, {"alertname": alertname, "severity": "none"})
            if got not in allowed:
                expected = " or ".join(", ".join(receivers) for receivers in allowed)
                findings.append(f"{alertname} goes to {', '.join(got) or 'nothing'}, not {expected}")
    return findings


def tools_present() -> dict[str, bool]:
    return {name: tool(name) is not None for name in ("promtool", "amtool")}
