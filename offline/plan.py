"""Offline plan: what each stack would create, with every check, and no cloud credentials.

    python -m offline.plan [--stack prod|dr|all] [--out build/plan]

Writes every Kubernetes object as YAML, every Helm release (chart, version, values) as
YAML, the root Argo CD Application and each of its children's Helm values as YAML
(``applications/``) and every other resource's inputs as JSON under ``<out>/<stack>/``, prints a summary
(component, resource type, count) and exits non-zero when settings are invalid or a
check fails.
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

from components.settings import SettingsError
from offline import observability
from offline.applications import render_children
from offline.checks import is_kubernetes_object, masked, root_applications, run_checks
from offline.harness import STACKS, RegisteredResource, StackRun, run_stack

HELM_RELEASE = "kubernetes:helm.sh/v3:Release"


def _file_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)


def _kubernetes_path(resource: RegisteredResource) -> Path:
    metadata = resource.inputs.get("metadata") or {}
    namespace = metadata.get("namespace", "cluster-scoped")
    kind = resource.inputs.get("kind", resource.type.rsplit(":", 1)[-1])
    return Path("kubernetes") / _file_name(namespace) / f"{kind}-{_file_name(metadata.get('name', resource.name))}.yaml"


def write_plan(run: StackRun, out: Path) -> None:
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
    write_applications(run, target / "applications")
    exports = {key: "[secret]" if key in run.secret_exports else value for key, value in run.exports.items()}
    (target / "exports.json").write_text(json.dumps(exports, indent=2, sort_keys=True) + "\n")
    # The alert rules and Alertmanager configuration as promtool and amtool read them.
    observability.write_files(run, target)


def write_applications(run: StackRun, target: Path) -> None:
    """The root Application's manifest (``<root>.yaml``) and each child's Helm values
    (``<child>.yaml``), as the chart of each child would receive them."""
    for root in root_applications(run):
        manifest = masked(root.inputs)
        target.mkdir(parents=True, exist_ok=True)
        name = manifest["metadata"]["name"]
        (target / f"{_file_name(name)}.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False))
        for child, application in render_children(manifest).items():
            values = application["spec"]["source"]["helm"].get("valuesObject") or {}
            (target / f"{_file_name(child)}.yaml").write_text(yaml.safe_dump(values, sort_keys=True))


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
    for stack in stacks:
        try:
            runs[stack] = run_stack(stack, references=runs)
        except SettingsError as error:
            print(f"stack {stack}: {error}", file=sys.stderr)
            return 2
        if args.stack not in ("all", stack):
            continue
        write_plan(runs[stack], args.out)
        print(summary(runs[stack]))
        findings = run_checks(runs[stack])
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
