"""The primary stack's exports, as the dr stack reads them: one StackReference.

Only the dr stack reads the primary (never the other way round), so the two stacks form
no cycle. Every output the dr stack needs is required: a primary deployed by an older
version of the program, or not deployed yet, stops the dr run with an error that names
the output and the stack.
"""

from __future__ import annotations

from typing import Any

import pulumi


class PrimaryStack:
    def __init__(self, stack_name: str) -> None:
        self.stack_name = stack_name
        self.reference = pulumi.StackReference(stack_name)

    def require(self, key: str) -> pulumi.Output[Any]:
        """The output ``key``; a secret output stays secret."""
        short_name = self.stack_name.rsplit("/", 1)[-1]

        def present(value: Any) -> Any:
            if value is None:
                raise pulumi.RunError(
                    f"stack {self.stack_name} has no output {key!r}: run `pulumi up -s {short_name}` first "
                    "(with this version of the program), then `pulumi up` on the dr stack, which reads it"
                )
            return value

        return self.reference.get_output(key).apply(present)
