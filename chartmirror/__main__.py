"""``python -m chartmirror push|login --stack <stack>`` (``make mirror-charts`` /
``make chart-login``, README "Charts").

push: fill the stack's ECR repositories (created by ``pulumi up``, components/chart_mirror.py)
with the pinned charts; what is already there is checked, not pushed again.
login: log helm in to the stack's registry for ``pulumi up``, whose Helm releases pull their
charts with the credentials of helm's registry config (pulumi/pulumi-kubernetes#1914).
Both take an ECR authorization token (valid 12 hours) for the identity that runs them, in
the stack's own region (ECR API reference, GetAuthorizationToken).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Any

import boto3
import yaml

from chartmirror.mirror import Helm, MirrorError, ecr_registry, mirror_charts
from components.chart_mirror import ChartMirror
from components.charts import PINNED
from components.settings import name_prefix
from offline.charts import PROJECT_DIR, ChartError, chart_archive, helm

PROJECT = "tractusx-platform"


def stack_target(stack: str, project_dir: Path = PROJECT_DIR) -> tuple[str, str]:
    """The stack's region and the prefix of its chart repositories, from Pulumi.<stack>.yaml."""
    path = project_dir / f"Pulumi.{stack}.yaml"
    if not path.is_file():
        raise MirrorError(f"no stack file {path.name}: stacks are named by their Pulumi.<stack>.yaml")
    config = (yaml.safe_load(path.read_text()) or {}).get("config") or {}
    region, environment = config.get("aws:region"), config.get(f"{PROJECT}:environment")
    if not region or not environment:
        raise MirrorError(f"{path.name} sets no aws:region or {PROJECT}:environment")
    return str(region), name_prefix(str(environment))


def missing_repositories(ecr: Any, names: list[str]) -> list[str]:
    missing = []
    for name in names:
        try:
            ecr.describe_repositories(repositoryNames=[name])
        except ecr.exceptions.RepositoryNotFoundException:
            missing.append(name)
    return missing


def push(stack: str) -> int:
    region, prefix = stack_target(stack)
    ecr = boto3.client("ecr", region_name=region)
    registry = ecr_registry(ecr)
    mirror = ChartMirror(registry.host, prefix)
    missing = missing_repositories(ecr, [mirror.repository_name(chart) for chart in PINNED])
    if missing:
        raise MirrorError(
            f"the stack's chart repositories do not exist yet: {', '.join(missing)}. They are the stack's: "
            f"run `pulumi config set chartSource upstream -s {stack}` and `pulumi up -s {stack}` first "
            '(README "Charts")'
        )
    with tempfile.TemporaryDirectory() as config:
        outcomes = mirror_charts(
            PINNED, mirror.path, Helm(helm(), registry, Path(config) / "registry.json"), chart_archive
        )
    for outcome in outcomes:
        print(f"{outcome.result:8} {outcome.reference}:{outcome.chart.version} sha256:{outcome.sha256}")
    return 0


def login(stack: str) -> int:
    region, _ = stack_target(stack)
    registry = ecr_registry(boto3.client("ecr", region_name=region))
    Helm(helm(), registry, None).login()
    print(f"helm is logged in to {registry.host} for 12 hours: run `pulumi up -s {stack}` within them")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m chartmirror", description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=("push", "login"))
    parser.add_argument("--stack", required=True, help="prod or dr (Pulumi.<stack>.yaml)")
    args = parser.parse_args(argv)
    try:
        return push(args.stack) if args.command == "push" else login(args.stack)
    except (MirrorError, ChartError) as error:
        print(f"chartmirror: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
