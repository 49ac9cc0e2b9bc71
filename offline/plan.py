"""Offline plan: what each stack would create, with every check, and no cloud credentials.

    python -m offline.plan [--stack prod|dr|all] [--out build/plan]

Writes under ``<out>/<stack>/``: every Kubernetes object of the program as YAML, every
Helm release (chart, version, values) as YAML, the Helm values of every Argo CD
Application (``applications/``), what every chart really renders (``rendered/``), the
connectivity map (``flows.md``, ``flows.dot``, ``flows.svg``) and every other resource's
inputs as JSON; prints a summary (component, resource type,
count) and exits non-zero when settings are invalid or a check fails.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
from collections import Counter
from pathlib import Path

import yaml

from components.settings import PROJECT, SettingsError, example_values
from components.state_backend import layout_examples, read_layout
from offline import observability
from offline.checks import is_kubernetes_object, masked
from offline.connectivity import write_map
from offline.harness import STACKS, RegisteredResource, StackRun, load_stack_config, run_stack
from offline.hosts import records_table
from offline.render import ARGO_CD, StackRendering, write_rendered
from offline.rendered_checks import check_stack, deployed, figures

HELM_RELEASE = "kubernetes:helm.sh/v3:Release"


def _file_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)


def _kubernetes_path(resource: RegisteredResource) -> Path:
    metadata = resource.inputs.get("metadata") or {}
    namespace = metadata.get("namespace", "cluster-scoped")
    kind = resource.inputs.get("kind", resource.type.rsplit(":", 1)[-1])
    return Path("kubernetes") / _file_name(namespace) / f"{kind}-{_file_name(metadata.get('name', resource.name))}.yaml"


def write_plan(run: StackRun, rendering: StackRendering, out: Path) -> tuple[int, int, int]:
    """Writes the plan; returns the connectivity map's figures (flows declared, allowed,
    allowed but undeclared)."""
    target = out / run.stack
    shutil.rmtree(target, ignore_errors=True)
    for resource in run.resources:
        if not resource.custom:
            continue
        inputs = masked(resource.inputs)
        if resource.type == HELM_RELEASE:
            path = Path("helm") / f"{_file_name(resource.name)}.yaml"
            text = yaml.safe_dump(inputs, sort_keys=True)
        elif is_kubernetes_object(resource):
            path = _kubernetes_path(resource)
            text = yaml.safe_dump(inputs, sort_keys=False)
        else:
            module = resource.type.split(":")[1].replace("/", "_")
            path = (
                Path("aws" if resource.type.startswith("aws:") else "other")
                / module
                / f"{_file_name(resource.name)}.json"
            )
            text = json.dumps(
                {"type": resource.type, "name": resource.name, "inputs": inputs}, indent=2, sort_keys=True
            )
        (target / path).parent.mkdir(parents=True, exist_ok=True)
        (target / path).write_text(text + "\n")
    write_applications(rendering, target / "applications")
    write_rendered(rendering, target / "rendered")
    flows = write_map(run, list(deployed(rendering)), target)
    exports = {key: "[secret]" if key in run.secret_exports else value for key, value in run.exports.items()}
    (target / "exports.json").write_text(json.dumps(exports, indent=2, sort_keys=True) + "\n")
    # The alert rules and Alertmanager configuration as promtool and amtool read them.
    observability.write_files(run, target)
    return flows


def write_applications(rendering: StackRendering, target: Path) -> None:
    """The Helm values of every Argo CD Application (``<application>.yaml``), the root's
    and those of the children the root really renders, as each chart receives them."""
    for chart in rendering.charts:
        if chart.source.deployer != ARGO_CD:
            continue
        target.mkdir(parents=True, exist_ok=True)
        (target / f"{_file_name(chart.source.name)}.yaml").write_text(
            yaml.safe_dump(masked(chart.source.values), sort_keys=True)
        )


def _project_config(stack: str) -> tuple[dict[str, str], set[str]]:
    """The stack file's settings of the project, keyed as the program reads them."""
    config, secret_keys = load_stack_config(stack)
    prefix = f"{PROJECT}:"
    raw = {key.removeprefix(prefix): value for key, value in config.items() if key.startswith(prefix)}
    return raw, {key.removeprefix(prefix) for key in secret_keys}


def summary(run: StackRun) -> str:
    counts = Counter((r.component, r.type) for r in run.resources if r.custom)
    width = max(len(t) for _, t in counts) if counts else 10
    lines = [
        f"stack {run.stack}: {sum(counts.values())} resources",
        f"  {'component':<14} {'resource type':<{width}} count",
    ]
    lines += [f"  {component:<14} {type_:<{width}} {count:>5}" for (component, type_), count in sorted(counts.items())]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stack", choices=(*STACKS, "all"), default="all")
    parser.add_argument("--out", type=Path, default=Path("build/plan"))
    args = parser.parse_args(argv)

    # dr reads prod's exports, so prod always runs first.
    stacks = STACKS if args.stack == "all" else tuple(s for s in STACKS if s in (args.stack, "prod"))
    runs: dict[str, StackRun] = {}
    failed = False
    # The program refuses a layout that fails (settings error below); examples are noted here.
    layout_example_values = layout_examples(read_layout())
    if layout_example_values:
        print(
            "state and secrets of both stacks: notice: example values, refused by pulumi preview and up: "
            + "; ".join(layout_example_values)
            + "\n"
        )
    for stack in stacks:
        try:
            runs[stack] = run_stack(stack, references=runs)
        except SettingsError as error:
            print(f"stack {stack}: {error}", file=sys.stderr)
            return 2
        if args.stack not in ("all", stack):
            continue
        rendering, findings = check_stack(runs[stack])
        declared, allowed, extra = write_plan(runs[stack], rendering, args.out)
        print(summary(runs[stack]))
        print(f"  {figures(rendering)}")
        print(f"  flows: {declared} declared by the components, {allowed} allowed, {extra} allowed but undeclared")
        records = records_table(runs[stack].exports)
        if records:
            print(f"  DNS: no hosted zone (dns.hostedZoneId); create these records: {'; '.join(records)}")
        examples = example_values(*_project_config(stack))
        if examples:
            print(f"  notice: example values, refused by pulumi preview and up: {'; '.join(examples)}")
        for finding in findings:
            print(f"  CHECK FAILED {finding}", file=sys.stderr)
        failed = failed or bool(findings)
        missing = [tool for tool, present in observability.tools_present().items() if not present]
        if missing:
            print(f"  not checked: {', '.join(missing)} not installed (make test installs them)")
        print(f"  checks: {'FAILED' if findings else 'all passed'}; plan written to {args.out / stack}\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
