"""The Kubernetes API of the dr cluster, reached the way ``aws eks get-token`` does.

EKS authenticates a bearer token that is a presigned STS GetCallerIdentity URL with the
header ``x-k8s-aws-id: <cluster name>`` signed in, base64url-encoded without padding and
prefixed ``k8s-aws-v1.``; it is valid for 15 minutes (aws-iam-authenticator README, "API
Authorization from Outside a Cluster"; awscli ``customizations/eks/get_token.py``). The
activation asks for a fresh one before every request, so a step longer than that keeps
working. The endpoint and CA come from ``eks:DescribeCluster`` in dr's region: nothing of
prod's region is asked.
"""

from __future__ import annotations

import base64
import tempfile
from pathlib import Path
from typing import Any

from txbackup.kube import KubeClient

TOKEN_PREFIX = "k8s-aws-v1."
CLUSTER_ID_HEADER = "x-k8s-aws-id"
TOKEN_EXPIRES_SECONDS = 60  # the URL's own expiry; EKS accepts the token for 15 minutes


def token(sts: Any, cluster_name: str) -> str:
    """A bearer token for ``cluster_name`` from an STS client of the cluster's region."""

    def add_cluster_header(request: Any, **_: Any) -> None:
        request.headers[CLUSTER_ID_HEADER] = cluster_name

    events = sts.meta.events
    events.register_first("before-sign.sts.GetCallerIdentity", add_cluster_header, unique_id="txdr-cluster-id")
    try:
        url = sts.generate_presigned_url(
            "get_caller_identity", Params={}, ExpiresIn=TOKEN_EXPIRES_SECONDS, HttpMethod="GET"
        )
    finally:
        events.unregister("before-sign.sts.GetCallerIdentity", unique_id="txdr-cluster-id")
    return TOKEN_PREFIX + base64.urlsafe_b64encode(url.encode()).decode().rstrip("=")


def cluster_client(eks: Any, sts: Any, cluster_name: str, directory: Path | None = None) -> KubeClient:
    """A client of the cluster's API endpoint, verified against the cluster's own CA."""
    cluster = eks.describe_cluster(name=cluster_name)["cluster"]
    ca = base64.b64decode(cluster["certificateAuthority"]["data"])
    ca_file = Path(tempfile.mkdtemp(dir=directory)) / "ca.crt"
    ca_file.write_bytes(ca)
    return KubeClient(cluster["endpoint"], lambda: token(sts, cluster_name), str(ca_file))
