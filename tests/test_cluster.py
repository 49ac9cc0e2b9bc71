"""cluster: HA control plane, node groups sized as the playbook says, add-ons, access."""

from __future__ import annotations

import json

import pytest

from components.eks_addons import ADDON_VERSIONS, pin_problems
from components.node_autoscaler import IMAGE_TAGS, autoscaler_policy
from components.settings import (
    ACCESS_LEVEL_GROUPS,
    INSTANCE_TYPES,
    MIN_NODES,
    PRODUCTION_MINIMUM_MEMORY_GIB,
    PRODUCTION_MINIMUM_VCPU,
    PRODUCTION_RECOMMENDED_MEMORY_GIB,
    PRODUCTION_RECOMMENDED_VCPU,
    SUPPORTED_KUBERNETES_VERSIONS,
    kubernetes_service_ip,
)
from offline.checks import is_secret, kubernetes_uses_explicit_provider
from offline.harness import StackRun, run_stack
from tests.conftest import policy

ADDON = "aws:eks/addon:Addon"
API_ACCESS_GROUP = "tractusx-cluster-api-access"
CLUSTER = "aws:eks/cluster:Cluster"
INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"


def min_capacity(run: StackRun) -> tuple[int, int]:
    vcpu = memory = 0
    for group in run.of_type(NODE_GROUP):
        smallest = min((INSTANCE_TYPES[t] for t in group.inputs["instanceTypes"]), key=lambda t: t[0])
        nodes = int(group.inputs["scalingConfig"]["minSize"])
        vcpu, memory = vcpu + nodes * smallest[0], memory + nodes * smallest[1]
    return vcpu, memory


def test_prod_meets_the_playbooks_recommended_size(prod: StackRun) -> None:
    assert min_capacity(prod) >= (PRODUCTION_RECOMMENDED_VCPU, PRODUCTION_RECOMMENDED_MEMORY_GIB)


def test_dr_pilot_light_meets_the_production_minimum(dr: StackRun) -> None:
    assert min_capacity(dr) >= (PRODUCTION_MINIMUM_VCPU, PRODUCTION_MINIMUM_MEMORY_GIB)


def test_nodes_span_three_private_subnets_and_roll_a_quarter_at_a_time(stack: StackRun) -> None:
    for group in stack.of_type(NODE_GROUP):
        assert sorted(group.inputs["subnetIds"]) == sorted(stack.exports["privateSubnetIds"])
        assert len(set(group.inputs["subnetIds"])) == 3
        assert group.inputs["scalingConfig"]["minSize"] >= MIN_NODES
        assert group.inputs["updateConfig"] == {"maxUnavailablePercentage": 25}
        assert group.inputs["version"] == stack.one(CLUSTER).inputs["version"]


def test_node_volumes_are_encrypted_gp3_and_metadata_needs_imdsv2(stack: StackRun) -> None:
    # Every node group launches from a template of the stack (the harness's ids are
    # "<resource name>-id"); a group without one would get EKS's defaults: IMDSv1 allowed.
    templates = {f"{r.name}-id": r for r in stack.of_type("aws:ec2/launchTemplate:LaunchTemplate")}
    groups = stack.of_type(NODE_GROUP)
    assert groups
    for group in groups:
        template = templates[group.inputs["launchTemplate"]["id"]]
        (mapping,) = template.inputs["blockDeviceMappings"]
        assert mapping["ebs"]["volumeType"] == "gp3"
        assert mapping["ebs"]["encrypted"] == "true"
        assert template.inputs["metadataOptions"]["httpTokens"] == "required"
        assert template.inputs["metadataOptions"]["httpPutResponseHopLimit"] == 1


def test_control_plane_is_private_with_encrypted_secrets_and_audit_logs(stack: StackRun) -> None:
    cluster = stack.one(CLUSTER).inputs
    # The control plane's interfaces go into its own /28s, one per zone; nodes and pods
    # into the private subnets, where no control-plane interface is.
    subnets = {f"{r.name}-id": r.inputs for r in stack.of_type("aws:ec2/subnet:Subnet")}
    own = cluster["vpcConfig"]["subnetIds"]
    second = {"prod": "40", "dr": "41"}[stack.stack]
    assert [subnets[i]["cidrBlock"] for i in own] == [f"10.{second}.248.{n}/28" for n in (0, 16, 32)]
    assert not set(own) & set(stack.exports["privateSubnetIds"])
    for group in stack.of_type("aws:eks/nodeGroup:NodeGroup"):
        assert sorted(group.inputs["subnetIds"]) == sorted(stack.exports["privateSubnetIds"])
    assert cluster["vpcConfig"]["endpointPrivateAccess"] is True
    assert cluster["encryptionConfig"]["resources"] == ["secrets"]
    key_name = cluster["encryptionConfig"]["provider"]["keyArn"].rsplit(":", 1)[-1]
    assert stack.one("aws:kms/key:Key", key_name).inputs["enableKeyRotation"] is True
    assert "audit" in cluster["enabledClusterLogTypes"]
    assert cluster["accessConfig"]["authenticationMode"] == "API"
    log_group = stack.one("aws:cloudwatch/logGroup:LogGroup", "tractusx-cluster-control-plane-logs").inputs
    assert log_group["name"] == f"/aws/eks/{cluster['name']}/cluster"
    assert log_group["retentionInDays"] == 365
    assert log_group["kmsKeyId"]


