"""Generated secrets: random passwords that rotate when ``secretRotation`` is raised."""

from __future__ import annotations

import pulumi
import pulumi_random as random

PASSWORD_LENGTH = 32


def generated_password(
    name: str, rotation: int, parent: pulumi.Resource, length: int = PASSWORD_LENGTH
) -> pulumi.Output[str]:
    """A random password kept only in the (encrypted) state, returned as a secret Output.

    Letters and digits only, so it is safe in connection strings, URLs and shell without
    quoting. ``rotation`` is a keeper: raising the stack's ``secretRotation`` setting makes
    every generated password new on the next ``pulumi up``.
    """
    password = random.RandomPassword(
        name,
        length=length,
        special=False,
        min_lower=1,
        min_upper=1,
        min_numeric=1,
        keepers={"rotation": str(rotation)},
        opts=pulumi.ResourceOptions(parent=parent),
    )
    return pulumi.Output.secret(password.result)
