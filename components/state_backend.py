"""Where the two stacks keep their state and their secrets key, read from the files Pulumi
records them in, so that the dr stack can be updated while prod's region is down.

Pulumi records the state backend in the project file (``Pulumi.yaml``, ``backend: url:``;
the pinned SDK's ``pulumi.automation.ProjectBackend``) and each stack's secrets provider in
its stack file (``Pulumi.<stack>.yaml``, top-level ``secretsprovider:``, with the
``encryptedkey:`` that ``pulumi stack init`` writes beside it; the pinned SDK's
``pulumi.automation.StackSettings``; https://www.pulumi.com/docs/iac/concepts/projects/stack-settings-file/).

Why one multi-Region key. A stack with the ``awskms`` provider keeps a random data key,
encrypted by KMS (``encryptedkey``), and encrypts its secrets with it; the CLI gets the data
key back with ``kms:Decrypt`` in the region the provider URL names (pulumi/pulumi
``pkg/secrets/cloud/manager.go``: ``gosecrets.OpenKeeper(url)`` then ``keeper.Decrypt``;
gocloud.dev ``secrets/awskms``: the URL is ``awskms://<key id, alias or ARN>?region=<region>``
and ``Decrypt`` sends only the ciphertext to that region's KMS). A StackReference is read
the same way: the referencing CLI rebuilds the referenced stack's secrets manager from the
referenced stack's state (``pkg/resource/stack/secrets.go``, ``OfType`` ->
``NewCloudSecretsManagerFromState``), so whoever runs dr needs ``kms:Decrypt`` on prod's key
(pulumi/pulumi#11109 shows the error otherwise). A KMS multi-Region key and its replica share
key id (``mrk-...``) and key material, so a ciphertext of one is decrypted by the other in
its own region (AWS KMS Developer Guide, "How multi-Region keys work"; ``ReplicateKey``):
prod names the key in prod's region, dr the replica in dr's region, and dr's own state and
config decrypt without prod's region.

What the files cannot say, and this module does not check: whether the bucket is versioned
and replicated, whether ``?region=`` is the bucket's real region, whether the replica exists
and its key policy admits the deployers, and that prod's *state* records the URL of prod's
stack file (a reference to prod during prod's outage needs that URL pointed at the replica;
README "State and secrets").
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pulumi
import yaml

from components.settings import SettingsError

PROJECT_DIR = Path(__file__).resolve().parent.parent
PRIMARY, DR = "prod", "dr"
PULUMI_CLOUD = "https://api.pulumi.com"
# The multi-Region key of AWS KMS documentation's examples; nobody's key.
EXAMPLE_KEY_ID = "mrk-1234abcd12ab34cd56ef1234567890ab"
# The account id of AWS documentation's examples.
EXAMPLE_ACCOUNT = "111122223333"
# S3 reserves this prefix for documentation: no bucket can be created with it (S3 User
# Guide, "General purpose bucket naming rules").
EXAMPLE_BUCKET_PREFIX = "amzn-s3-demo-"

_KEY_ARN = re.compile(r"^arn:aws[a-z-]*:kms:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):key/(?P<key_id>.+)$")


@dataclass(frozen=True)
class KmsKey:
    """An ``awskms://`` secrets provider URL, taken apart."""

    url: str
    key_id: str
    region: str | None
    account: str | None


@dataclass(frozen=True)
class StackFile:
    """What a ``Pulumi.<stack>.yaml`` records about the stack's secrets and region."""

    stack: str
    secrets_provider: str | None
    region: str | None


@dataclass(frozen=True)
class Layout:
    backend_url: str | None
    primary: StackFile
    dr: StackFile


def kms_key(url: str) -> KmsKey | None:
    """The key an ``awskms://`` URL names (key id, alias or key ARN), or None for another provider."""
    parts = urlsplit(url)
    if parts.scheme != "awskms":
        return None
    # gocloud.dev joins host and path into the key id; an ARN, which holds ':', is written
    # as awskms:///arn:aws:kms:... (empty host).
    key = f"{parts.netloc}{parts.path}".lstrip("/")
    region = _region(parts.query)
    arn = _KEY_ARN.match(key)
    if arn:
        return KmsKey(url, arn["key_id"], region or arn["region"], arn["account"])
    return KmsKey(url, key, region, None)


def _yaml(path: Path) -> Mapping[str, Any]:
    document = yaml.safe_load(path.read_text()) if path.exists() else None
    return document if isinstance(document, Mapping) else {}


def _stack_file(project_dir: Path, stack: str) -> StackFile:
    document = _yaml(project_dir / f"Pulumi.{stack}.yaml")
    config = document.get("config") or {}
    return StackFile(stack, document.get("secretsprovider"), config.get("aws:region"))