def test_the_stacks_open_the_public_endpoint_to_their_declared_deployers_only(stack: StackRun) -> None:
    """The stack files' deployer CIDR (a documentation block, refused by `pulumi up` as an
    example value) opens the public endpoint to that network alone; the nodes keep using
    the private endpoint."""
    vpc = stack.one(CLUSTER).inputs["vpcConfig"]
    assert vpc["endpointPublicAccess"] is True
    assert vpc["publicAccessCidrs"] == ["203.0.113.0/24"]
    assert vpc["endpointPrivateAccess"] is True
    # Declared publicly only: the control plane's own security group admits nobody.
    assert _api_rules(stack) == []


def test_a_stack_reaching_the_api_privately_keeps_the_public_endpoint_closed() -> None:
    run = run_stack("prod", overrides={"apiPublicAccessCidrs": None, "apiPrivateAccessCidrs": ["10.8.0.0/16"]})
    vpc = run.one(CLUSTER).inputs["vpcConfig"]
    assert vpc["endpointPublicAccess"] is False
    assert "publicAccessCidrs" not in vpc
    assert vpc["endpointPrivateAccess"] is True


def test_declared_networks_and_runners_reach_the_private_endpoint_on_443_and_nothing_else() -> None:
    """EKS User Guide, "Cluster API server endpoint": a connected network or a runner in the
    VPC reaches the private endpoint when the control plane's security group admits it on
    443. The group is the control plane's alone (not the cluster security group EKS puts
    on every node), holds exactly one rule per declared source, and allows nothing else."""
    run = run_stack(
        "prod",
        overrides={
            "apiPrivateAccessCidrs": ["10.8.0.0/16", "172.31.0.0/20"],
            "apiPrivateAccessSecurityGroupIds": ["sg-0123456789abcdef0"],
        },
    )
    group = run.one(SECURITY_GROUP, API_ACCESS_GROUP)
    assert run.one(CLUSTER).inputs["vpcConfig"]["securityGroupIds"] == [f"{API_ACCESS_GROUP}-id"]
    assert "ingress" not in group.inputs and "egress" not in group.inputs
    assert _api_rules(run) == [
        {"cidrIpv4": "10.8.0.0/16", "ipProtocol": "tcp", "fromPort": 443, "toPort": 443},
        {"cidrIpv4": "172.31.0.0/20", "ipProtocol": "tcp", "fromPort": 443, "toPort": 443},
        {"referencedSecurityGroupId": "sg-0123456789abcdef0", "ipProtocol": "tcp", "fromPort": 443, "toPort": 443},
    ]
    # The declared sources are admitted nowhere else (not on the cluster security group).
    sources = {"10.8.0.0/16", "172.31.0.0/20", "sg-0123456789abcdef0"}
    elsewhere = [
        rule.name
        for rule in run.of_type(INGRESS_RULE)
        if rule.inputs["securityGroupId"] != f"{API_ACCESS_GROUP}-id"
        and {rule.inputs.get("cidrIpv4"), rule.inputs.get("referencedSecurityGroupId")} & sources
    ]
    assert elsewhere == []


def _api_rules(run: StackRun) -> list[dict[str, object]]:
    """The ingress rules of the control plane's API access group, by source."""
    keys = ("cidrIpv4", "referencedSecurityGroupId", "ipProtocol", "fromPort", "toPort")
    rules = [
        {key: rule.inputs[key] for key in keys if key in rule.inputs}
        for rule in run.of_type(INGRESS_RULE)
        if rule.inputs["securityGroupId"] == f"{API_ACCESS_GROUP}-id"
    ]
    return sorted(rules, key=lambda rule: str(rule.get("cidrIpv4", "~")) + str(rule.get("referencedSecurityGroupId")))


