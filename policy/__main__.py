"""The platform's policy pack: ``pulumi preview --policy-pack policy``.

Every rule of ``policy/rules.py`` is mandatory. Creating the PolicyPack starts the
policy server and blocks, so the rules live in their own module, where the tests and the
offline plan use them without a server.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyPack,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from policy.rules import RESOURCE_RULES, STACK_RULES, Resource, ResourceRule, StackRule


def _resource_validator(rule: ResourceRule) -> Any:
    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        for violation in rule.check(Resource(type=args.resource_type, name=args.name, props=args.props, urn=args.urn)):
            report_violation(violation, args.urn)

    return validate


def _stack_validator(rule: StackRule) -> Any:
    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        resources = [
            Resource(
                type=r.resource_type,
                name=r.name,
                props=r.props,
                urn=r.urn,
                property_dependencies={key: [d.urn for d in deps] for key, deps in r.property_dependencies.items()},
            )
            for r in args.resources
        ]
        for violation in rule.check(resources):
            report_violation(violation, None)

    return validate


PolicyPack(
    name="tractusx-platform",
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=[
        *(
            ResourceValidationPolicy(name=rule.name, description=rule.description, validate=_resource_validator(rule))
            for rule in RESOURCE_RULES
        ),
        *(
            StackValidationPolicy(name=rule.name, description=rule.description, validate=_stack_validator(rule))
            for rule in STACK_RULES
        ),
    ],
)
