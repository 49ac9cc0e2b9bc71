"""Jobs that ``pulumi up`` waits for: replaced when a run left them failed, and waited for
as long as they may run.

pulumi-kubernetes waits for a Job to complete, for 10 minutes unless the resource's
custom timeouts say otherwise ("Job" in its await logic); a Job whose own deadline is
longer would be reported failed while it still runs. A Job that failed stays failed: the
next ``pulumi up`` sees no change and does not run it again, unless it carries the
``pulumi.com/replaceUnready`` annotation, with which the provider replaces a Job that is
not ready (pulumi-kubernetes annotations, "pulumi.com/replaceUnready").
"""

from __future__ import annotations

import math

import pulumi

REPLACE_UNREADY = {"pulumi.com/replaceUnready": "true"}
# Time beyond the Job's own deadline for its pod to be scheduled and its image pulled.
WAIT_MARGIN_MINUTES = 5


def wait_timeouts(deadline_seconds: int) -> pulumi.CustomTimeouts:
    """How long ``pulumi up`` waits for a Job with ``activeDeadlineSeconds`` of this."""
    minutes = math.ceil(deadline_seconds / 60) + WAIT_MARGIN_MINUTES
    return pulumi.CustomTimeouts(create=f"{minutes}m", update=f"{minutes}m")