def test_oidc_provider_serves_irsa(stack: StackRun) -> None:
    provider = stack.one("aws:iam/openIdConnectProvider:OpenIdConnectProvider").inputs
    assert provider["clientIdLists"] == ["sts.amazonaws.com"]
    assert provider["url"] == stack.exports["oidcIssuerUrl"]


@pytest.mark.parametrize(
    ("role_name", "subject"),
    [
        ("tractusx-cluster-vpc-cni", "system:serviceaccount:kube-system:aws-node"),
        ("tractusx-cluster-ebs-csi", "system:serviceaccount:kube-system:ebs-csi-controller-sa"),
        ("tractusx-node-autoscaler-role", "system:serviceaccount:kube-system:cluster-autoscaler"),
    ],
)
def test_irsa_roles_trust_exactly_one_service_account(stack: StackRun, role_name: str, subject: str) -> None:
    (statement,) = policy(stack.one(ROLE, role_name).inputs["assumeRolePolicy"])["Statement"]
    assert statement["Principal"] == {"Federated": stack.exports["oidcProviderArn"]}
    conditions = statement["Condition"]["StringEquals"]
    host = stack.exports["oidcIssuerUrl"].removeprefix("https://")
    assert conditions == {f"{host}:sub": subject, f"{host}:aud": "sts.amazonaws.com"}


def test_addons_are_installed_at_the_versions_pinned_in_code(stack: StackRun) -> None:
    """Changed by review only: the stacks' Kubernetes 1.35 gets exactly the pins of
    components/eks_addons.py, and an update puts fields edited outside the add-on API back."""
    addons = stack.of_type(ADDON)
    assert {a.inputs["addonName"]: a.inputs["addonVersion"] for a in addons} == {
        "vpc-cni": "v1.21.1-eksbuild.8",
        "kube-proxy": "v1.35.3-eksbuild.13",
        "coredns": "v1.14.2-eksbuild.4",
        "aws-ebs-csi-driver": "v1.59.0-eksbuild.1",
    }
    for addon in addons:
        assert addon.inputs["resolveConflictsOnCreate"] == "OVERWRITE"
        assert addon.inputs["resolveConflictsOnUpdate"] == "OVERWRITE"


def test_a_1_34_cluster_gets_the_1_34_pins() -> None:
    run = run_stack("prod", overrides={"kubernetesVersion": "1.34"})
    assert {a.inputs["addonName"]: a.inputs["addonVersion"] for a in run.of_type(ADDON)} == {
        "vpc-cni": "v1.20.4-eksbuild.1",
        "kube-proxy": "v1.34.6-eksbuild.13",
        "coredns": "v1.13.2-eksbuild.7",
        "aws-ebs-csi-driver": "v1.59.0-eksbuild.1",
    }


def test_no_addon_version_is_looked_up_when_a_stack_is_planned_or_deployed(stack: StackRun) -> None:
    """A lookup (aws.eks.get_addon_version) would hand each `pulumi up` whatever AWS marks
    default that day; the harness records every provider function the program calls."""
    assert "aws:index/getCallerIdentity:getCallerIdentity" in stack.invokes
    assert [token for token in stack.invokes if token.startswith("aws:eks/")] == []


def test_every_supported_kubernetes_version_has_every_add_on_pinned() -> None:
    assert sorted(ADDON_VERSIONS) == sorted(SUPPORTED_KUBERNETES_VERSIONS)
    for version in SUPPORTED_KUBERNETES_VERSIONS:
        assert pin_problems(version) == []


@pytest.mark.parametrize(
    ("pins", "problem"),
    [
        (
            {"vpc-cni": "v1.21.1-eksbuild.8", "kube-proxy": "v1.35.3-eksbuild.13", "coredns": "v1.14.2-eksbuild.4"},
            "no aws-ebs-csi-driver version is pinned for Kubernetes 1.35",
        ),
        (
            {**ADDON_VERSIONS["1.35"], "kube-proxy": "v1.34.6-eksbuild.13"},
            "kube-proxy v1.34.6-eksbuild.13 is not of the cluster's minor 1.35",
        ),
        (
            {**ADDON_VERSIONS["1.35"], "coredns": "latest"},
            "coredns 'latest' is not an EKS add-on version (v<major>.<minor>.<patch>-eksbuild.<n>)",
        ),
        (
            {**ADDON_VERSIONS["1.35"], "metrics-server": "v0.8.1-eksbuild.6"},
            "metrics-server is pinned for Kubernetes 1.35; the cluster installs no such add-on",
        ),
    ],
)
def test_a_missing_malformed_or_skewed_pin_is_named(pins: dict[str, str], problem: str) -> None:
    assert pin_problems("1.35", {"1.35": pins}) == [problem]


