"""Whether each IAM role for a service account (IRSA) trusts the account that uses it.

A pod gets AWS credentials through IRSA when its ServiceAccount carries the annotation
``eks.amazonaws.com/role-arn``: the EKS Pod Identity webhook mounts a token for that
account, and STS's AssumeRoleWithWebIdentity grants the role only if its trust policy
admits the token's subject ``system:serviceaccount:<namespace>:<name>`` (Amazon EKS User
Guide, "IAM roles for service accounts", "Assign IAM roles to Kubernetes service
accounts"). The program writes the subject (components/iam.py ``irsa_trust_policy``) and a
chart renders the account: a chart that names its account differently, or a role written
for another account, leaves the pod without credentials, found only when it first calls
AWS. This check compares the rendered accounts with the stack's roles.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from offline.checks import plain
from offline.harness import MOCK_ACCOUNT_ID, StackRun
from offline.render import Placed

ROLE = "aws:iam/role:Role"
ROLE_ARN_ANNOTATION = "eks.amazonaws.com/role-arn"


def _subjects(trust_policy: Any) -> set[str]:
    """The service-account subjects a trust policy admits to AssumeRoleWithWebIdentity."""
    document = json.loads(trust_policy) if isinstance(trust_policy, str) else plain(trust_policy)
    subjects: set[str] = set()
    for statement in document.get("Statement") or []:
        if statement.get("Effect") != "Allow" or statement.get("Action") != "sts:AssumeRoleWithWebIdentity":
            continue
        for operator, conditions in (statement.get("Condition") or {}).items():
            if operator not in ("StringEquals", "StringLike"):
                continue
            for key, value in conditions.items():
                if key.endswith(":sub"):
                    subjects.update([value] if isinstance(value, str) else value)
    return subjects


def _annotated_accounts(objects: Iterable[Placed]) -> Iterator[tuple[Placed, str]]:
    for placed in objects:
        metadata: Mapping[str, Any] = placed.obj.get("metadata") or {}
        role_arn = (metadata.get("annotations") or {}).get(ROLE_ARN_ANNOTATION)
        if placed.obj.get("kind") == "ServiceAccount" and role_arn:
            yield placed, str(role_arn)


def irsa_findings(run: StackRun, objects: Iterable[Placed]) -> list[str]:
    """Every ServiceAccount annotated with a role whose trust policy does not admit it, or
    with a role the stack does not create. Under the harness a role's ARN ends in its
    resource name (offline/harness.py ``new_resource``)."""
    roles = {f"arn:aws:iam::{MOCK_ACCOUNT_ID}:role/{role.name}": role for role in run.of_type(ROLE)}
    findings = []
    for placed, role_arn in _annotated_accounts(objects):
        metadata = placed.obj["metadata"]
        account = f"{metadata.get('namespace') or placed.namespace}/{metadata['name']}"
        role = roles.get(role_arn)
        if role is None:
            findings.append(f"{placed.origin}: ServiceAccount {account}: {role_arn} is no role of the stack")
            continue
        admitted = _subjects(role.inputs.get("assumeRolePolicy"))
        if f"system:serviceaccount:{account.replace('/', ':')}" not in admitted:
            findings.append(
                f"{placed.origin}: ServiceAccount {account} uses role {role.name}, whose trust policy admits "
                f"{sorted(admitted) or 'no service account'}: AssumeRoleWithWebIdentity is denied"
            )
    return findings
