"""Helm releases of pinned charts, installed the same way by every component."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.charts import Chart


def chart_release(
    resource_name: str,
    *,
    release: str,
    chart: Chart,
    namespace: str,
    values: Mapping[str, Any],
    parent: pulumi.Resource,
    provider: k8s.Provider,
    depends_on: Sequence[pulumi.Resource] = (),
    timeout: int = 600,
) -> k8s.helm.v3.Release:
    """One chart at an exact version into a namespace the platform owns.

    ``atomic`` rolls a failed install or upgrade back (and makes Helm wait until every
    object is ready), ``cleanup_on_fail`` removes what a failed upgrade created, and the
    namespace is never created by Helm: it comes from components/namespaces.py with its
    Pod Security level.
    """
    return k8s.helm.v3.Release(
        resource_name,
        name=release,
        chart=chart.name,
        version=chart.version,
        repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=chart.repository),
        namespace=namespace,
        create_namespace=False,
        values=dict(values),
        atomic=True,
        cleanup_on_fail=True,
        timeout=timeout,
        opts=pulumi.ResourceOptions(parent=parent, provider=provider, depends_on=list(depends_on)),
    )
