"""The stack's own copy of the pinned charts (README "Charts"): what the program creates,
how ``python -m chartmirror`` fills it, and that every chart a stack deploys is read from
it.

The copy is tested with the real helm against a real OCI registry on loopback (CNCF
distribution, Debian's docker-registry, with htpasswd authentication as ECR requires a
login); ECR's own API (authorization token, repositories) is moto's model of it.
"""

from __future__ import annotations

import base64
import gzip
import io
import json
import shutil
import socket
import subprocess
import tarfile
import time
import warnings
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import boto3
import pulumi
import pytest
from moto import mock_aws

from chartmirror import __main__ as cli
from chartmirror.mirror import COPIED, PRESENT, Helm, MirrorError, Registry, ecr_registry, mirror_charts, sha256
from components import chart_mirror, charts
from components.chart_mirror import ChartMirror
from components.settings import SettingsError, parse_settings
from components.traffic import INTERNET
from offline.charts import ChartError, chart_archive, helm
from offline.checks import plain
from offline.harness import MOCK_ACCOUNT_ID, StackRun, load_stack_config, run_stack
from offline.render import ChartSource, StackRendering, application_source
from offline.rendered_checks import charts_come_from_the_stack_copy
from tests.conftest import stack_copy, stack_copy_path
from tests.support.chart_repository import local_repository

USER, PASSWORD = "AWS", "registry-password"
SMALL = (charts.METRICS_SERVER, charts.KEDA)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[Registry]:
    """A registry on loopback that accepts USER/PASSWORD only (bcrypt htpasswd, as it requires)."""
    binary = shutil.which("docker-registry")
    if binary is None:
        pytest.fail("docker-registry is not installed: run `make test` (tools/install-system-packages)")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import crypt  # Python 3.11's libcrypt binding: bcrypt ($2b$) hashes for htpasswd

        hashed = crypt.crypt(PASSWORD, crypt.mksalt(crypt.METHOD_BLOWFISH))
    (tmp_path / "htpasswd").write_text(f"{USER}:{hashed}\n")
    port = _free_port()
    (tmp_path / "config.yml").write_text(
        "version: 0.1\nlog:\n  level: error\n"
        f"storage:\n  filesystem:\n    rootdirectory: {tmp_path / 'data'}\n"
        f"http:\n  addr: 127.0.0.1:{port}\n"
        f"auth:\n  htpasswd:\n    realm: test\n    path: {tmp_path / 'htpasswd'}\n"
    )
    server = subprocess.Popen([binary, "serve", str(tmp_path / "config.yml")], stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    pytest.fail("docker-registry did not start")
                time.sleep(0.1)
        yield Registry(f"127.0.0.1:{port}", USER, PASSWORD, plain_http=True)
    finally:
        server.terminate()
        server.wait(timeout=10)


def client(registry: Registry, tmp_path: Path) -> Helm:
    return Helm(helm(), registry, tmp_path / "registry.json")


def path_of(registry: Registry) -> str:
    return ChartMirror(registry.host, "tx-dr").path


# --- the copy ---------------------------------------------------------------------------


def test_the_pinned_charts_are_copied_once_then_found_byte_for_byte(registry: Registry, tmp_path: Path) -> None:
    first = mirror_charts(SMALL, path_of(registry), client(registry, tmp_path), chart_archive)
    assert [(o.chart, o.result) for o in first] == [(chart, COPIED) for chart in SMALL]
    assert [o.reference for o in first] == [
        f"oci://{registry.host}/tx-dr/charts/metrics-server",
        f"oci://{registry.host}/tx-dr/charts/keda",
    ]
    assert [o.sha256 for o in first] == [sha256(chart_archive(chart)) for chart in SMALL]
    again = mirror_charts(SMALL, path_of(registry), client(registry, tmp_path), chart_archive)
    assert [o.result for o in again] == [PRESENT, PRESENT], "what is already there is not pushed again"


def test_a_release_renders_the_same_from_the_copy(registry: Registry, tmp_path: Path) -> None:
    """helm installs an oci:// chart as Pulumi's Release does (chart oci://..., version):
    the objects are those of the pinned archive, byte for byte."""
    mirror_charts(SMALL[:1], path_of(registry), client(registry, tmp_path), chart_archive)
    config = ["--registry-config", str(tmp_path / "registry.json")]

    def template(chart: str, *extra: str) -> str:
        command = [helm(), "template", "metrics-server", chart, *extra, "--namespace", "kube-system"]
        return subprocess.run(command, capture_output=True, text=True, check=True, timeout=120).stdout

    from_copy = template(
        f"oci://{path_of(registry)}/metrics-server", "--version", charts.METRICS_SERVER.version, "--plain-http", *config
    )
    assert from_copy == template(str(chart_archive(charts.METRICS_SERVER)))
    assert "kind: Deployment" in from_copy


def _repacked(archive: Path, target: Path) -> Path:
    """The same chart files in a new archive (another gzip header): same name and version,
    another sha256, as a rebuilt or tampered package would be."""
    raw = gzip.decompress(archive.read_bytes())
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=1) as out:
        out.write(raw)
    target.mkdir(parents=True, exist_ok=True)
    repacked = target / archive.name
    repacked.write_bytes(buffer.getvalue())
    with tarfile.open(repacked) as tgz:
        assert any(m.name.endswith("/Chart.yaml") for m in tgz.getmembers())
    return repacked


