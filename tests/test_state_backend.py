"""State backend and secrets provider (README "State and secrets"): both stacks share one KMS
multi-Region key, dr names its replica outside prod's region, and the state lives outside
prod's region, read from Pulumi.yaml and Pulumi.<stack>.yaml as Pulumi records them."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from components import state_backend
from components.settings import SettingsError
from components.state_backend import kms_key, layout_examples, layout_findings, read_layout, refuse_unsafe_layout
from offline import plan
from offline.harness import run_stack

KEY = "mrk-1234abcd12ab34cd56ef1234567890ab"
ACCOUNT = "111122223333"
SHIPPED_EXAMPLES = [
    "backend.url: s3://amzn-s3-demo-tractusx-platform-state?region=eu-west-1",
    f"Pulumi.prod.yaml secretsprovider: awskms://{KEY}?region=eu-central-1",
    f"Pulumi.dr.yaml secretsprovider: awskms://{KEY}?region=eu-west-1",
]

Edit = Callable[[dict[str, Any]], None]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the shipped project and stack files."""
    for name in ("Pulumi.yaml", "Pulumi.prod.yaml", "Pulumi.dr.yaml"):
        shutil.copy(state_backend.PROJECT_DIR / name, tmp_path / name)
    return tmp_path


def _edit(project: Path, name: str, edit: Edit) -> None:
    path = project / name
    document = yaml.safe_load(path.read_text())
    edit(document)
    path.write_text(yaml.safe_dump(document))


def _set(key: str, value: Any) -> Edit:
    return lambda document: document.__setitem__(key, value)


def _drop(key: str) -> Edit:
    return lambda document: document.pop(key)


def test_the_shipped_files_pass_with_their_example_values_named() -> None:
    layout = read_layout()
    assert layout.backend_url == "s3://amzn-s3-demo-tractusx-platform-state?region=eu-west-1"
    assert (layout.primary.region, layout.dr.region) == ("eu-central-1", "eu-west-1")
    assert layout_findings(layout) == []
    assert layout_examples(layout) == SHIPPED_EXAMPLES


PROD, DR, PROJECT = "Pulumi.prod.yaml", "Pulumi.dr.yaml", "Pulumi.yaml"
PROVIDER = "secretsprovider"

