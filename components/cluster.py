"""EKS cluster: HA control plane, managed node groups over the zones, core add-ons, access.

The control plane runs in the private subnets with its API private, public only for the
configured operator networks. Kubernetes secrets are envelope-encrypted with a customer
KMS key, every control-plane log type (audit included) goes to an encrypted CloudWatch
log group, and every Kubernetes resource of the platform goes through the explicit
provider this component builds (``k8s_provider``), never the ambient kubeconfig.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from components.aws_context import AwsContext
from components.eks_addons import COREDNS, EBS_CSI_DRIVER, KUBE_PROXY, VPC_CNI, addon_version
from components.iam import OidcIssuer, irsa_trust_policy, policy_document, role, service_trust_policy
from components.keys import KEY_USE_ACTIONS, customer_key, encrypted_log_group
from components.registry import ImageCache
from components.settings import ACCESS_LEVEL_GROUPS, AccessPrincipals, ApiAccessSettings, NodeGroupSettings

# The EKS API endpoint, public and private, serves HTTPS on 443.
KUBERNETES_API_PORT = 443

CONTROL_PLANE_LOG_TYPES = ["api", "audit", "authenticator", "controllerManager", "scheduler"]

# Amazon Linux 2023: EKS publishes no Amazon Linux 2 AMIs for Kubernetes 1.33 and later.
NODE_AMI_TYPE = "AL2023_x86_64_STANDARD"

# Playbook "Update Procedures" > "Infrastructure Updates": nodes are replaced a quarter
# at a time (drain, replace, uncordon), so three quarters of capacity stays serving.
NODE_MAX_UNAVAILABLE_PERCENT = 25

EBS_CSI_SERVICE_ACCOUNT = ("kube-system", "ebs-csi-controller-sa")
VPC_CNI_SERVICE_ACCOUNT = ("kube-system", "aws-node")

# The VPC CNI enforces NetworkPolicies only when its network policy agent is on; without
# it every NetworkPolicy of the platform is accepted by the API and silently ignored.
VPC_CNI_CONFIGURATION = {"enableNetworkPolicy": "true"}

# Managed add-ons installed before the nodes join (networking) and after (scheduled pods).
NETWORK_ADDONS = (VPC_CNI, KUBE_PROXY)
WORKLOAD_ADDONS = (COREDNS, EBS_CSI_DRIVER)


@dataclass(frozen=True)
class ClusterArgs:
    cluster_name: str
    aws_profile: str | None
    kubernetes_version: str
    service_cidr: str
    private_subnet_ids: Sequence[pulumi.Input[str]]  # the nodes' and pods'
    # The cluster's own subnets, where the control plane's network interfaces go and nothing
    # else (components/network.py control_plane_cidrs).
    control_plane_subnet_ids: Sequence[pulumi.Input[str]]
    node_groups: Sequence[NodeGroupSettings]
    vpc_id: pulumi.Input[str]
    api_access: ApiAccessSettings
    access_principals: AccessPrincipals
    log_retention_days: int
    logs_key: aws.kms.Key
    deletion_protection: bool
    ctx: AwsContext
    tags: Mapping[str, str]
    # The stack's pull-through cache, which every image the nodes pull comes through.
    image_cache: ImageCache
    # An activated dr stack takes the primary's sizes ({group: {minSize, desiredSize,
    # maxSize}}, its `nodeGroupSizes` export) for its node groups of the same names.
    node_group_sizes: pulumi.Input[Mapping[str, Mapping[str, Any]]] | None = None


def scaling_of(sizes: Mapping[str, Mapping[str, Any]], group: str) -> dict[str, int]:
    """One group's sizes from the primary's ``nodeGroupSizes``, checked."""
    if group not in sizes:
        raise pulumi.RunError(
            f"tractusx-platform:nodeGroups: the primary stack has no node group {group!r} (it has "
            f"{', '.join(sorted(sizes)) or 'none'}); name the dr stack's node groups as the primary's"
        )
    return {key: int(sizes[group][key]) for key in ("minSize", "desiredSize", "maxSize")}


def kubeconfig(cluster_name: str, endpoint: str, ca_data: str, region: str, profile: str | None = None) -> str:
    """A kubeconfig whose credentials come from ``aws eks get-token`` at use time, as the
    AWS identity Pulumi deploys with (its profile, when the stack names one): the cluster
    admits the identity that created it, and the program's Kubernetes resources must be
    created as that identity."""
    command: dict[str, Any] = {
        "apiVersion": "client.authentication.k8s.io/v1beta1",
        "command": "aws",
        "args": ["eks", "get-token", "--cluster-name", cluster_name, "--region", region, "--output", "json"],
        "interactiveMode": "Never",
    }
    if profile:
        command["env"] = [{"name": "AWS_PROFILE", "value": profile}]
    user = {"exec": command}
    return json.dumps(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {"name": cluster_name, "cluster": {"server": endpoint, "certificate-authority-data": ca_data}}
            ],
            "contexts": [{"name": cluster_name, "context": {"cluster": cluster_name, "user": cluster_name}}],
            "current-context": cluster_name,
            "users": [{"name": cluster_name, "user": user}],
        },
        indent=2,
    )


class Cluster(pulumi.ComponentResource):
    cluster: aws.eks.Cluster
    name: pulumi.Output[str]
    endpoint: pulumi.Output[str]
    oidc: OidcIssuer
    node_role_arn: pulumi.Output[str]
    security_group_id: pulumi.Output[str]
    kubeconfig: pulumi.Output[str]
    k8s_provider: k8s.Provider
    node_groups: list[aws.eks.NodeGroup]

    def __init__(self, name: str, args: ClusterArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("tractusx:cluster:Cluster", name, None, opts)
        self._name = name
        self._args = args
        self.cluster = self._control_plane()
        self.name = self.cluster.name
        self.endpoint = self.cluster.endpoint
        self.security_group_id = self.cluster.vpc_config.cluster_security_group_id
        self.oidc = self._oidc_provider()

        network_addons = [self._addon(addon) for addon in NETWORK_ADDONS]
        # No node pulls an image before the cache rules that serve it exist.
        self.node_groups = self._node_groups(depends_on=[*network_addons, args.image_cache])
        ebs_key = self._key("ebs", "Encryption of persistent volumes")
        self.addons = network_addons + [
            self._addon(addon, depends_on=self.node_groups, ebs_key=ebs_key) for addon in WORKLOAD_ADDONS
        ]
        self._access_entries()

        self.kubeconfig = pulumi.Output.secret(
            pulumi.Output.all(self.cluster.name, self.cluster.endpoint, self.cluster.certificate_authority.data).apply(
                lambda values: kubeconfig(values[0], values[1], values[2], args.ctx.region, args.aws_profile)
            )
        )
        self.k8s_provider = k8s.Provider(
            f"{name}-k8s",
            kubeconfig=self.kubeconfig,
            enable_server_side_apply=True,
            opts=pulumi.ResourceOptions(parent=self, depends_on=self.addons),
        )
        self._default_storage_class(ebs_key)
        self.register_outputs(
            {
                "name": self.name,
                "endpoint": self.endpoint,
                "oidc_provider_arn": self.oidc.provider_arn,
                "oidc_issuer_url": self.oidc.issuer_url,
                "node_role_arn": self.node_role_arn,
                "kubeconfig": self.kubeconfig,
            }
        )

    # --- control plane -------------------------------------------------------------

    def _control_plane(self) -> aws.eks.Cluster:
        args = self._args
        self.secrets_key = self._key("secrets", "Envelope encryption of Kubernetes secrets")
        cluster_role = role(
            f"{self._name}-control-plane",
            trust_policy=service_trust_policy("eks.amazonaws.com", args.ctx),
            description=f"EKS control plane of {args.cluster_name}",
            parent=self,
            tags=args.tags,
            managed_policy_arns=[args.ctx.managed_policy("AmazonEKSClusterPolicy")],
            inline_policy=self.secrets_key.arn.apply(
                lambda arn: policy_document(
                    [
                        {
                            "Sid": "SecretsEnvelopeEncryption",
                            "Effect": "Allow",
                            "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ListGrants", "kms:DescribeKey"],
                            "Resource": arn,
                        }
                    ]
                )
            ),
        )
        # EKS writes to this fixed log group name; created first so it is encrypted and
        # has a retention instead of the never-expiring group EKS would create.
        log_group = encrypted_log_group(
            f"{self._name}-control-plane-logs",
            log_group_name=f"/aws/eks/{args.cluster_name}/cluster",
            key=args.logs_key,
            retention_days=args.log_retention_days,
            parent=self,
            tags=args.tags,
        )
        public = bool(args.api_access.public_cidrs)
        self.api_access_group = self._api_access_group()
        return aws.eks.Cluster(
            f"{self._name}-eks",
            name=args.cluster_name,
            version=args.kubernetes_version,
            role_arn=cluster_role.arn,
            vpc_config=aws.eks.ClusterVpcConfigArgs(
                subnet_ids=list(args.control_plane_subnet_ids),
                endpoint_private_access=True,
                endpoint_public_access=public,
                # Left unset, EKS opens a public endpoint to 0.0.0.0/0.
                public_access_cidrs=list(args.api_access.public_cidrs) if public else None,
                # Attached to the control plane's network interfaces only (the cluster
                # security group EKS creates is on every node and pod as well).
                security_group_ids=[self.api_access_group.id],
            ),
            # Pinned: NetworkPolicies name the `kubernetes` Service's address in it. EKS
            # cannot change it on a running cluster (a change replaces the cluster).
            kubernetes_network_config=aws.eks.ClusterKubernetesNetworkConfigArgs(
                service_ipv4_cidr=args.service_cidr, ip_family="ipv4"
            ),
            encryption_config=aws.eks.ClusterEncryptionConfigArgs(
                provider=aws.eks.ClusterEncryptionConfigProviderArgs(key_arn=self.secrets_key.arn),
                resources=["secrets"],
            ),
            enabled_cluster_log_types=CONTROL_PLANE_LOG_TYPES,
            # Access entries only (no aws-auth ConfigMap). The identity that runs
            # `pulumi up` keeps cluster-admin: it creates every Kubernetes resource of the
            # platform. Set explicitly: changing it later replaces the cluster.
            access_config=aws.eks.ClusterAccessConfigArgs(
                authentication_mode="API",
                bootstrap_cluster_creator_admin_permissions=True,
            ),
            # STANDARD: when a version leaves standard support EKS upgrades the cluster
            # instead of silently billing extended support.
            upgrade_policy=aws.eks.ClusterUpgradePolicyArgs(support_type="STANDARD"),
            deletion_protection=args.deletion_protection,
            tags={**args.tags, "Name": args.cluster_name},
            opts=pulumi.ResourceOptions(parent=self, depends_on=[log_group]),
        )

    def _api_access_group(self) -> aws.ec2.SecurityGroup:
        """The control plane's own security group: 443 from the declared private networks
        and runner security groups, nothing else.

        Amazon EKS User Guide, "Cluster API server endpoint": with the private endpoint, the
        API is reached from the VPC or a connected network, and the control plane's
        security group must allow ingress on 443 from that network or bastion. The rules
        are not put on the cluster security group (`cluster_security_group_id`): EKS puts
        that one on the managed nodes too ("View Amazon EKS security group requirements
        for clusters"), so a rule there would open every node and pod on 443 as well.
        The group is attached when the cluster is created and never changes; declaring
        or removing a deployer changes only its rules, never the cluster."""
        args = self._args
        group = aws.ec2.SecurityGroup(
            f"{self._name}-api-access",
            description=f"Kubernetes API of {args.cluster_name}: 443 from the declared deployers only",
            vpc_id=args.vpc_id,
            # No egress rule: the control plane's connections leave through the cluster
            # security group (and with none listed the provider removes the default one).
            tags={**args.tags, "Name": f"{args.cluster_name}-api-access"},
            opts=pulumi.ResourceOptions(parent=self),
        )
        sources: list[tuple[str, dict[str, str]]] = [
            (cidr.replace("/", "-"), {"cidr_ipv4": cidr}) for cidr in args.api_access.private_cidrs
        ] + [(source, {"referenced_security_group_id": source}) for source in args.api_access.security_group_ids]
        for label, source in sources:
            # Named by the source, so removing one deployer leaves the others' rules alone.
            aws.vpc.SecurityGroupIngressRule(
                f"{self._name}-api-from-{label}",
                security_group_id=group.id,
                ip_protocol="tcp",
                from_port=KUBERNETES_API_PORT,
                to_port=KUBERNETES_API_PORT,
                description="Kubernetes API from a declared deployer (apiPrivateAccess*)",
                tags=dict(args.tags),
                opts=pulumi.ResourceOptions(parent=group),
                **source,
            )
        return group

    def _oidc_provider(self) -> OidcIssuer:
        issuer = self.cluster.identities[0].oidcs[0].issuer.apply(str)
        provider = aws.iam.OpenIdConnectProvider(
            f"{self._name}-oidc",
            url=issuer,
            client_id_lists=["sts.amazonaws.com"],
            tags=dict(self._args.tags),
            opts=pulumi.ResourceOptions(parent=self),
        )
        return OidcIssuer(provider_arn=provider.arn, issuer_url=issuer)

    def irsa_role(
        self,
        name: str,
        *,
        namespace: str,
        service_account: str,
        description: str,
        managed_policy_arns: Sequence[str] = (),
        inline_policy: pulumi.Input[str] | None = None,
        parent: pulumi.Resource | None = None,
    ) -> aws.iam.Role:
        """An IAM role that only the given Kubernetes service account can assume."""
        return role(
            name,
            trust_policy=irsa_trust_policy(self.oidc, namespace, service_account),
            description=description,
            parent=parent or self,
            tags=self._args.tags,
            managed_policy_arns=managed_policy_arns,
            inline_policy=inline_policy,
        )

    # --- nodes ---------------------------------------------------------------------

    def _node_groups(self, depends_on: Sequence[pulumi.Resource]) -> list[aws.eks.NodeGroup]:
        args = self._args
        # No CNI policy on the node role: the VPC CNI gets it through its own IRSA role.
        # The inline policy lets the kubelet's pulls fill the pull-through cache.
        node_role = role(
            f"{self._name}-node",
            trust_policy=service_trust_policy("ec2.amazonaws.com", args.ctx),
            description=f"Worker nodes of {args.cluster_name}",
            parent=self,
            tags=args.tags,
            managed_policy_arns=[
                args.ctx.managed_policy("AmazonEKSWorkerNodePolicy"),
                args.ctx.managed_policy("AmazonEC2ContainerRegistryPullOnly"),
            ],
            inline_policy=args.image_cache.registry.node_pull_policy(),
        )
        self.node_role_arn = node_role.arn
        return [self._node_group(group, node_role, depends_on) for group in args.node_groups]

    def _node_group(
        self, group: NodeGroupSettings, node_role: aws.iam.Role, depends_on: Sequence[pulumi.Resource]
    ) -> aws.eks.NodeGroup:
        args = self._args
        name = f"{self._name}-{group.name}"
        template = aws.ec2.LaunchTemplate(
            name,
            description=f"Nodes of {args.cluster_name}/{group.name}: encrypted gp3 root volume, IMDSv2 only",
            block_device_mappings=[
                aws.ec2.LaunchTemplateBlockDeviceMappingArgs(
                    device_name="/dev/xvda",
                    ebs=aws.ec2.LaunchTemplateBlockDeviceMappingEbsArgs(
                        volume_type="gp3",
                        volume_size=group.disk_size_gib,
                        encrypted="true",
                        delete_on_termination="true",
                    ),
                )
            ],
            # IMDSv2 with a hop limit of 1: pods cannot reach the node's instance role;
            # workloads that call AWS get their own IRSA role.
            metadata_options=aws.ec2.LaunchTemplateMetadataOptionsArgs(
                http_endpoint="enabled",
                http_tokens="required",
                http_put_response_hop_limit=1,
            ),
            tag_specifications=[
                aws.ec2.LaunchTemplateTagSpecificationArgs(
                    resource_type=kind, tags={**args.tags, "Name": f"{args.cluster_name}-{group.name}"}
                )
                for kind in ("instance", "volume")
            ],
            tags=dict(args.tags),
            opts=pulumi.ResourceOptions(parent=self),
        )
        return aws.eks.NodeGroup(
            name,
            cluster_name=self.cluster.name,
            node_group_name_prefix=f"{group.name}-",
            node_role_arn=node_role.arn,
            subnet_ids=list(args.private_subnet_ids),
            version=self.cluster.version,
            ami_type=NODE_AMI_TYPE,
            capacity_type=group.capacity_type,
            instance_types=list(group.instance_types),
            launch_template=aws.eks.NodeGroupLaunchTemplateArgs(
                id=template.id, version=template.latest_version.apply(str)
            ),
            scaling_config=self._scaling(group),
            update_config=aws.eks.NodeGroupUpdateConfigArgs(max_unavailable_percentage=NODE_MAX_UNAVAILABLE_PERCENT),
            labels={"tractus-x.io/node-group": group.name},
            tags={**args.tags, "Name": f"{args.cluster_name}-{group.name}"},
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=list(depends_on),
                # The cluster autoscaler owns the current size; Pulumi keeps min and max.
                # Not on an activated dr stack: EKS refuses a minimum above the current
                # desired size, so scaling the pilot light out to the primary's minimum
                # sets the desired size with it (and every later `pulumi up` of the
                # activated stack sets it back to the primary's desired size, never below
                # the minimum; the autoscaler adds nodes again as pods need them).
                ignore_changes=[] if args.node_group_sizes is not None else ["scalingConfig.desiredSize"],
                # A new prefix-named group is created before the old one is drained.
                delete_before_replace=False,
            ),
        )

    def _scaling(self, group: NodeGroupSettings) -> aws.eks.NodeGroupScalingConfigArgs:
        sizes = self._args.node_group_sizes
        if sizes is None:
            return aws.eks.NodeGroupScalingConfigArgs(
                min_size=group.min_size, desired_size=group.desired_size, max_size=group.max_size
            )
        scaling = pulumi.Output.from_input(sizes).apply(lambda all_sizes: scaling_of(all_sizes, group.name))
        return aws.eks.NodeGroupScalingConfigArgs(
            min_size=scaling.apply(lambda s: s["minSize"]),
            desired_size=scaling.apply(lambda s: s["desiredSize"]),
            max_size=scaling.apply(lambda s: s["maxSize"]),
        )

    # --- add-ons and storage ---------------------------------------------------------

    def _key(self, purpose: str, description: str) -> aws.kms.Key:
        args = self._args
        return customer_key(
            f"{self._name}-{purpose}",
            alias=f"{args.cluster_name}-{purpose}",
            description=f"{description} in {args.cluster_name}",
            ctx=args.ctx,
            parent=self,
            tags=args.tags,
        )

    def _addon(
        self,
        addon: str,
        depends_on: Sequence[pulumi.Resource] = (),
        ebs_key: aws.kms.Key | None = None,
    ) -> aws.eks.Addon:
        args = self._args
        service_account_role = None
        configuration: str | None = None
        if addon == VPC_CNI:
            configuration = json.dumps(VPC_CNI_CONFIGURATION)
            service_account_role = self.irsa_role(
                f"{self._name}-vpc-cni",
                namespace=VPC_CNI_SERVICE_ACCOUNT[0],
                service_account=VPC_CNI_SERVICE_ACCOUNT[1],
                description="VPC CNI plugin (aws-node): assigns pod IP addresses",
                managed_policy_arns=[args.ctx.managed_policy("AmazonEKS_CNI_Policy")],
            )
        elif addon == EBS_CSI_DRIVER and ebs_key is not None:
            service_account_role = self.irsa_role(
                f"{self._name}-ebs-csi",
                namespace=EBS_CSI_SERVICE_ACCOUNT[0],
                service_account=EBS_CSI_SERVICE_ACCOUNT[1],
                description="EBS CSI driver: creates and attaches encrypted persistent volumes",
                managed_policy_arns=[args.ctx.managed_policy("service-role/AmazonEBSCSIDriverPolicy")],
                inline_policy=ebs_key.arn.apply(_ebs_key_policy),
            )
        return aws.eks.Addon(
            f"{self._name}-{addon}",
            cluster_name=self.cluster.name,
            addon_name=addon,
            # Pinned in code and changed by review (components/eks_addons.py), never
            # looked up: a lookup on every `pulumi up` would move the add-on whenever AWS
            # publishes a new build.
            addon_version=addon_version(addon, args.kubernetes_version),
            service_account_role_arn=service_account_role.arn if service_account_role else None,
            configuration_values=configuration,
            # EKS installs self-managed copies of the networking add-ons with the cluster;
            # the managed add-on takes them over.
            resolve_conflicts_on_create="OVERWRITE",
            # UpdateAddon's resolveConflicts (EKS API Reference): OVERWRITE sets a field
            # changed outside the add-on API back to EKS's default, PRESERVE keeps it. The
            # reviewed state is the pinned version plus configuration_values, which EKS
            # applies either way; what OVERWRITE undoes is an edit made with kubectl that
            # no review saw, and which PRESERVE would carry into every later version.
            resolve_conflicts_on_update="OVERWRITE",
            tags=dict(args.tags),
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(depends_on)),
        )

    def _default_storage_class(self, ebs_key: aws.kms.Key) -> k8s.storage.v1.StorageClass:
        return k8s.storage.v1.StorageClass(
            f"{self._name}-gp3",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name="gp3-encrypted",
                annotations={"storageclass.kubernetes.io/is-default-class": "true"},
            ),
            provisioner="ebs.csi.aws.com",
            parameters={
                "type": "gp3",
                "encrypted": "true",
                "kmsKeyId": ebs_key.arn,
                "csi.storage.k8s.io/fstype": "ext4",
            },
            # Volumes are created in the zone of the pod that claims them.
            volume_binding_mode="WaitForFirstConsumer",
            allow_volume_expansion=True,
            # A deleted claim keeps its volume: production data is released by an operator.
            reclaim_policy="Retain",
            opts=pulumi.ResourceOptions(parent=self, provider=self.k8s_provider),
        )

    # --- access --------------------------------------------------------------------

    def _access_entries(self) -> None:
        args = self._args
        if not args.access_principals.admin:
            # The creator keeps admin (bootstrap_cluster_creator_admin_permissions); with no
            # other admin, CI and on-call are locked out whenever that identity is gone.
            pulumi.log.warn(
                "tractusx-platform:accessPrincipals.admin lists no principal: only the identity that runs "
                "`pulumi up` can administer the cluster; declare the CI and on-call roles there",
                resource=self,
            )
        for level, principals in args.access_principals.by_level().items():
            for principal in principals:
                # Named by the principal, so removing one entry leaves the others untouched.
                identity = principal.split(":", 5)[5].replace("/", "-")
                aws.eks.AccessEntry(
                    f"{self._name}-access-{level}-{identity}",
                    cluster_name=self.cluster.name,
                    principal_arn=principal,
                    type="STANDARD",
                    kubernetes_groups=[ACCESS_LEVEL_GROUPS[level]],
                    tags=dict(args.tags),
                    opts=pulumi.ResourceOptions(parent=self),
                )


def _ebs_key_policy(key_arn: str) -> str:
    """What the EBS CSI driver needs on the customer key (AWS EBS CSI driver guide)."""
    return policy_document(
        [
            {
                "Sid": "GrantsForAttachedVolumes",
                "Effect": "Allow",
                "Action": ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"],
                "Resource": key_arn,
                "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}},
            },
            {"Sid": "VolumeEncryption", "Effect": "Allow", "Action": KEY_USE_ACTIONS, "Resource": key_arn},
        ]
    )