def test_another_archive_under_the_pinned_version_stops_the_copy(registry: Registry, tmp_path: Path) -> None:
    """Tags are immutable: a copy that is not the verified archive is reported, never replaced."""
    chart = charts.METRICS_SERVER
    other = _repacked(chart_archive(chart), tmp_path / "other")
    assert sha256(other) != sha256(chart_archive(chart))
    helm_client = client(registry, tmp_path)
    helm_client.login()
    helm_client.push(other, f"oci://{path_of(registry)}")
    with pytest.raises(MirrorError, match=f"not the pinned archive's {sha256(chart_archive(chart))}"):
        mirror_charts([chart], path_of(registry), helm_client, chart_archive)


def test_only_the_pinned_archive_is_ever_copied(
    registry: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The archive comes as the plan takes it (offline/charts.chart_archive): a chart
    repository that offers keda's archive as metrics-server stops the copy."""
    keda = chart_archive(charts.KEDA)
    monkeypatch.setenv("TRACTUSX_CHART_REPO", str(local_repository(tmp_path / "repo", charts.METRICS_SERVER, keda)))
    with pytest.raises(ChartError, match="not the pinned metrics-server"):
        mirror_charts([charts.METRICS_SERVER], path_of(registry), client(registry, tmp_path), chart_archive)


def test_without_the_registry_credential_nothing_is_pushed(registry: Registry, tmp_path: Path) -> None:
    wrong = Registry(registry.host, USER, "expired-token", plain_http=True)
    with pytest.raises(MirrorError, match="helm registry login"):
        mirror_charts(SMALL, path_of(registry), client(wrong, tmp_path), chart_archive)


def test_login_gives_helms_own_registry_config_the_credential(
    registry: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``chartmirror login`` writes helm's default registry config, the file pulumi-kubernetes'
    Release reads OCI credentials from: a pull without any flag for it then succeeds."""
    mirror_charts(SMALL[:1], path_of(registry), client(registry, tmp_path), chart_archive)
    monkeypatch.setenv("HELM_REGISTRY_CONFIG", str(tmp_path / "helm-default.json"))
    pull = [helm(), "pull", f"oci://{path_of(registry)}/metrics-server", "--version", "3.13.1", "--plain-http"]
    (tmp_path / "before").mkdir()
    before = subprocess.run([*pull, "-d", str(tmp_path / "before")], capture_output=True, text=True, check=False)
    assert before.returncode != 0 and "basic credential not found" in before.stderr, before.stderr
    Helm(helm(), registry, None).login()
    (tmp_path / "after").mkdir()
    after = subprocess.run([*pull, "-d", str(tmp_path / "after")], capture_output=True, text=True, check=False)
    assert after.returncode == 0, after.stderr
    assert sha256(next((tmp_path / "after").glob("*.tgz"))) == sha256(chart_archive(charts.METRICS_SERVER))


def test_plain_http_is_only_for_a_registry_on_loopback() -> None:
    with pytest.raises(MirrorError, match="loopback"):
        Registry(f"{MOCK_ACCOUNT_ID}.dkr.ecr.eu-west-1.amazonaws.com", USER, PASSWORD, plain_http=True)


def test_every_release_is_pointed_at_the_copy_and_only_a_pinned_chart_has_one() -> None:
    mirror = ChartMirror(f"{MOCK_ACCOUNT_ID}.dkr.ecr.eu-west-1.amazonaws.com", "tx-dr")
    options = pulumi.ResourceOptions()

    def release(chart: str, version: str) -> pulumi.ResourceTransformationArgs:
        props = {"chart": chart, "version": version, "repository_opts": {"repo": "https://traefik.github.io/charts"}}
        return pulumi.ResourceTransformationArgs(None, chart_mirror.HELM_RELEASE, "r", props, options)  # type: ignore[arg-type]

    result = mirror.release_transformation(release("traefik", "39.0.9"))
    assert result is not None
    assert result.props == {
        "chart": f"oci://{MOCK_ACCOUNT_ID}.dkr.ecr.eu-west-1.amazonaws.com/tx-dr/charts/traefik",
        "version": "39.0.9",
        "repository_opts": None,
    }
    with pytest.raises(ValueError, match=r"traefik 39\.0\.8 is not pinned"):
        mirror.release_transformation(release("traefik", "39.0.8"))
    other = pulumi.ResourceTransformationArgs(None, "kubernetes:core/v1:Secret", "s", {"chart": "x"}, options)  # type: ignore[arg-type]
    assert mirror.release_transformation(other) is None


# --- ECR: the token and the repositories (moto) -----------------------------------------


@mock_aws
def test_the_registry_is_the_stacks_region_with_the_tokens_credential() -> None:
    ecr = boto3.client("ecr", region_name="eu-west-1")
    registry = ecr_registry(ecr)
    (data,) = ecr.get_authorization_token()["authorizationData"]
    user, password = base64.b64decode(data["authorizationToken"]).decode().split(":", 1)
    assert (registry.username, registry.password) == (user, password)
    assert registry.host.endswith(".dkr.ecr.eu-west-1.amazonaws.com") and not registry.plain_http


@mock_aws
def test_push_refuses_until_the_stack_created_its_repositories(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    ecr = boto3.client("ecr", region_name="eu-west-1")
    ecr.create_repository(repositoryName="tx-dr/charts/keda")
    with pytest.raises(MirrorError, match="chartSource upstream -s dr") as refused:
        cli.push("dr")
    assert "tx-dr/charts/argo-cd" in str(refused.value) and "tx-dr/charts/keda," not in str(refused.value)


def test_the_command_finds_each_stacks_region_and_prefix() -> None:
    assert cli.stack_target("prod") == ("eu-central-1", "tx-prod")
    assert cli.stack_target("dr") == ("eu-west-1", "tx-dr")
    with pytest.raises(MirrorError, match=r"Pulumi\.nope\.yaml"):
        cli.stack_target("nope")


# --- what the program creates ------------------------------------------------------------


def test_one_encrypted_immutable_repository_per_pinned_chart_in_the_stacks_region(stack: StackRun) -> None:
    repositories = {r.inputs["name"]: plain(r.inputs) for r in stack.of_type("aws:ecr/repository:Repository")}
    prefix = f"tx-{stack.exports['environment']}/charts/"
    mine = {name: spec for name, spec in repositories.items() if name.startswith(prefix)}
    assert sorted(mine) == sorted(prefix + chart.name for chart in charts.PINNED)
    keys = {r.name for r in stack.of_type("aws:kms/key:Key") if r.name.endswith("-charts-key")}
    assert keys == {"tractusx-charts-key"}
    for spec in mine.values():
        assert spec["imageTagMutability"] == "IMMUTABLE"
        (encryption,) = spec["encryptionConfigurations"]
        assert encryption["encryptionType"] == "KMS" and encryption["kmsKey"].startswith(
            f"arn:aws:kms:{stack.exports['region']}:"
        )


def test_argo_cd_pulls_with_a_token_external_secrets_refreshes(stack: StackRun) -> None:
    (generator,) = stack.of_type("kubernetes:generators.external-secrets.io/v1alpha1:ECRAuthorizationToken")
    assert plain(generator.inputs)["spec"] == {
        "region": stack.exports["region"],
        "auth": {"jwt": {"serviceAccountRef": {"name": "chart-mirror-reader"}}},
    }
    (secret,) = [
        r
        for r in stack.of_type("kubernetes:external-secrets.io/v1:ExternalSecret")
        if r.inputs["metadata"]["name"] == "chart-mirror-repository"
    ]
    spec = plain(secret.inputs)["spec"]
    assert spec["refreshInterval"] == "1h", "refreshed long before the token's 12 hours run out"
    template = spec["target"]["template"]
    assert template["metadata"]["labels"] == {"argocd.argoproj.io/secret-type": "repository"}
    assert template["data"] == {
        "name": "chart-mirror",
        "type": "helm",
        "enableOCI": "true",
        "url": stack_copy_path(stack),
        "username": "{{ .username }}",
        "password": "{{ .password }}",
    }
    (root,) = [r for r in stack.of_type("kubernetes:argoproj.io/v1alpha1:Application")]
    assert secret.urn in root.dependencies, "the root Application syncs once Argo CD can read the copy"


def test_the_token_role_may_only_pull_the_chart_repositories(stack: StackRun) -> None:
    (role,) = [r for r in stack.of_type("aws:iam/role:Role") if r.name == "tractusx-chart-access-reader"]
    trust = plain(role.inputs)["assumeRolePolicy"]
    assert "system:serviceaccount:argocd:chart-mirror-reader" in str(trust)
    (policy,) = [r for r in stack.of_type("aws:iam/rolePolicy:RolePolicy") if r.name.startswith(role.name)]
    statements = json.loads(plain(policy.inputs)["policy"])["Statement"]
    region = stack.exports["region"]
    prefix = f"arn:aws:ecr:{region}:{MOCK_ACCOUNT_ID}:repository/tx-{stack.exports['environment']}/charts/"
    assert statements == [
        {"Sid": "AuthorizationToken", "Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"},
        {
            "Sid": "PullCharts",
            "Effect": "Allow",
            "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
            "Resource": [prefix + chart.name for chart in charts.PINNED],
        },
    ]


def test_external_secrets_may_reach_ecr_and_sts(stack: StackRun) -> None:
    flows = [f for f in stack.flows if f.source == chart_mirror.ESO_CONTROLLER and f.destination == INTERNET]
    assert [(f.port, f.why) for f in flows] == [(443, "External Secrets gets Argo CD's ECR token (ECR API and STS)")]


# --- the setting and the plan check -------------------------------------------------------


def _settings(stack: str, **overrides: Any) -> Any:
    """The stack's settings as the program reads them, with ``overrides``."""
    config, secret_keys = load_stack_config(stack, overrides)
    raw: dict[str, Any] = {}
    for key, value in config.items():
        name = key.removeprefix("tractusx-platform:")
        raw[name] = json.loads(value) if value[:1] in "[{" else value
    return parse_settings(raw, stack, {key.removeprefix("tractusx-platform:") for key in secret_keys})


def test_chart_source_is_the_copy_unless_set_to_upstream() -> None:
    assert _settings("dr").chart_source == "mirror"
    assert _settings("dr", chartSource="upstream").chart_source == "upstream"
    with pytest.raises(SettingsError, match="chartSource: 'public' is not a chart source; allowed: mirror, upstream"):
        _settings("dr", chartSource="public")


@pytest.fixture(scope="module")
def upstream_runs() -> dict[str, StackRun]:
    prod = run_stack("prod", overrides={"chartSource": "upstream"})
    return {"prod": prod, "dr": run_stack("dr", overrides={"chartSource": "upstream"}, references={"prod": prod})}


def test_the_copy_renders_exactly_what_the_charts_repositories_render(
    runs: dict[str, StackRun], upstream_runs: dict[str, StackRun]
) -> None:
    """Only where a chart is read from changes with chartSource: every release's and
    Application's rendered objects are the same."""
    from offline.render import render_stack

    for stack in ("prod", "dr"):
        mirrored, upstream = render_stack(runs[stack]), render_stack(upstream_runs[stack])
        assert [c.source.reference for c in upstream.charts if c.source.reference.startswith("oci://")] == []
        assert len(mirrored.charts) == len(upstream.charts) and all(c.objects for c in mirrored.charts)
        assert {c.source.origin: _sourced(c.objects) for c in mirrored.charts} == {
            c.source.origin: _sourced(c.objects) for c in upstream.charts
        }
        # The root Application's children differ in where they read their chart, and only there.
        (root,) = [c for c in mirrored.charts if c.source.name == "tractus-x-umbrella"]
        assert {obj["spec"]["source"]["repoURL"] for obj in root.objects} == {stack_copy_path(runs[stack])}


def _sourced(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rendered objects, an Argo CD Application's repoURL left out."""
    return [
        {**obj, "spec": {**obj["spec"], "source": {k: v for k, v in obj["spec"]["source"].items() if k != "repoURL"}}}
        if obj.get("kind") == "Application"
        else obj
        for obj in objects
    ]


def test_with_chart_source_upstream_nothing_reads_the_copy(upstream_runs: dict[str, StackRun]) -> None:
    dr = upstream_runs["dr"]
    assert dr.of_type("kubernetes:generators.external-secrets.io/v1alpha1:ECRAuthorizationToken") == []
    assert len(dr.of_type("aws:ecr/repository:Repository")) >= len(charts.PINNED), "the copy exists to be filled"
    release = next(r for r in dr.of_type("kubernetes:helm.sh/v3:Release") if r.inputs["chart"] == "traefik")
    assert plain(release.inputs)["repositoryOpts"] == {"repo": "https://traefik.github.io/charts"}


def test_every_release_and_application_reads_the_stacks_copy(
    stack: StackRun, renderings: dict[str, StackRendering]
) -> None:
    rendering = renderings[stack.stack]
    assert charts_come_from_the_stack_copy(stack, rendering) == []
    references = {c.source.reference for c in rendering.charts}
    assert stack_copy(stack, "tractusx-connector") in references and stack_copy(stack, "argo-cd") in references


def _planted(rendering: StackRendering, name: str, source: ChartSource) -> StackRendering:
    """The stack's rendering with the chart of ``name`` read from ``source`` instead."""
    charts_ = [replace(c, source=source) if c.source.name == name else c for c in rendering.charts]
    return StackRendering(rendering.kube_version, charts_, rendering.program_objects)


def test_the_copy_check_names_an_application_read_from_its_public_repository(
    dr: StackRun, renderings: dict[str, StackRendering]
) -> None:
    """Planted fault: the connector's Application reads the public Tractus-X repository."""
    public = application_source(
        {
            "metadata": {"name": "tractusx-connector"},
            "spec": {
                "source": {"repoURL": charts.TRACTUS_X, "chart": "tractusx-connector", "targetRevision": "0.12.1"},
                "destination": {"namespace": "tractus-x"},
            },
        },
        frozenset(),
    )
    assert charts_come_from_the_stack_copy(dr, _planted(renderings["dr"], "tractusx-connector", public)) == [
        "Argo CD Application tractusx-connector reads tractusx-connector 0.12.1 from "
        "https://eclipse-tractusx.github.io/charts/dev, not from the stack's copy "
        f"oci://{MOCK_ACCOUNT_ID}.dkr.ecr.eu-west-1.amazonaws.com/tx-dr/charts/tractusx-connector"
    ]


def _release(rendering: StackRendering, name: str) -> ChartSource:
    (found,) = [c.source for c in rendering.charts if c.source.name == name]
    return found


@pytest.mark.parametrize(
    ("reference", "version", "finding"),
    [
        (
            "https://traefik.github.io/charts",
            "39.0.9",
            "helm release tractusx-ingress-release reads traefik 39.0.9 from https://traefik.github.io/charts, "
            f"not from the stack's copy oci://{MOCK_ACCOUNT_ID}.dkr.ecr.eu-west-1.amazonaws.com/tx-dr/charts/traefik",
        ),
        (
            f"oci://{MOCK_ACCOUNT_ID}.dkr.ecr.eu-central-1.amazonaws.com/tx-prod/charts/traefik",
            "39.0.9",
            "helm release tractusx-ingress-release reads traefik 39.0.9 from "
            f"oci://{MOCK_ACCOUNT_ID}.dkr.ecr.eu-central-1.amazonaws.com/tx-prod/charts/traefik, "
            f"not from the stack's copy oci://{MOCK_ACCOUNT_ID}.dkr.ecr.eu-west-1.amazonaws.com/tx-dr/charts/traefik",
        ),
        (
            f"oci://{MOCK_ACCOUNT_ID}.dkr.ecr.eu-west-1.amazonaws.com/tx-dr/charts/traefik",
            "39.0.8",
            "helm release tractusx-ingress-release reads traefik at 39.0.8, which components/charts.py does not pin",
        ),
    ],
    ids=["public-repository", "prods-region", "unpinned-version"],
)
def test_the_copy_check_names_a_release_read_from_elsewhere(
    dr: StackRun, renderings: dict[str, StackRendering], reference: str, version: str, finding: str
) -> None:
    """Planted faults on the dr stack's Traefik release: the public repository, prod's
    region's copy (lost with prod's region), a version that is not pinned."""
    pinned = _release(renderings["dr"], "tractusx-ingress-release")
    fault = replace(pinned, reference=reference, chart=replace(pinned.chart, version=version))
    assert charts_come_from_the_stack_copy(dr, _planted(renderings["dr"], "tractusx-ingress-release", fault)) == [
        finding
    ]