# case: (the edits to the shipped files, a fragment of each finding in order)
BROKEN: dict[str, tuple[list[tuple[str, Edit]], list[str]]] = {
    "prod without a secrets provider": ([(PROD, _drop(PROVIDER))], ["Pulumi.prod.yaml secretsprovider is not set"]),
    "dr on the default provider": ([(DR, _set(PROVIDER, "default"))], ["Pulumi.dr.yaml secretsprovider is not set"]),
    "a passphrase": ([(DR, _set(PROVIDER, "passphrase"))], ["Pulumi.dr.yaml secretsprovider is a passphrase"]),
    "another cloud's key": (
        [(PROD, _set(PROVIDER, "gcpkms://projects/p/locations/l/keyRings/r/cryptoKeys/k"))],
        ["use awskms://<multi-Region key id>?region=<region>"],
    ),
    "a single-Region key": (
        [(PROD, _set(PROVIDER, "awskms://1234abcd-12ab-34cd-56ef-1234567890ab?region=eu-central-1"))],
        ["1234abcd-12ab-34cd-56ef-1234567890ab is not a multi-Region key id", "are not the same multi-Region key"],
    ),
    "an alias": (
        [(DR, _set(PROVIDER, "awskms://alias/tractusx-state?region=eu-west-1"))],
        ["alias/tractusx-state is not a multi-Region key id", "are not the same multi-Region key"],
    ),
    "a key with no region": (
        [(DR, _set(PROVIDER, f"awskms://{KEY}"))],
        [f"Pulumi.dr.yaml secretsprovider awskms://{KEY} names no region"],
    ),
    "two different keys": (
        [(DR, _set(PROVIDER, "awskms://mrk-0000abcd12ab34cd56ef1234567890ab?region=eu-west-1"))],
        ["are not the same multi-Region key"],
    ),
    "the same key id in two accounts": (
        [
            (PROD, _set(PROVIDER, f"awskms:///arn:aws:kms:eu-central-1:{ACCOUNT}:key/{KEY}")),
            (DR, _set(PROVIDER, f"awskms:///arn:aws:kms:eu-west-1:444455556666:key/{KEY}")),
        ],
        ["are not the same multi-Region key"],
    ),
    "dr's key in prod's region": (
        [(DR, _set(PROVIDER, f"awskms://{KEY}?region=eu-central-1"))],
        ["uses the key in prod's region (eu-central-1)"],
    ),
    "no backend": ([(PROJECT, _drop("backend"))], ["Pulumi.yaml declares no backend.url"]),
    "a local backend": (
        [(PROJECT, _set("backend", {"url": "file://~/.pulumi-state"}))],
        ["keeps the state on one machine"],
    ),
    "a state bucket in prod's region": (
        [(PROJECT, _set("backend", {"url": "s3://tractusx-state?region=eu-central-1"}))],
        ["the state bucket is in prod's region (eu-central-1)"],
    ),
    "a state bucket with no region": (
        [(PROJECT, _set("backend", {"url": "s3://tractusx-state"}))],
        ["names no region (?region=)"],
    ),
    "another kind of backend": (
        [(PROJECT, _set("backend", {"url": "gs://tractusx-state"}))],
        ["backend.url gs://tractusx-state: use s3://"],
    ),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_each_broken_layout_is_reported(project: Path, case: str) -> None:
    edits, expected = BROKEN[case]
    for name, edit in edits:
        _edit(project, name, edit)
    findings = layout_findings(read_layout(project))
    assert len(findings) == len(expected), findings
    for fragment, finding in zip(expected, findings, strict=True):
        assert fragment in finding


@pytest.mark.parametrize(
    ("name", "edit"),
    [
        (PROJECT, _set("backend", {"url": "https://api.pulumi.com"})),
        (PROJECT, _set("backend", {"url": "s3://tractusx-state?region=eu-north-1"})),
        (PROD, _set(PROVIDER, f"awskms:///arn:aws:kms:eu-central-1:{ACCOUNT}:key/{KEY}")),
    ],
)
def test_other_supported_layouts_pass(project: Path, name: str, edit: Edit) -> None:
    _edit(project, name, edit)
    assert layout_findings(read_layout(project)) == []


def test_a_key_arn_gives_key_id_region_and_account() -> None:
    key = kms_key(f"awskms:///arn:aws:kms:eu-west-1:444455556666:key/{KEY}")
    assert key is not None
    assert (key.key_id, key.region, key.account) == (KEY, "eu-west-1", "444455556666")
    assert kms_key("passphrase") is None


def test_a_deployment_refuses_the_example_values_and_lists_every_one(project: Path) -> None:
    with pytest.raises(SettingsError) as refused:
        refuse_unsafe_layout(offline=False, project_dir=project)
    assert refused.value.problems == [
        f"state and secrets (README 'State and secrets'): {line} is an example value; set your own"
        for line in SHIPPED_EXAMPLES
    ]
    refuse_unsafe_layout(offline=True, project_dir=project)  # the offline plan only notes them


def test_the_offline_plan_refuses_a_broken_layout(project: Path) -> None:
    _edit(project, PROJECT, _set("backend", {"url": "file://~/.pulumi-state"}))
    with pytest.raises(SettingsError, match="keeps the state on one machine"):
        refuse_unsafe_layout(offline=True, project_dir=project)


def test_the_program_checks_the_layout_before_it_builds_anything(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _edit(project, DR, _set(PROVIDER, "passphrase"))
    monkeypatch.setattr(state_backend, "PROJECT_DIR", project)
    with pytest.raises(SettingsError, match=r"Pulumi\.dr\.yaml secretsprovider is a passphrase"):
        run_stack("prod")


def test_the_plan_notes_the_example_values(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def stop(stack: str, **kwargs: object) -> None:
        raise SettingsError(["stopped after the notice"])

    monkeypatch.setattr(plan, "run_stack", stop)
    assert plan.main(["--stack", "prod", "--out", str(tmp_path)]) == 2
    assert (
        "state and secrets of both stacks: notice: example values, refused by pulumi preview and up: "
        + "; ".join(SHIPPED_EXAMPLES)
    ) in capsys.readouterr().out
