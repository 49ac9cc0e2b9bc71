"""The data contract between the applications and the platform refuses malformed input."""

from __future__ import annotations

import pytest

from components.applications import ChildApplication, SyncedSecret, VaultPolicy, VaultSeed
from components.charts import Chart

CHART = Chart(repository="https://eclipse-tractusx.github.io/charts/dev", name="tractusx-connector", version="0.12.1")


def test_a_chart_is_pinned_to_an_exact_version_from_an_https_repository() -> None:
    with pytest.raises(ValueError, match="not an exact version"):
        Chart(repository=CHART.repository, name="c", version="0.12.x")
    with pytest.raises(ValueError, match="not an https"):
        Chart(repository="http://charts.example.com", name="c", version="1.0.0")


def test_vault_paths_are_kv_paths_without_mount_or_traversal() -> None:
    VaultSeed(path="tractus-x/edc/connector/database", data={"password": "x"})
    for bad in ("/secret/data/x", "a//b", "a/../b", "A/b", "a/b/"):
        with pytest.raises(ValueError, match="not a Vault KV path"):
            VaultSeed(path=bad, data={"password": "x"})
    with pytest.raises(ValueError, match="no values"):
        VaultSeed(path="a/b", data={})
    with pytest.raises(ValueError, match="no paths"):
        VaultPolicy(name="edc", paths=[], token_path="a/token")


def test_a_synced_secret_lives_in_its_applications_namespace() -> None:
    secret = SyncedSecret(name="db", namespace="other", path="a/b", keys={"password": "password"})
    with pytest.raises(ValueError, match="not in the application's namespace edc-standalone"):
        ChildApplication(
            name="edc",
            project="tractus-x",
            namespace="edc-standalone",
            chart=CHART,
            release="connector",
            values={},
            secrets=[secret],
        )
    with pytest.raises(ValueError, match="not a valid Secret key"):
        SyncedSecret(name="db", namespace="x", path="a/b", keys={"pass word": "password"})


def test_secrets_the_chart_renders_itself_are_named_for_argo_cd_to_leave_alone() -> None:
    rendered = SyncedSecret(
        name="app-db", namespace="x", path="a/db", keys={"password": "password"}, chart_renders=True
    )
    owned = SyncedSecret(name="app-clients", namespace="x", path="a/clients", keys={"c": "c"})
    app = ChildApplication(
        name="app", project="p", namespace="x", chart=CHART, release="app", values={}, secrets=[rendered, owned]
    )
    assert app.chart_rendered_secrets == ("app-db",)
    assert not owned.chart_renders
