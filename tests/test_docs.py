"""The docs stay true to the program: the detection alerts of disaster recovery have their
runbook pages, and links between the docs resolve."""

from __future__ import annotations

import re
from pathlib import Path

from offline.harness import StackRun
from offline.observability import rules_document

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
RUNBOOKS = DOCS / "runbooks"
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


def test_the_detection_alerts_of_disaster_recovery_have_their_runbook_pages(dr: StackRun) -> None:
    rules = [rule for group in (rules_document(dr) or {})["groups"] for rule in group["rules"]]
    detection = {"PrimaryEdgeDown", "DatabaseReplicaLag"}
    slugs = {rule["annotations"]["runbook_url"].rsplit("/", 1)[-1] for rule in rules if rule.get("alert") in detection}
    assert len(slugs) == len(detection)
    # The pages of the pages that do not come from Prometheus: the us-east-1 alarm, the
    # heartbeat service, and the activation they lead to.
    for slug in [*sorted(slugs), "edge-health-check", "watchdog-heartbeat", "dr-activation"]:
        assert (RUNBOOKS / f"{slug}.md").is_file(), f"docs/runbooks/{slug}.md is missing"


def test_links_between_the_docs_resolve() -> None:
    broken = []
    for page in [ROOT / "README.md", *DOCS.rglob("*.md")]:
        for target in LINK.findall(page.read_text()):
            if re.match(r"[a-z]+://", target) or target.startswith("mailto:"):
                continue
            if not (page.parent / target).resolve().exists():
                broken.append(f"{page.relative_to(ROOT)} -> {target}")
    assert broken == []
