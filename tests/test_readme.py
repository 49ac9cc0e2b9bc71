"""The README's deployment checklist names what exists: the stack outputs it tells the
operator to read and the modules it points to."""

from __future__ import annotations

import re
from pathlib import Path

from offline.harness import StackRun

README = Path(__file__).resolve().parents[1] / "README.md"


def test_every_stack_output_the_readme_reads_exists(prod: StackRun, dr: StackRun) -> None:
    outputs = set(re.findall(r"pulumi\s+stack\s+output\s+(\w+)", README.read_text()))
    assert {"dnsRecords", "servedHosts", "ingressHostname"} <= outputs
    assert outputs <= set(prod.exports) | set(dr.exports), outputs - set(prod.exports) - set(dr.exports)


def test_every_module_the_readme_names_exists() -> None:
    root = README.parent
    paths = set(re.findall(r"`((?:components|offline|txbackup|tools|tests)/[\w/.-]+\.py)`", README.read_text()))
    assert "components/state_backend.py" in paths and "components/eks_addons.py" in paths
    assert sorted(p for p in paths if not (root / p).exists()) == []
