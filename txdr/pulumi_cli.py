"""The Pulumi CLI, as the activation drives it: stack outputs, config, ``up``, export/import.

Every command names its stack (``--stack``) and runs non-interactively; ``up`` streams the
CLI's own output to the operator's terminal. The dr stack's ``dr.active`` is the literal
key ``tractusx-platform:dr.active`` (set without ``--path``, as components/settings.py reads it).
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from txdr.errors import ActivationError

PROJECT = "tractusx-platform"
DR_ACTIVE = f"{PROJECT}:dr.active"
PRIMARY_STACK = f"{PROJECT}:primaryStack"
CHART_SOURCE = f"{PROJECT}:chartSource"


class PulumiCli:
    def __init__(self, stack: str, executable: str = "pulumi", cwd: Path | None = None) -> None:
        self.stack = stack
        self._executable = executable
        self._cwd = cwd

    def _run(self, args: Sequence[str], stack: str | None = None, capture: bool = True) -> str:
        command = [self._executable, *args, "--stack", stack or self.stack, "--non-interactive"]
        try:
            result = subprocess.run(
                command, cwd=self._cwd, text=True, capture_output=capture, check=False, stdin=subprocess.DEVNULL
            )
        except OSError as error:
            raise ActivationError(f"cannot run {self._executable}: {error}") from None
        if result.returncode != 0:
            said = (result.stderr or result.stdout or "").strip().splitlines()
            detail = f": {said[-1]}" if said else " (its output is above)"
            raise ActivationError(f"`{' '.join(command)}` failed with exit status {result.returncode}{detail}")
        return result.stdout or ""

    def _json(self, args: Sequence[str], stack: str) -> dict[str, Any]:
        """The JSON object a command prints; an error when it prints anything else."""
        try:
            answer = json.loads(self._run(args, stack=stack))
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            raise ActivationError(f"`pulumi {' '.join(args)} --stack {stack}` did not answer a JSON object")
        return answer

    def outputs(self) -> dict[str, Any]:
        """The stack's outputs (secrets shown as ``[secret]``)."""
        return self._json(["stack", "output", "--json"], self.stack)

    def config_get(self, key: str) -> str | None:
        """The value of ``key`` in the stack's config, None when it is not set."""
        try:
            return self._run(["config", "get", key]).strip()
        except ActivationError:
            return None

    def config_set(self, key: str, value: str) -> None:
        self._run(["config", "set", key, value])

    def up(self, refresh: bool, replace: Sequence[str] = ()) -> None:
        """An update without a preview (the operator sees each change as it is made);
        ``replace``: URNs to replace even though nothing changed (``--replace``)."""
        flags = [*(["--refresh"] if refresh else []), *(f"--replace={urn}" for urn in replace)]
        self._run(["up", "--yes", "--skip-preview", *flags], capture=False)

    def urn(self, kind: str, namespace: str, name: str) -> str:
        """The URN of the stack's Kubernetes object ``kind`` (a Pulumi type such as
        ``kubernetes:batch/v1:Job``) named ``namespace/name``, from the stack's state."""
        resources = self.export(self.stack).get("deployment", {}).get("resources", [])
        found = [
            resource["urn"]
            for resource in resources
            if resource.get("type") == kind
            and resource.get("outputs", {}).get("metadata", {}).get("name") == name
            and resource.get("outputs", {}).get("metadata", {}).get("namespace") == namespace
        ]
        if len(found) != 1:
            raise ActivationError(f"stack {self.stack} has {len(found)} {kind} named {namespace}/{name}, not one")
        return str(found[0])

    def export(self, stack: str) -> dict[str, Any]:
        return self._json(["stack", "export"], stack)

    def import_(self, stack: str, deployment: dict[str, Any], directory: Path) -> None:
        path = directory / f"{stack.replace('/', '_')}.json"
        path.write_text(json.dumps(deployment))
        path.chmod(0o600)
        try:
            self._run(["stack", "import", "--file", str(path)], stack=stack)
        finally:
            path.unlink()
