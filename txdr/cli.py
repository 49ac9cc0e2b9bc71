"""``python3 -m txdr activate``: activates the dr stack (README, "Disaster recovery").

Run from the program's checkout (the Pulumi project), with the dr deployers' AWS
credentials and the Pulumi CLI logged in to the state backend. Exit status: 0 activated,
1 a step's check failed (the timeline names it and what to do; run the same command again
once it is fixed), 2 bad usage.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import boto3
from botocore.config import Config

from chartmirror.mirror import Helm, MirrorError, ecr_registry
from offline.charts import ChartError, helm
from txdr import activation, eks
from txdr.errors import ActivationError
from txdr.pulumi_cli import PulumiCli

AWS_CONFIG = Config(retries={"max_attempts": 8, "mode": "standard"}, connect_timeout=10, read_timeout=60)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="txdr", description=__doc__.splitlines()[0] if __doc__ else None)
    commands = parser.add_subparsers(dest="command", required=True)
    activate = commands.add_parser("activate", help="promote the dr stack and make it serve, step by step, timed")
    activate.add_argument("--stack", default="dr", help="the dr stack (default: dr)")
    activate.add_argument(
        "--primary-fenced",
        action="store_true",
        help="confirm that prod's applications can no longer write to prod's database (required)",
    )
    activate.add_argument(
        "--primary-region-down",
        action="store_true",
        help="prod's region is unreachable: point prod's state at the secrets key's replica in dr's region first",
    )
    activate.add_argument("--timeline", type=Path, help="also write the timeline as JSON to this file")
    activate.add_argument("--pulumi", default="pulumi", help="the Pulumi CLI to run (default: pulumi on PATH)")
    return parser


def login_charts(ctx: activation.Context) -> str:
    """helm logged in to the stack's chart copy in dr's ECR, as `make chart-login` does."""
    registry = ecr_registry(ctx.client("ecr"))
    try:
        Helm(helm(), registry, None).login()
    except (MirrorError, ChartError) as error:
        raise ActivationError(str(error)) from None
    return f"helm logged in to {registry.host} for 12 hours"


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(message)s", force=True)
    pulumi = PulumiCli(args.stack, executable=args.pulumi)
    with tempfile.TemporaryDirectory(prefix="txdr-") as work:
        ctx = activation.Context(
            pulumi=pulumi,
            aws=lambda service, region: boto3.client(service, region_name=region, config=AWS_CONFIG),
            kube=lambda ctx: eks.cluster_client(
                ctx.client("eks"), ctx.client("sts"), str(ctx.output("clusterName")), Path(work)
            ),
            chart_login=login_charts,
            edge=activation.Edge(resolve=activation.resolve),
            work_dir=Path(work),
            primary_fenced=args.primary_fenced,
            primary_region_down=args.primary_region_down,
        )
        succeeded, timeline = activation.activate(ctx, lambda line: print(line, flush=True))
    print(timeline.render())
    if args.timeline:
        activation.write_timeline(timeline, args.timeline)
    return 0 if succeeded else 1
