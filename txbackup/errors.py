"""The one exception the programs report to the operator as a single line."""

from __future__ import annotations


class BackupError(Exception):
    """A failure the operator can act on; its message names the problem in one line."""