def test_addons_are_installed_with_their_own_roles(stack: StackRun) -> None:
    addons = {a.inputs["addonName"]: a.inputs for a in stack.of_type(ADDON)}
    assert set(addons) == {"vpc-cni", "coredns", "kube-proxy", "aws-ebs-csi-driver"}
    assert addons["aws-ebs-csi-driver"]["serviceAccountRoleArn"].endswith("/tractusx-cluster-ebs-csi")
    assert addons["vpc-cni"]["serviceAccountRoleArn"].endswith("/tractusx-cluster-vpc-cni")
    node_policies = [
        r.inputs["policyArn"]
        for r in stack.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
        if r.name.startswith("tractusx-cluster-node-")
    ]
    assert not any("CNI" in arn for arn in node_policies)  # least privilege: CNI rights on aws-node only


def test_ebs_csi_driver_may_use_only_the_volume_key(stack: StackRun) -> None:
    statements = policy(stack.one(ROLE_POLICY, "tractusx-cluster-ebs-csi-policy").inputs["policy"])["Statement"]
    ebs_key_arn = stack.one("aws:kms/key:Key", "tractusx-cluster-ebs")
    assert {s["Resource"] for s in statements} == {
        f"arn:aws:kms:{stack.exports['region']}:123456789012:{ebs_key_arn.name}"
    }
    grants = next(s for s in statements if "kms:CreateGrant" in s["Action"])
    assert grants["Condition"] == {"Bool": {"kms:GrantIsForAWSResource": "true"}}


def test_default_storage_class_is_encrypted_gp3_with_the_customer_key(stack: StackRun) -> None:
    (storage_class,) = stack.of_type("kubernetes:storage.k8s.io/v1:StorageClass")
    spec = storage_class.inputs
    assert spec["metadata"]["annotations"]["storageclass.kubernetes.io/is-default-class"] == "true"
    assert spec["provisioner"] == "ebs.csi.aws.com"
    assert spec["parameters"]["type"] == "gp3"
    assert spec["parameters"]["encrypted"] == "true"
    assert spec["parameters"]["kmsKeyId"].endswith(":tractusx-cluster-ebs")


def test_access_entries_map_principals_to_the_rbac_groups() -> None:
    principals = {
        "admin": ["arn:aws:iam::123456789012:role/platform-team"],
        "developer": ["arn:aws:iam::123456789012:role/developers"],
        "readonly": ["arn:aws:iam::123456789012:user/auditor"],
    }
    run = run_stack("prod", overrides={"accessPrincipals": principals})
    entries = {e.inputs["principalArn"]: e.inputs for e in run.of_type("aws:eks/accessEntry:AccessEntry")}
    for level, arns in principals.items():
        for arn in arns:
            assert entries[arn]["kubernetesGroups"] == [ACCESS_LEVEL_GROUPS[level]]
            assert entries[arn]["type"] == "STANDARD"
    assert not any(group.startswith("system:") for group in ACCESS_LEVEL_GROUPS.values())


def test_cluster_autoscaler_scales_only_this_clusters_node_groups(stack: StackRun) -> None:
    cluster_name = stack.exports["clusterName"]
    statements = policy(stack.one(ROLE_POLICY, "tractusx-node-autoscaler-role-policy").inputs["policy"])["Statement"]
    assert statements == policy(autoscaler_policy(cluster_name))["Statement"]
    write = next(s for s in statements if "autoscaling:SetDesiredCapacity" in s["Action"])
    assert write["Condition"]["StringEquals"][f"aws:ResourceTag/k8s.io/cluster-autoscaler/{cluster_name}"] == "owned"
    release = stack.one("kubernetes:helm.sh/v3:Release", "tractusx-node-autoscaler-release").inputs
    assert release["values"]["autoDiscovery"]["clusterName"] == cluster_name
    assert release["values"]["image"]["tag"] == IMAGE_TAGS[stack.one(CLUSTER).inputs["version"]]
    assert release["values"]["rbac"]["serviceAccount"]["annotations"]["eks.amazonaws.com/role-arn"].endswith(
        "/tractusx-node-autoscaler-role"
    )
    assert release["version"]  # pinned chart


def test_node_groups_leave_the_current_size_to_the_autoscaler(stack: StackRun) -> None:
    # `pulumi up` must never undo a scale-out by resetting the desired size.
    for group in stack.of_type(NODE_GROUP):
        assert group.ignore_changes == ("scalingConfig.desiredSize",)
        assert group.inputs["scalingConfig"]["maxSize"] > group.inputs["scalingConfig"]["minSize"]


