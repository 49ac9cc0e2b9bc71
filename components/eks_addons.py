"""Every EKS managed add-on the cluster installs, pinned per Kubernetes version, in one place.

Left unpinned (or looked up on every ``pulumi up``), an add-on changes whenever AWS
publishes a newer build, with no review and no preview that names the change. Here each
version is a reviewed constant: bumping one is a change of this file, and ``pulumi
preview`` shows the add-on's new ``addonVersion`` before anything is applied (README,
"EKS add-ons"). The settings refuse a ``kubernetesVersion`` this table does not pin
completely, so a Kubernetes version is supported only together with its add-ons.

Sources, per add-on (EKS add-on versions are ``<upstream>-eksbuild.<n>``):

- kube-proxy: Amazon EKS User Guide, "Manage kube-proxy in Amazon EKS clusters", table
  "kube-proxy versions" (managing-kube-proxy; read at
  docs.aws.amazon.com/ja_jp/eks/latest/userguide/managing-kube-proxy.md): 1.35
  v1.35.3-eksbuild.13, 1.34 v1.34.6-eksbuild.13. kube-proxy's minor must be the
  cluster's (Kubernetes version skew policy), which pin_problems checks.
- coredns: Amazon EKS User Guide, "Manage CoreDNS for DNS in Amazon EKS clusters", table
  "CoreDNS versions" (managing-coredns; read at
  docs.amazonaws.cn/en_us/eks/latest/userguide/managing-coredns.md): 1.35
  v1.14.2-eksbuild.4, 1.34 v1.13.2-eksbuild.7.
- vpc-cni: Amazon EKS User Guide, "Assign IPs to Pods with the Amazon VPC CNI", table
  "Amazon VPC CNI versions" (managing-vpc-cni): 1.34 v1.20.4-eksbuild.1. The copy of the
  table read has rows up to 1.34 only; the 1.35 pin, v1.21.1-eksbuild.8, is the version
  public EKS 1.35 deployments record from ``aws eks describe-addon-versions --addon-name
  vpc-cni --kubernetes-version 1.35`` and run.
- aws-ebs-csi-driver: the User Guide publishes no version table for it ("Manage the
  Amazon EBS CSI driver as an Amazon EKS add-on" points to ``aws eks
  describe-addon-versions --addon-name aws-ebs-csi-driver``); v1.59.0-eksbuild.1 is the
  version public EKS 1.34 and 1.35 deployments record from that command and run.

Kubernetes 1.36 is not supported: no vpc-cni, CoreDNS or EBS CSI driver version for it
could be taken from the User Guide (settings.SUPPORTED_KUBERNETES_VERSIONS).

To bump: read the add-on's version for each Kubernetes version with ``aws eks
describe-addon-versions --addon-name <add-on> --kubernetes-version <version>`` (or the
User Guide's table), change it here with its source, and review ``pulumi preview``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

VPC_CNI = "vpc-cni"
KUBE_PROXY = "kube-proxy"
COREDNS = "coredns"
EBS_CSI_DRIVER = "aws-ebs-csi-driver"
ADDONS = (VPC_CNI, KUBE_PROXY, COREDNS, EBS_CSI_DRIVER)

# {Kubernetes version: {add-on: EKS add-on version}}; sources in the module docstring.
ADDON_VERSIONS: Mapping[str, Mapping[str, str]] = {
    "1.34": {
        VPC_CNI: "v1.20.4-eksbuild.1",
        KUBE_PROXY: "v1.34.6-eksbuild.13",
        COREDNS: "v1.13.2-eksbuild.7",
        EBS_CSI_DRIVER: "v1.59.0-eksbuild.1",
    },
    "1.35": {
        VPC_CNI: "v1.21.1-eksbuild.8",
        KUBE_PROXY: "v1.35.3-eksbuild.13",
        COREDNS: "v1.14.2-eksbuild.4",
        EBS_CSI_DRIVER: "v1.59.0-eksbuild.1",
    },
}

# "Versions are specified as major-version.minor-version.patch-version-eksbuild.build-number"
# (Amazon EKS User Guide, Amazon VPC CNI, "Considerations").
_EKS_ADDON_VERSION = re.compile(r"^v(\d+)\.(\d+)\.\d+-eksbuild\.\d+$")


def pin_problems(kubernetes_version: str, table: Mapping[str, Mapping[str, str]] | None = None) -> list[str]:
    """What keeps ``kubernetes_version`` from being deployed with pinned add-ons: an add-on
    without a pin, a pin that is not an EKS add-on version, a kube-proxy of another minor.
    ``table`` defaults to ADDON_VERSIONS."""
    pins = (ADDON_VERSIONS if table is None else table).get(kubernetes_version, {})
    problems = []
    for addon in ADDONS:
        version = pins.get(addon)
        if version is None:
            problems.append(f"no {addon} version is pinned for Kubernetes {kubernetes_version}")
            continue
        match = _EKS_ADDON_VERSION.match(version)
        if match is None:
            problems.append(f"{addon} {version!r} is not an EKS add-on version (v<major>.<minor>.<patch>-eksbuild.<n>)")
        elif addon == KUBE_PROXY and f"{match[1]}.{match[2]}" != kubernetes_version:
            problems.append(f"kube-proxy {version} is not of the cluster's minor {kubernetes_version}")
    for unknown in sorted(set(pins) - set(ADDONS)):
        problems.append(f"{unknown} is pinned for Kubernetes {kubernetes_version}; the cluster installs no such add-on")
    return problems


def addon_version(addon: str, kubernetes_version: str) -> str:
    """The pinned version of ``addon`` for the cluster's Kubernetes version."""
    return ADDON_VERSIONS[kubernetes_version][addon]
