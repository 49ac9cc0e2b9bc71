"""GitOps: Argo CD in HA, the products' AppProjects and the root Application
``tractus-x-umbrella`` (playbook "Application Updates": ``argocd app sync tractus-x-umbrella``).

The platform's list of applications fills as products land; where a test needs children
it uses the local list ``APPS`` (a connector with two KEDA-scaled Deployments and an
identity provider), rendered exactly as the component renders the real list.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from pulumi.runtime import rpc

from components import gitops
from components.applications import ChildApplication
from components.charts import Chart
from components.gitops import (
    APPS_CHART,
    IN_CLUSTER,
    NAMESPACE,
    RESOURCES_FINALIZER,
    ROOT_APPLICATION,
    ROOT_PROJECT,
)
from components.namespaces import PLATFORM_NAMESPACES, RESTRICTED
from components.schedules import CONFIG_BACKUP
from offline.checks import plain, secrets_stay_secret
from offline.crd_schemas import CrdIndex
from offline.harness import RegisteredResource, StackRun
from offline.plan import write_plan
from offline.render import StackRendering, render_stack, rendered_applications
from offline.rendered_checks import objects_match_schema
from policy import rules
from tests.conftest import chart_of, stack_copy, stack_copy_path

RELEASE = "kubernetes:helm.sh/v3:Release"
APPLICATION = "kubernetes:argoproj.io/v1alpha1:Application"
CLUSTER = "aws:eks/cluster:Cluster"
APP_PROJECT = "kubernetes:argoproj.io/v1alpha1:AppProject"

CONNECTOR_CHART = Chart("https://eclipse-tractusx.github.io/charts/dev", "tractusx-connector", "0.12.1")
APPS = (
    ChildApplication(
        name="edc-connector",
        project="edc",
        namespace="edc-standalone",
        chart=CONNECTOR_CHART,
        release="edc",
        values={"controlplane": {"endpoints": {"management": {"authKeySecretName": "edc-api-key"}}}},
        sync_wave=1,
        scaled_deployments=("edc-controlplane", "edc-dataplane"),
    ),
    ChildApplication(
        name="centralidp",
        project="portal",
        namespace="tractus-x",
        chart=Chart("https://eclipse-tractusx.github.io/charts/dev", "centralidp", "4.2.0"),
        release="centralidp",
        values={"keycloak": {"auth": {"existingSecret": "centralidp-admin"}}},
        sync_wave=0,
    ),
    ChildApplication(
        name="portal",
        project="portal",
        namespace="tractus-x",
        chart=Chart("https://eclipse-tractusx.github.io/charts/dev", "portal", "2.5.0"),
        release="portal",
        values={},
        sync_wave=2,
    ),
)


def argocd_values(run: StackRun) -> dict[str, Any]:
    (release,) = [r for r in run.of_type(RELEASE) if chart_of(r) == "argo-cd"]
    return dict(plain(release.inputs))


def root(run: StackRun) -> RegisteredResource:
    (found,) = [r for r in run.of_type(APPLICATION) if r.inputs["spec"]["source"]["chart"] == "argocd-apps"]
    return found


def project_specs(run: StackRun) -> dict[str, dict[str, Any]]:
    return {r.inputs["metadata"]["name"]: plain(r.inputs) for r in run.of_type(APP_PROJECT)}


# --- Argo CD ---------------------------------------------------------------------------


def test_argo_cd_is_the_pinned_argo_helm_chart_in_its_restricted_namespace(stack: StackRun) -> None:
    release = argocd_values(stack)
    # The pinned argo-helm chart, read from the stack's own copy of it.
    assert (release["chart"], release["version"]) == (stack_copy(stack, "argo-cd"), "10.1.1")
    assert "repositoryOpts" not in release
    assert release["namespace"] == NAMESPACE and release["createNamespace"] is False
    (spec,) = [s for s in PLATFORM_NAMESPACES if s.name == NAMESPACE]
    assert spec.pod_security == RESTRICTED


def test_argo_cd_runs_in_ha_as_the_chart_readme_says(stack: StackRun) -> None:
    values = argocd_values(stack)["values"]
    assert values["redis-ha"]["enabled"] is True and values["redis"]["enabled"] is False
    assert values["redis-ha"]["replicas"] == 3 and values["redis-ha"]["haproxy"]["enabled"] is True
    assert values["controller"]["replicas"] == 1
    for component in ("server", "repoServer", "applicationSet"):
        assert values[component]["replicas"] >= 2, f"{component}: HA needs two replicas"
        assert values[component]["pdb"] == {"enabled": True, "minAvailable": 1}
    for component in ("server", "repoServer"):
        assert values[component]["autoscaling"]["enabled"] is False, "an HPA would fight the fixed replicas"
    assert values["redis-ha"]["podDisruptionBudget"] == {"maxUnavailable": 1}
    assert values["redis-ha"]["haproxy"]["podDisruptionBudget"] == {"maxUnavailable": 1}


def test_every_argo_cd_container_has_limits_and_a_restricted_security_context(stack: StackRun) -> None:
    values = argocd_values(stack)["values"]
    redis = values["redis-ha"]
    blocks = [values[c] for c in ("controller", "server", "repoServer", "applicationSet")]
    blocks += [redis["redis"], redis["sentinel"], redis["haproxy"], redis["init"], redis["splitBrainDetection"]]
    blocks += [values["redisSecretInit"], redis["haproxy"]["init"]]
    for block in blocks:
        assert set(block["resources"]["limits"]) == {"cpu", "memory"}
    for context in (
        *(values[c]["containerSecurityContext"] for c in ("controller", "server", "repoServer", "applicationSet")),
        redis["containerSecurityContext"],
        redis["haproxy"]["containerSecurityContext"],
    ):
        assert context["runAsNonRoot"] is True and context["allowPrivilegeEscalation"] is False
        assert context["capabilities"] == {"drop": ["ALL"]} and context["seccompProfile"]["type"] == "RuntimeDefault"


def test_argo_cd_is_scraped_and_not_exposed(stack: StackRun) -> None:
    values = argocd_values(stack)["values"]
    for component in ("controller", "server", "repoServer", "applicationSet"):
        assert values[component]["metrics"] == {"enabled": True, "serviceMonitor": {"enabled": True}}
    assert values["redis-ha"]["haproxy"]["metrics"]["serviceMonitor"]["enabled"] is True
    assert values["server"]["ingress"]["enabled"] is False, "no public UI/API: operators use argocd --core"
    assert values["configs"]["cm"]["admin.enabled"] is False, "argocd --core needs no local admin account"
    assert values["configs"]["cm"]["exec.enabled"] is False
    assert values["global"]["networkPolicy"]["create"] is False, "the platform's NetworkPolicies govern argocd"
    # The root Application's sync waves wait for each child to become Healthy.
    assert "obj.status.health" in values["configs"]["cm"]["resource.customizations.health.argoproj.io_Application"]


def test_argo_cd_comes_after_the_node_groups_and_the_monitoring_crds(stack: StackRun) -> None:
    (release,) = [r for r in stack.of_type(RELEASE) if chart_of(r) == "argo-cd"]
    (monitoring,) = [r for r in stack.of_type(RELEASE) if chart_of(r) == "kube-prometheus-stack"]
    node_groups = [r.urn for r in stack.of_type("aws:eks/nodeGroup:NodeGroup")]
    assert monitoring.urn in release.dependencies
    assert node_groups and set(node_groups) <= set(release.dependencies)


# --- AppProjects -------------------------------------------------------------------------


def test_each_product_project_allows_exactly_its_chart_repositories_and_namespaces() -> None:
    specs = gitops.projects(APPS)
    assert set(specs) == {"edc", "portal"}
    assert specs["edc"]["sourceRepos"] == [CONNECTOR_CHART.repository]
    assert specs["edc"]["destinations"] == [{"server": IN_CLUSTER, "namespace": "edc-standalone"}]
    assert specs["portal"]["sourceRepos"] == ["https://eclipse-tractusx.github.io/charts/dev"]
    assert specs["portal"]["destinations"] == [{"server": IN_CLUSTER, "namespace": "tractus-x"}]
    for spec in specs.values():
        # Nothing cluster-scoped, so no Namespace either: namespaces are the program's.
        assert spec["clusterResourceWhitelist"] == []
        assert spec["clusterResourceBlacklist"] == [{"group": "*", "kind": "*"}]


def test_the_root_project_may_only_create_applications_in_argocd_from_argocd_apps(stack: StackRun) -> None:
    spec = project_specs(stack)[ROOT_PROJECT]["spec"]
    # The stack's copy holds only the pinned charts; whichever of them the root read, it
    # could create nothing but Applications in argocd.
    assert spec["sourceRepos"] == [stack_copy_path(stack)]
    assert spec["destinations"] == [{"server": IN_CLUSTER, "namespace": NAMESPACE}]
    assert spec["namespaceResourceWhitelist"] == [{"group": "argoproj.io", "kind": "Application"}]
    assert spec["clusterResourceWhitelist"] == []
    # One project per product of the platform's list, plus the root's.
    assert set(project_specs(stack)) == {ROOT_PROJECT, *(app.project for app in stack.applications)}


def test_a_product_cannot_take_the_root_project_and_names_are_unique() -> None:
    stolen = ChildApplication(**{**APPS[2].__dict__, "project": ROOT_PROJECT})
    with pytest.raises(ValueError, match="root Application"):
        gitops.projects([stolen])
    with pytest.raises(ValueError, match="unique"):
        gitops.root_values([APPS[0], APPS[0]])
    with pytest.raises(ValueError, match="root Application"):
        gitops.root_values([ChildApplication(**{**APPS[2].__dict__, "name": ROOT_APPLICATION})])


# --- the root Application and its children -----------------------------------------------


def test_root_application_is_tractus_x_umbrella_from_the_pinned_argocd_apps_chart(stack: StackRun) -> None:
    manifest = plain(root(stack).inputs)
    assert manifest["metadata"]["name"] == ROOT_APPLICATION and manifest["metadata"]["namespace"] == NAMESPACE
    assert manifest["metadata"]["finalizers"] == [RESOURCES_FINALIZER]
    spec = manifest["spec"]
    assert spec["project"] == ROOT_PROJECT
    assert (spec["source"]["repoURL"], spec["source"]["chart"], spec["source"]["targetRevision"]) == (
        stack_copy_path(stack),
        "argocd-apps",
        APPS_CHART.version,
    )
    assert spec["destination"] == {"server": IN_CLUSTER, "namespace": NAMESPACE}
    assert spec["syncPolicy"]["automated"] == {"prune": True, "selfHeal": True}
    assert stack.exports["rootApplication"] == ROOT_APPLICATION and stack.exports["argocdNamespace"] == NAMESPACE


def test_root_application_waits_for_argo_cd_and_its_projects(stack: StackRun) -> None:
    (release,) = [r for r in stack.of_type(RELEASE) if chart_of(r) == "argo-cd"]
    dependencies = set(root(stack).dependencies)
    assert release.urn in dependencies
    assert {r.urn for r in stack.of_type(APP_PROJECT)} <= dependencies


def children() -> dict[str, dict[str, Any]]:
    """The children the real argocd-apps chart renders from the root values of APPS."""
    return rendered_applications(fake_run("prod"))


def test_each_child_syncs_automatically_with_retries_waves_and_server_side_apply(crds: CrdIndex) -> None:
    rendered = children()
    assert set(rendered) == {"edc-connector", "centralidp", "portal"}
    for app in APPS:
        child = rendered[app.name]
        assert child["metadata"]["namespace"] == NAMESPACE
        assert child["metadata"]["annotations"] == {"argocd.argoproj.io/sync-wave": str(app.sync_wave)}
        assert child["metadata"]["finalizers"] == [RESOURCES_FINALIZER], "deleting an Application removes its objects"
        spec = child["spec"]
        assert spec["project"] == app.project
        assert spec["destination"] == {"server": IN_CLUSTER, "namespace": app.namespace}
        assert spec["source"] == {
            "repoURL": app.chart.repository,
            "chart": app.chart.name,
            "targetRevision": app.chart.version,
            "helm": {"releaseName": app.release, "valuesObject": app.values},
        }
        policy = spec["syncPolicy"]
        assert policy["automated"] == {"prune": True, "selfHeal": True}
        assert policy["syncOptions"] == ["ServerSideApply=true", "PruneLast=true", "RespectIgnoreDifferences=true"]
        assert not any(option.startswith("CreateNamespace") for option in policy["syncOptions"])
        retry = policy["retry"]
        assert retry["limit"] >= 5 and retry["backoff"]["factor"] >= 2
        assert retry["backoff"]["duration"] and retry["backoff"]["maxDuration"]
        assert crds.findings(child) == []


def test_keda_owns_the_replicas_of_the_scaled_deployments() -> None:
    rendered = children()
    assert rendered["edc-connector"]["spec"]["ignoreDifferences"] == [
        {
            "group": "apps",
            "kind": "Deployment",
            "name": name,
            "namespace": "edc-standalone",
            "jsonPointers": ["/spec/replicas"],
        }
        for name in ("edc-controlplane", "edc-dataplane")
    ]
    assert "ignoreDifferences" not in rendered["portal"]["spec"]


def fake_run(stack: str) -> StackRun:
    """A stack whose root Application holds APPS, as the component would register it."""
    spec = {
        "project": ROOT_PROJECT,
        "source": {
            "repoURL": APPS_CHART.repository,
            "chart": APPS_CHART.name,
            "targetRevision": APPS_CHART.version,
            "helm": {"releaseName": ROOT_APPLICATION, "valuesObject": gitops.root_values(APPS)},
        },
        "destination": {"server": IN_CLUSTER, "namespace": NAMESPACE},
        "syncPolicy": gitops.sync_policy(),
    }
    inputs = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {"name": ROOT_APPLICATION, "namespace": NAMESPACE},
        "spec": spec,
    }
    resource = RegisteredResource(APPLICATION, "root", "urn:root", inputs, "", True, "", "gitops")
    # The cluster in its own subnet, its nodes in another (the harness's ids: "<name>-id").
    cluster_inputs = {"version": "1.35", "vpcConfig": {"subnetIds": ["control-plane-id"]}}
    cluster = RegisteredResource(CLUSTER, "cluster", "urn:cluster", cluster_inputs, "", True, "", "cluster")
    nodes = RegisteredResource(
        "aws:eks/nodeGroup:NodeGroup", "nodes", "urn:nodes", {"subnetIds": ["private-id"]}, "", True, "", "cluster"
    )
    subnets = [
        RegisteredResource("aws:ec2/subnet:Subnet", name, f"urn:{name}", {"cidrBlock": cidr}, "", True, "", "network")
        for name, cidr in (("private", "10.40.0.0/19"), ("control-plane", "10.40.248.0/28"))
    ]
    exports = {"vpcCidr": "10.40.0.0/16", "serviceCidr": "172.20.0.0/16"}
    return StackRun(stack=stack, resources=[cluster, nodes, resource, *subnets], exports=exports)


def test_the_schema_check_covers_the_children_the_root_renders(renderings: dict[str, StackRendering]) -> None:
    run = fake_run("prod")
    broken = gitops.root_values(APPS)
    broken["applications"]["portal"]["syncPolicy"]["retry"]["backof"] = {}
    run.resources[2].inputs["spec"]["source"]["helm"]["valuesObject"] = broken
    rendering = render_stack(run)
    (crd,) = [c for c in renderings["prod"].all_crds() if c["metadata"]["name"] == "applications.argoproj.io"]
    rendering.program_objects.append((run.resources[0], crd))
    assert [f for f in objects_match_schema(rendering) if "portal" in f] == [
        "Argo CD Application tractus-x-umbrella: Application argocd/portal: spec.syncPolicy.retry.backof: unknown field"
    ]


def test_the_plan_writes_the_values_of_the_root_and_of_each_child_the_root_really_renders(tmp_path: Path) -> None:
    for stack in ("prod", "dr"):
        fake = fake_run(stack)
        write_plan(fake, render_stack(fake), tmp_path)
        written = tmp_path / stack / "applications"
        root = yaml.safe_load((written / f"{ROOT_APPLICATION}.yaml").read_text())
        assert sorted(root["applications"]) == ["centralidp", "edc-connector", "portal"]
        assert root["applications"]["portal"]["syncPolicy"]["retry"]["limit"] == 10
        for app in APPS:
            assert yaml.safe_load((written / f"{app.name}.yaml").read_text()) == app.values


# --- secrets, backups, network ----------------------------------------------------------


def test_no_secret_in_any_helm_values_or_application(stack: StackRun) -> None:
    for resource in stack.resources:
        if resource.type in (RELEASE, APPLICATION):
            props = plain(resource.inputs)
            assert rules.no_secrets_in_values(rules.Resource(resource.type, resource.name, props)) == []


def test_the_config_backup_can_read_argo_cd_applications_projects_and_secrets(stack: StackRun) -> None:
    """Playbook "Backup Strategy": ArgoCD applications and projects are in the configuration backup."""
    (role,) = [
        plain(r.inputs)
        for r in stack.of_type("kubernetes:rbac.authorization.k8s.io/v1:ClusterRole")
        if r.inputs["metadata"]["name"] == f"{CONFIG_BACKUP.name}-reader"
    ]

    def can(verb: str, group: str, resource: str) -> bool:
        return any(
            verb in rule["verbs"]
            and (group in rule["apiGroups"] or "*" in rule["apiGroups"])
            and (resource in rule["resources"] or "*" in rule["resources"])
            for rule in role["rules"]
        )

    for group, resource in (("argoproj.io", "applications"), ("argoproj.io", "appprojects"), ("", "secrets")):
        assert can("list", group, resource) and can("get", group, resource), f"{group}/{resource}"
    assert not any(can(verb, "argoproj.io", "applications") for verb in ("create", "update", "delete"))


ARGOCD_SERVER = (NAMESPACE, {"app.kubernetes.io/name": "argocd-server"})
REPO_SERVER = (NAMESPACE, dict(gitops.REPO_SERVER_LABELS))
CONTROLLER = (NAMESPACE, {"app.kubernetes.io/name": "argocd-application-controller"})
HAPROXY = (NAMESPACE, dict(gitops.HAPROXY_LABELS))
REDIS_SERVER = (NAMESPACE, {"app": "redis-ha", "release": "argocd"})


# --- the policy against secret-looking values -------------------------------------------

PEM = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----"
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJjb25uZWN0b3IifQ.c2lnbmF0dXJlLW9mLXRoZS10b2tlbg"


@pytest.mark.parametrize(
    ("values", "violation"),
    [
        ({"postgresql": {"auth": {"password": "s3cr3t-pass"}}}, "values.postgresql.auth.password is a literal"),
        ({"keycloak": {"clientSecret": "abc123"}}, "clientSecret is a literal credential"),
        ({"vault": {"hashicorp": {"token": "hvs.CAESIJ"}}}, "token is a literal credential"),
        ({"monitoring": {"apiKey": "k-123"}}, "apiKey is a literal credential"),
        ({"tls": {"privateKey": "key-material"}}, "privateKey is a literal credential"),
        ({"env": [{"name": "EDC_API_AUTH_KEY", "value": "x"}]}, "sets EDC_API_AUTH_KEY to a literal value"),
        ({"env": [{"name": "DB_PASSWORD", "value": "hunter22"}]}, "sets DB_PASSWORD to a literal value"),
        ({"config": {"cert": PEM}}, "contains a PEM private key"),
        ({"aws": {"id": "AKIAABCDEFGHIJKLMNOP"}}, "contains an AWS access key id"),
        ({"aws": {"id": "ASIAABCDEFGHIJKLMNOP"}}, "contains an AWS access key id"),
        ({"header": f"Bearer {JWT}"}, "contains a JSON Web Token"),
        ({"slack": {"channel": "xoxb-1234567890-abcdefghij"}}, "contains a Slack token"),
        ({"hook": "https://hooks.slack.com/services/T000/B000/XXXXXXXX"}, "contains a Slack webhook URL"),
        (
            {"pd": "https://events.pagerduty.com/integration/0123456789abcdef0123456789abcdef/enqueue"},
            "contains a PagerDuty integration URL",
        ),
        ({"pagerduty": {"routingKey": "0123456789abcdef"}}, "routingKey is a literal credential"),
        ({"datasource": {"url": "jdbc:postgresql://edc:pa55word@db:5432/edc"}}, "contains a URL with a password"),
    ],
)
def test_secret_looking_helm_values_are_rejected(values: dict[str, Any], violation: str) -> None:
    found = rules.no_secrets_in_values(rules.Resource(RELEASE, "app", {"values": values}))
    assert any(violation in v for v in found), found


def test_references_to_secrets_are_accepted() -> None:
    values = {
        "auth": {"existingSecret": "centralidp-admin", "passwordSecretKey": "password", "secretKey": "token"},
        "controlplane": {"endpoints": {"management": {"authKeySecretName": "edc-api-key"}}},
        "iatp": {"sts": {"oauth": {"client": {"secret_alias": "edc-sts-client-secret"}}}},
        "token": {"url": "https://sts.example.com/token", "endpoint": "https://sts.example.com"},
        "vault": {"hashicorp": {"token": "", "tokenSecretRef": "edc-vault-token", "paths": {"secret": "/v1/secret"}}},
        "alertmanager": {"configSecret": "alertmanager-config"},
        "tls": {"secretName": "tractus-x-tls"},
        "env": [{"name": "EDC_VAULT_TOKEN", "valueFrom": {"secretKeyRef": {"name": "edc-vault", "key": "token"}}}],
        "datasource": {"url": "jdbc:postgresql://db:5432/edc", "template": "postgres://edc:$(DB_PASSWORD)@db/edc"},
        "enabled": True,
        "password": "",
    }
    assert rules.no_secrets_in_values(rules.Resource(RELEASE, "app", {"values": values})) == []


def test_a_secret_in_a_child_of_the_root_application_is_rejected() -> None:
    leaky = ChildApplication(**{**APPS[2].__dict__, "values": {"postgresql": {"password": "s3cr3t-pass"}}})
    spec = {"source": {"helm": {"valuesObject": gitops.root_values([leaky])}}}
    found = rules.no_secrets_in_values(rules.Resource(APPLICATION, "root", {"spec": spec}))
    assert found == [
        "spec.source.helm.valuesObject.applications.portal.source.helm.valuesObject.postgresql.password "
        "is a literal credential; reference an existing Secret instead"
    ]
    assert any(rule.name == "no-secrets-in-values" for rule in rules.RESOURCE_RULES)


def test_a_program_secret_copied_into_an_application_is_caught() -> None:
    secret = RegisteredResource(
        "kubernetes:core/v1:Secret",
        "db",
        "urn:db",
        {"stringData": {rpc._special_sig_key: rpc._special_secret_sig, "value": {"password": "generated-pw-123"}}},
        "",
        True,
        "",
        "database",
    )
    run = fake_run("prod")
    values = run.resources[2].inputs["spec"]["source"]["helm"]["valuesObject"]
    values["applications"]["portal"]["source"]["helm"]["valuesObject"] = {"db": {"pass": "generated-pw-123"}}
    run.resources.append(secret)
    assert secrets_stay_secret(run) == [f"{APPLICATION} root: a secret value appears in an Argo CD Application"]


def test_the_real_children_have_exactly_their_projects_and_their_values_are_written(
    portal_runs: dict[str, StackRun], tmp_path: Path
) -> None:
    """With the portal on: every child's project exists and allows exactly its chart
    repository and namespace, and the plan writes each child's values."""
    assert rendered_applications(portal_runs["prod"]), "the portal's Applications are under the root"
    for name, run in portal_runs.items():
        children = rendered_applications(run)
        specs = {project: spec["spec"] for project, spec in project_specs(run).items()}
        assert set(specs) == {child["spec"]["project"] for child in children.values()} | {ROOT_PROJECT}
        for child in children.values():
            spec = specs[child["spec"]["project"]]
            assert child["spec"]["source"]["repoURL"] in spec["sourceRepos"]
            assert child["spec"]["destination"] in spec["destinations"]
        for project, spec in specs.items():
            mine = [c for c in children.values() if c["spec"]["project"] == project]
            if project != ROOT_PROJECT:
                assert spec["sourceRepos"] == sorted({c["spec"]["source"]["repoURL"] for c in mine})
        write_plan(run, render_stack(run), tmp_path / name)
        for child_name in children:
            assert (tmp_path / name / run.stack / "applications" / f"{child_name}.yaml").is_file()