def read_layout(project_dir: Path | None = None) -> Layout:
    """The backend and both stacks' secrets providers, as Pulumi records them."""
    project_dir = project_dir or PROJECT_DIR
    backend = _yaml(project_dir / "Pulumi.yaml").get("backend") or {}
    return Layout(backend.get("url"), _stack_file(project_dir, PRIMARY), _stack_file(project_dir, DR))


def _region(query: str) -> str | None:
    values = parse_qs(query).get("region")
    return values[0] if values else None


def _backend_problem(url: str | None, primary_region: str | None) -> str | None:
    if not url:
        return (
            "Pulumi.yaml declares no backend.url: the state goes wherever each deployer is logged in; "
            f"declare an s3://<bucket>?region=<region other than prod's> or {PULUMI_CLOUD}"
        )
    parts = urlsplit(url)
    region = _region(parts.query)
    if url.rstrip("/") == PULUMI_CLOUD:
        problem = None
    elif parts.scheme == "file":
        problem = "keeps the state on one machine; neither stack can be updated from anywhere else"
    elif parts.scheme != "s3":
        problem = f"use s3://<bucket>?region=<region> or {PULUMI_CLOUD}"
    elif region is None:
        problem = "names no region (?region=): the bucket's region cannot be checked"
    elif region == primary_region:
        problem = (
            f"the state bucket is in prod's region ({region}); during prod's regional outage the dr stack "
            "cannot be updated"
        )
    else:
        problem = None
    return f"backend.url {url}: {problem}" if problem else None


def _key_findings(stack: StackFile) -> tuple[list[str], KmsKey | None]:
    prefix = f"Pulumi.{stack.stack}.yaml secretsprovider"
    if not stack.secrets_provider or stack.secrets_provider == "default":
        return [f"{prefix} is not set: the stack would get the backend's default (a passphrase, self-managed)"], None
    if stack.secrets_provider == "passphrase":
        return [
            f"{prefix} is a passphrase: every deployer of dr must hold prod's passphrase, and nothing "
            "but that passphrase protects the secrets"
        ], None
    key = kms_key(stack.secrets_provider)
    if key is None:
        return [f"{prefix} {stack.secrets_provider}: use awskms://<multi-Region key id>?region=<region>"], None
    problems = []
    if not key.key_id.startswith("mrk-"):
        problems.append(
            f"{prefix} {key.url}: {key.key_id} is not a multi-Region key id (mrk-...); "
            "an alias or single-Region key cannot be decrypted in the other region"
        )
    if key.region is None:
        problems.append(f"{prefix} {key.url} names no region (?region= or the key ARN)")
    return problems, key


def layout_findings(layout: Layout) -> list[str]:
    """Every way the layout fails to let both stacks share one secrets key and survive prod's region."""
    backend_problem = _backend_problem(layout.backend_url, layout.primary.region)
    findings = [backend_problem] if backend_problem else []
    primary_problems, primary_key = _key_findings(layout.primary)
    dr_problems, dr_key = _key_findings(layout.dr)
    findings += primary_problems + dr_problems
    if primary_key is None or dr_key is None:
        return findings
    same_key = primary_key.key_id == dr_key.key_id and (
        primary_key.account is None or dr_key.account is None or primary_key.account == dr_key.account
    )
    if not same_key:
        findings.append(
            f"prod's secrets key ({primary_key.url}) and dr's ({dr_key.url}) are not the same multi-Region key: "
            "dr cannot decrypt prod's secret outputs"
        )
    if dr_key.region is not None and dr_key.region == layout.primary.region:
        findings.append(
            f"Pulumi.dr.yaml secretsprovider {dr_key.url} uses the key in prod's region ({dr_key.region}): "
            "name the replica in dr's region"
        )
    return findings


def layout_examples(layout: Layout) -> list[str]:
    """The layout's values that are documentation examples, to replace before a deployment."""
    examples = []
    bucket = urlsplit(layout.backend_url or "").netloc
    if bucket.startswith(EXAMPLE_BUCKET_PREFIX):
        examples.append(f"backend.url: {layout.backend_url}")
    for stack in (layout.primary, layout.dr):
        key = kms_key(stack.secrets_provider or "")
        if key is not None and (key.key_id == EXAMPLE_KEY_ID or key.account == EXAMPLE_ACCOUNT):
            examples.append(f"Pulumi.{stack.stack}.yaml secretsprovider: {key.url}")
    return examples


def refuse_unsafe_layout(offline: bool, project_dir: Path | None = None) -> None:
    """Stops the program on a layout that fails; a deployment (preview or up) also on example
    values, which the offline plan, deploying nothing, only warns about."""
    layout = read_layout(project_dir)
    findings = layout_findings(layout)
    examples = layout_examples(layout)
    if offline and examples:
        pulumi.log.warn("state and secrets, example values to replace before a deployment:\n  " + "\n  ".join(examples))
    problems = findings + ([] if offline else [f"{line} is an example value; set your own" for line in examples])
    if problems:
        raise SettingsError([f"state and secrets (README 'State and secrets'): {problem}" for problem in problems])
