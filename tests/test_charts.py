"""The pinned charts: where the plan takes them from, and that it refuses any other archive."""

from __future__ import annotations

from pathlib import Path

import pytest

from components import charts
from components.charts import Chart
from offline import charts as fetch
from offline.render import ARGO_CD, StackRendering
from tests.support.chart_repository import local_repository

METRICS_SERVER = charts.METRICS_SERVER


def test_every_pinned_chart_is_in_the_chart_repository_and_verified() -> None:
    for chart in charts.PINNED:
        archive = fetch.chart_archive(chart)
        metadata = fetch.chart_metadata(archive)
        assert (metadata["name"], str(metadata["version"])) == (chart.name, chart.version)


def test_every_chart_the_stacks_deploy_is_pinned(renderings: dict[str, StackRendering]) -> None:
    for rendering in renderings.values():
        deployed = {chart.source.chart for chart in rendering.charts}
        assert deployed <= set(charts.PINNED)
        assert charts.TRACTUSX_CONNECTOR in deployed
        assert any(chart.source.deployer == ARGO_CD for chart in rendering.charts)


def test_a_version_the_repository_does_not_hold_is_refused_with_what_it_holds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repository = local_repository(tmp_path / "repo", METRICS_SERVER, fetch.chart_archive(METRICS_SERVER))
    monkeypatch.setenv(fetch.CHART_REPO_VARIABLE, str(repository))
    with pytest.raises(
        fetch.ChartError, match=r"metrics-server 3\.13\.2 is not in the chart repository .* \(it has 3\.13\.1\)"
    ):
        fetch.chart_archive(Chart(METRICS_SERVER.repository, "metrics-server", "3.13.2"))
    assert fetch.chart_archive(METRICS_SERVER) == repository / "metrics-server-3.13.1.tgz"


def test_an_archive_that_differs_from_the_index_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    archive = fetch.chart_archive(METRICS_SERVER)
    repository = local_repository(tmp_path / "repo", METRICS_SERVER, archive, digest="0" * 64)
    monkeypatch.setenv(fetch.CHART_REPO_VARIABLE, str(repository))
    with pytest.raises(fetch.ChartError, match="differs from the index's 0000"):
        fetch.chart_archive(METRICS_SERVER)


def test_an_archive_of_another_chart_is_never_rendered_as_the_pinned_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # KEDA's archive listed as metrics-server 3.13.1.
    repository = local_repository(tmp_path / "repo", METRICS_SERVER, fetch.chart_archive(charts.KEDA))
    monkeypatch.setenv(fetch.CHART_REPO_VARIABLE, str(repository))
    with pytest.raises(fetch.ChartError, match=r"holds chart keda 2\.20\.2, not the pinned metrics-server 3\.13\.1"):
        fetch.chart_archive(METRICS_SERVER)


def test_a_folder_without_an_index_is_no_chart_repository(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(fetch.CHART_REPO_VARIABLE, str(tmp_path))
    with pytest.raises(fetch.ChartError, match=r"no index\.yaml there"):
        fetch.chart_archive(METRICS_SERVER)