def test_every_real_child_syncs_as_the_platform_requires(stack: StackRun) -> None:
    """The children the platform's products hand over (the connector on every stack):
    automated sync with retries, no CreateNamespace, a wave, the finalizer, KEDA-owned
    replicas ignored, and a project that allows exactly its repository and namespace."""
    children = rendered_applications(stack)
    assert children, "the connector's Application is under the root on every stack"
    projects = {name: spec["spec"] for name, spec in project_specs(stack).items()}
    for name, child in children.items():
        spec = child["spec"]
        # The connector's chart renders what server-side apply refuses (tests/test_rendering.py).
        server_side = name != "tractusx-connector"
        assert spec["syncPolicy"] == plain(gitops.sync_policy(server_side_apply=server_side)), name
        assert ("ServerSideApply=true" in spec["syncPolicy"]["syncOptions"]) is server_side
        assert not any("CreateNamespace" in option for option in spec["syncPolicy"]["syncOptions"])
        assert int(child["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"]) >= 0
        assert child["metadata"]["finalizers"] == [RESOURCES_FINALIZER]
        assert spec["destination"]["server"] == IN_CLUSTER
        project = projects[spec["project"]]
        mine = [c["spec"] for c in children.values() if c["spec"]["project"] == spec["project"]]
        assert project["sourceRepos"] == sorted({c["source"]["repoURL"] for c in mine})
        assert project["destinations"] == [
            {"server": IN_CLUSTER, "namespace": ns} for ns in sorted({c["destination"]["namespace"] for c in mine})
        ]
        for ignored in spec.get("ignoreDifferences", []):
            if ignored["kind"] == "Deployment":
                assert ignored["jsonPointers"] == ["/spec/replicas"] and ignored["group"] == "apps"
    connector = children["tractusx-connector"]["spec"]
    scaled = {i["name"] for i in connector["ignoreDifferences"] if i["kind"] == "Deployment"}
    assert scaled == {"edc-controlplane", "edc-dataplane"}, "KEDA owns both planes' replicas"


def test_root_application_waits_for_vault_its_bootstrap_and_external_secrets(stack: StackRun) -> None:
    """The products' Secrets exist before Argo CD syncs the products: the root Application
    depends on the ClusterSecretStore, the Vault bootstrap Job and every ExternalSecret of
    the products' namespaces."""
    dependencies = set(root(stack).dependencies)
    store = [r for r in stack.resources if r.type.endswith(":ClusterSecretStore")]
    namespaces = {child["spec"]["destination"]["namespace"] for child in rendered_applications(stack).values()}
    external_secrets = [
        r
        for r in stack.resources
        if r.type.endswith(":ExternalSecret") and r.inputs["metadata"].get("namespace") in namespaces
    ]
    jobs = [r for r in stack.of_type("kubernetes:batch/v1:Job") if r.component == "secrets"]
    assert len(store) == 1 and external_secrets and jobs
    assert {r.urn for r in (*store, *external_secrets, *jobs)} <= dependencies