def test_nodes_join_after_networking_addons_and_before_workload_addons(stack: StackRun) -> None:
    addon_urns = {a.inputs["addonName"]: a.urn for a in stack.of_type("aws:eks/addon:Addon")}
    (group,) = stack.of_type(NODE_GROUP)
    assert {addon_urns["vpc-cni"], addon_urns["kube-proxy"]} <= set(group.dependencies)
    for workload_addon in ("coredns", "aws-ebs-csi-driver"):
        addon = next(a for a in stack.of_type("aws:eks/addon:Addon") if a.urn == addon_urns[workload_addon])
        assert group.urn in addon.dependencies


def test_every_kubernetes_resource_uses_the_clusters_provider(stack: StackRun) -> None:
    kubernetes = [r for r in stack.resources if r.custom and r.type.startswith("kubernetes:")]
    assert kubernetes
    assert kubernetes_uses_explicit_provider(stack) == []
    assert all("pulumi:providers:kubernetes::tractusx-cluster-k8s::" in r.provider for r in kubernetes)


def test_kubeconfig_is_a_secret_that_gets_tokens_from_aws(stack: StackRun) -> None:
    assert "kubeconfig" in stack.secret_exports
    config = json.loads(stack.exports["kubeconfig"])
    (user,) = config["users"]
    assert user["user"]["exec"]["command"] == "aws"
    assert user["user"]["exec"]["args"][:2] == ["eks", "get-token"]
    assert config["clusters"][0]["cluster"]["server"] == stack.exports["clusterEndpoint"]
    provider = stack.one("pulumi:providers:kubernetes")
    assert is_secret(provider.inputs["kubeconfig"])


def test_kubeconfig_uses_the_aws_profile_pulumi_deploys_with(stack: StackRun) -> None:
    """The stack files name no profile: the default credentials, as Pulumi's."""
    (user,) = json.loads(stack.exports["kubeconfig"])["users"]
    assert "env" not in user["user"]["exec"]
    with_profile = run_stack("prod", overrides={"aws:profile": "platform-deployer"})
    (user,) = json.loads(with_profile.exports["kubeconfig"])["users"]
    assert user["user"]["exec"]["env"] == [{"name": "AWS_PROFILE", "value": "platform-deployer"}]


def test_logs_key_lets_cloudwatch_logs_encrypt_only_this_accounts_log_groups(stack: StackRun) -> None:
    statements = {
        s["Sid"]: s for s in policy(stack.one("aws:kms/key:Key", "tractusx-logs").inputs["policy"])["Statement"]
    }
    region = stack.exports["region"]
    logs = statements["CloudWatchLogsInThisAccount"]
    assert logs["Principal"] == {"Service": f"logs.{region}.amazonaws.com"}
    assert logs["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"] == (
        f"arn:aws:logs:{region}:123456789012:log-group:*"
    )
    for group in stack.of_type("aws:cloudwatch/logGroup:LogGroup"):
        assert group.inputs["kmsKeyId"] == f"arn:aws:kms:{region}:123456789012:tractusx-logs"


def test_control_plane_role_is_trusted_by_eks_in_this_account_only(stack: StackRun) -> None:
    (statement,) = policy(stack.one(ROLE, "tractusx-cluster-control-plane").inputs["assumeRolePolicy"])["Statement"]
    assert statement["Principal"] == {"Service": "eks.amazonaws.com"}
    assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}
    attached = stack.one(
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment", "tractusx-cluster-control-plane-AmazonEKSClusterPolicy"
    )
    assert attached.inputs["policyArn"] == "arn:aws:iam::aws:policy/AmazonEKSClusterPolicy"


def test_the_service_cidr_is_pinned_so_policies_can_name_the_api_services_address(stack: StackRun) -> None:
    """EKS picks 10.100.0.0/16 or 172.20.0.0/16 when none is given and never changes it;
    the `kubernetes` Service, through which pods reach the API, has its first address."""
    (cluster,) = stack.of_type("aws:eks/cluster:Cluster")
    assert cluster.inputs["kubernetesNetworkConfig"] == {"serviceIpv4Cidr": "172.20.0.0/16", "ipFamily": "ipv4"}
    assert stack.exports["serviceCidr"] == "172.20.0.0/16"
    assert kubernetes_service_ip("172.20.0.0/16") == "172.20.0.1"
    assert kubernetes_service_ip("10.100.0.0/16") == "10.100.0.1"
