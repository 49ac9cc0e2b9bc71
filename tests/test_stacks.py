"""Both stacks plan; dr reads prod; the offline plan writes every object and fails loudly."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.namespaces import PLATFORM_NAMESPACES
from offline import plan
from offline.checks import CHECKS, awaited_jobs_finish_or_are_rerun, plain, run_checks
from offline.harness import RegisteredResource, StackRun, run_stack
from offline.render import StackRendering, render_stack
from offline.rendered_checks import objects_match_schema

REQUIRED_EXPORTS = {
    "region", "role", "environment", "domain", "availabilityZones", "vpcId", "vpcCidr", "privateSubnetIds",
    "publicSubnetIds", "clusterName", "clusterEndpoint", "clusterSecurityGroupId", "oidcProviderArn",
    "oidcIssuerUrl", "nodeRoleArn", "kubeconfig",
}  # fmt: skip


def test_both_stacks_plan_with_every_check_passing(runs: dict[str, StackRun]) -> None:
    for run in runs.values():
        assert run_checks(run) == []
        assert set(run.exports) >= REQUIRED_EXPORTS


def test_stacks_are_in_two_regions_and_dr_reads_prod(prod: StackRun, dr: StackRun) -> None:
    assert prod.exports["role"] == "primary"
    assert dr.exports["role"] == "dr"
    assert dr.exports["primaryRegion"] == prod.exports["region"]
    assert dr.exports["region"] != prod.exports["region"]
    (reference,) = dr.of_type("pulumi:pulumi:StackReference")
    assert reference.inputs["name"] == "organization/tractusx-platform/prod"


def test_dr_in_the_primary_region_is_refused(prod: StackRun) -> None:
    with pytest.raises(Exception, match="disaster recovery needs a second region"):
        run_stack("dr", overrides={"aws:region": prod.exports["region"]}, references={"prod": prod})


def test_dr_without_a_prod_run_says_what_is_missing() -> None:
    with pytest.raises(Exception, match="run stack 'prod' first"):
        run_stack("dr")


def test_plan_writes_every_object_and_exports(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    checked: dict[str, tuple[StackRendering, list[str]]],
) -> None:
    # The checks' results of the same runs (tests/test_rendering.py asserts they find nothing),
    # computed once for the session rather than again here.
    monkeypatch.setattr(plan, "check_stack", lambda run: checked[run.stack])
    assert plan.main(["--stack", "all", "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    for stack in ("prod", "dr"):
        root = tmp_path / stack
        (storage_class,) = (root / "kubernetes").rglob("StorageClass-*.yaml")
        assert yaml.safe_load(storage_class.read_text())["kind"] == "StorageClass"
        release = yaml.safe_load((root / "helm" / "tractusx-node-autoscaler-release.yaml").read_text())
        assert release["chart"].endswith("/charts/cluster-autoscaler")
        cluster = json.loads(next((root / "aws" / "eks_cluster").glob("*.json")).read_text())
        assert cluster["inputs"]["encryptionConfig"]["resources"] == ["secrets"]
        exports = json.loads((root / "exports.json").read_text())
        assert exports["kubeconfig"] == "[secret]"
        assert f"stack {stack}:" in printed
    assert "network" in printed and "aws:ec2/natGateway:NatGateway" in printed
    # The stack files' example values pass the offline plan, named; a deployment refuses them.
    notice = "notice: example values, refused by pulumi preview and up: accessPrincipals: arn:aws:iam::111122223333:"
    assert notice in printed and "acmeEmail: certificates@example.com;" in printed
    assert "offline-plan-ca" not in (tmp_path / "prod" / "exports.json").read_text()


def test_plan_of_one_stack_runs_prod_first_for_dr(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # What is planned, not how it is checked (test_plan_writes_every_object_and_exports
    # runs every check): dr reads prod's exports, so prod runs first, and only dr is written.
    monkeypatch.setattr(plan, "check_stack", lambda run: (StackRendering("1.35", [], []), []))
    assert plan.main(["--stack", "dr", "--out", str(tmp_path)]) == 0
    assert (tmp_path / "dr" / "exports.json").exists()
    assert not (tmp_path / "prod").exists()


def test_plan_exits_non_zero_on_invalid_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    original = plan.run_stack  # type: ignore[attr-defined]

    def with_bad_setting(stack: str, **kwargs: object) -> StackRun:
        return original(stack, overrides={"azCount": 2}, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(plan, "run_stack", with_bad_setting)
    assert plan.main(["--stack", "prod", "--out", str(tmp_path)]) == 2
    assert "tractusx-platform:azCount" in capsys.readouterr().err


def test_plan_exits_non_zero_when_a_check_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(
        plan,
        "check_stack",
        lambda run: (StackRendering("1.35", [], []), ["kms_keys_rotate: aws:kms/key:Key k: key rotation is off"]),
    )
    assert plan.main(["--stack", "prod", "--out", str(tmp_path)]) == 1
    assert "CHECK FAILED kms_keys_rotate" in capsys.readouterr().err


def resource(type_: str, inputs: dict[str, Any], provider: str = "") -> RegisteredResource:
    return RegisteredResource(type_, "bad", "urn", inputs, provider, True, "", "platform")


@pytest.mark.parametrize(
    ("bad", "check_name"),
    [
        (
            resource("kubernetes:core/v1:Namespace", {}, "urn:pulumi:s::p::pulumi:providers:kubernetes::default_4::id"),
            "kubernetes_uses_explicit_provider",
        ),
        (resource("aws:kms/key:Key", {"enableKeyRotation": False}), "kms_keys_rotate"),
        (resource("aws:cloudwatch/logGroup:LogGroup", {"kmsKeyId": "k"}), "log_groups_encrypted_with_retention"),
        (resource("aws:cloudwatch/logGroup:LogGroup", {"retentionInDays": 7}), "log_groups_encrypted_with_retention"),
        (
            resource("aws:eks/cluster:Cluster", {"vpcConfig": {"endpointPublicAccess": True}}),
            "eks_api_not_open_to_internet",
        ),
        (
            resource("aws:eks/cluster:Cluster", {"vpcConfig": {"publicAccessCidrs": ["0.0.0.0/0"]}}),
            "eks_api_not_open_to_internet",
        ),
    ],
)
def test_each_check_catches_its_violation(bad: RegisteredResource, check_name: str) -> None:
    check = {c.__name__: c for c in CHECKS}[check_name]
    (finding,) = check(StackRun("test", [bad], {}))
    assert finding.startswith(f"{bad.type} bad:")


def cluster_of_version(version: str) -> RegisteredResource:
    return resource("aws:eks/cluster:Cluster", {"version": version, "vpcConfig": {}})


@pytest.mark.parametrize(
    ("manifest", "finding"),
    [
        (
            {
                "apiVersion": "storage.k8s.io/v1",
                "kind": "StorageClass",
                "metadata": {"name": "x"},
                "provisioner": "y",
                "reclaimPolcy": "Retain",
            },
            "'reclaimPolcy' was unexpected",
        ),
        (
            {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "x"}, "spec": {"ports": [{"port": "80"}]}},
            "port",
        ),
        (
            {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "x"}},
            "neither Kubernetes 1.35 nor a CRD of the stack serves example.com/v1 Widget",
        ),
    ],
)
def test_schema_check_refuses_what_the_api_server_would(manifest: dict[str, Any], finding: str) -> None:
    bad = resource(f"kubernetes:{manifest['apiVersion']}:{manifest['kind']}", manifest, "explicit")
    findings = objects_match_schema(render_stack(StackRun("test", [cluster_of_version("1.35"), bad], {})))
    assert any(finding in f for f in findings), findings


def test_schema_check_reads_numbers_as_the_engine_sends_them() -> None:
    # Mocks deliver 443 as 443.0; the schema's integer must still accept it.
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "x"},
        "spec": {"ports": [{"port": 443.0}]},
    }
    ok = resource("kubernetes:core/v1:Service", service, "explicit")
    assert objects_match_schema(render_stack(StackRun("test", [cluster_of_version("1.35"), ok], {}))) == []


WIDGET_SPEC = {"type": "object", "required": ["size"], "properties": {"size": {"type": "integer"}}}
WIDGET_CRD = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "widgets.example.com"},
    "spec": {
        "group": "example.com",
        "names": {"kind": "Widget", "plural": "widgets", "singular": "widget", "listKind": "WidgetList"},
        "scope": "Namespaced",
        "versions": [
            {
                "name": "v1",
                "served": True,
                "storage": True,
                "schema": {
                    "openAPIV3Schema": {
                        "type": "object",
                        "required": ["spec"],
                        "properties": {
                            "spec": {
                                "type": "object",
                                "required": ["size"],
                                "properties": {"size": {"type": "integer"}},
                            }
                        },
                    }
                },
            }
        ],
    },
}


def test_custom_resources_validate_against_the_crd_the_stack_installs() -> None:
    crd = resource("kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition", WIDGET_CRD, "explicit")

    def findings(spec: dict[str, Any]) -> list[str]:
        manifest = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "x"}, "spec": spec}
        widget = resource("kubernetes:example.com/v1:Widget", manifest, "explicit")
        return objects_match_schema(render_stack(StackRun("test", [cluster_of_version("1.35"), crd, widget], {})))

    assert findings({"size": 3.0}) == []
    assert findings({}) == ["kubernetes:example.com/v1:Widget bad: Widget x: spec.size: Required value"]
    assert findings({"size": 1, "colour": "red"}) == [
        "kubernetes:example.com/v1:Widget bad: Widget x: spec.colour: unknown field"
    ]


def test_every_helm_release_is_pinned_atomic_and_in_a_platform_namespace(stack: StackRun) -> None:
    owned = {spec.name for spec in PLATFORM_NAMESPACES} | {"kube-system"}
    releases = stack.of_type("kubernetes:helm.sh/v3:Release")
    assert len(releases) >= 7
    for release in releases:
        inputs = plain(release.inputs)
        assert re.fullmatch(r"v?\d+\.\d+\.\d+", inputs["version"]), f"{release.name}: chart version not exact"
        assert inputs["atomic"] is True and inputs["cleanupOnFail"] is True, release.name
        assert inputs["createNamespace"] is False and inputs["namespace"] in owned, release.name


def test_a_job_pulumi_waits_for_is_rerun_after_a_failure_and_waited_for_to_its_deadline() -> None:
    job = {"metadata": {"name": "database-init"}, "spec": {"activeDeadlineSeconds": 900.0}}
    bare = resource("kubernetes:batch/v1:Job", job)
    assert awaited_jobs_finish_or_are_rerun(StackRun("test", [bare], {})) == [
        "kubernetes:batch/v1:Job bad: a failed run stays failed (no pulumi.com/replaceUnready)",
        "kubernetes:batch/v1:Job bad: pulumi up waits its default 10m for a Job whose deadline is 900 s",
    ]
    annotated = {**job, "metadata": {"name": "x", "annotations": {"pulumi.com/replaceUnready": "true"}}}
    short = replace(resource("kubernetes:batch/v1:Job", annotated), custom_timeouts={"create": "10m"})
    assert len(awaited_jobs_finish_or_are_rerun(StackRun("test", [short], {}))) == 1
    enough = replace(short, custom_timeouts={"create": "20m", "update": "20m"})
    assert awaited_jobs_finish_or_are_rerun(StackRun("test", [enough], {})) == []


def test_the_programs_jobs_are_rerun_and_waited_for(stack: StackRun) -> None:
    jobs = {r.name: r for r in stack.of_type("kubernetes:batch/v1:Job")}
    # The dr stack's database is a read-only replica until activation: no init Job there;
    # its connector stands by, and a Job pulls the connector's images into its cache.
    expected = {"tractusx-secrets-bootstrap"} | (
        {"tractusx-database-init"} if stack.stack == "prod" else {"tractusx-connector-image-warmup"}
    )
    assert set(jobs) == expected
    for job in jobs.values():
        assert job.custom_timeouts == {"create": "20m", "update": "20m"}
        assert plain(job.inputs)["metadata"]["annotations"]["pulumi.com/replaceUnready"] == "true"
