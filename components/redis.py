"""The platform's in-memory cache (playbook "Vertical Scaling" > "In-Memory Caches (Redis)").

In-cluster Valkey rather than ElastiCache or the ``redis`` image:
- Licence: Redis 7.4 and later are under RSALv2/SSPL (8.x adds AGPLv3 as a third
  option); Valkey is the BSD-3-Clause fork of Redis 7.2 under the Linux Foundation,
  wire-compatible with Redis clients (RESP, ``AUTH``, the same commands), published as
  the official ``valkey/valkey`` image.
- Sizing: the playbook sizes the cache as a container (requests 2Gi/500m, limits
  4Gi/1000m); in the cluster those numbers apply as written, with the cache beside the
  Tractus-X applications in ``tractus-x`` and covered by the same NetworkPolicies, RBAC,
  backups of configuration and monitoring. ElastiCache has no such size; its nearest
  node types add a second billing and network boundary for a cache.
Persistence is an append-only file on an encrypted gp3 volume (the default StorageClass
``gp3-encrypted``, customer KMS key), so a restarted pod keeps its data. The password
is a generated one in a Secret; it reaches the server on standard input, never in a
ConfigMap, an argument or the pod spec.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components.cluster import Cluster
from components.namespaces import Namespaces
from components.passwords import generated_password
from components.registry import ImageRegistry
from components.traffic import ServiceRef

# Valkey 9.0 (BSD-3-Clause), Alpine variant; tag and digest pinned together.
IMAGE = "valkey/valkey:9.0.5-alpine@sha256:0cb61366757e2bcd26500b4e8bb63cbd7117610e3e4f05aacb3c812511da7632"
# The image's own valkey user and group (alpine variant of the official Dockerfile).
USER_ID = 999
GROUP_ID = 1000

NAMESPACE = "tractus-x"
NAME = "redis"  # the Service name applications connect to: redis.tractus-x.svc:6379
SECRET_NAME = "redis"
PORT = 6379
POD_LABELS = {"app.kubernetes.io/name": NAME, "app.kubernetes.io/part-of": "tractusx-platform"}
# What an application that uses the cache declares it reaches (components/traffic.py): no
# workload of the platform does, so the NetworkPolicies admit no client until one does.
SERVICE = ServiceRef(NAMESPACE, NAME, {"app.kubernetes.io/name": NAME})

# Playbook "In-Memory Caches (Redis)".
REQUESTS = {"memory": "2Gi", "cpu": "500m"}
LIMITS = {"memory": "4Gi", "cpu": "1000m"}
# Three quarters of the memory limit: an append-only-file rewrite forks the server, and
# pages written meanwhile are copied; the rest covers buffers. Past it, least recently
# used keys are evicted instead of the container being OOM-killed.
MAXMEMORY = "3gb"
MAXMEMORY_POLICY = "allkeys-lru"
STORAGE_CLASS = "gp3-encrypted"
VOLUME_SIZE = "20Gi"

# Settings on the command line; the password alone comes on standard input ("-" must be
# the last argument), so it never appears in the process list or the pod spec.
SERVER_ARGS = [
    f"--port {PORT}",
    "--dir /data",
    "--appendonly yes",
    "--appendfsync everysec",
    f"--maxmemory {MAXMEMORY}",
    f"--maxmemory-policy {MAXMEMORY_POLICY}",
]
START_SCRIPT = f'exec valkey-server {" ".join(SERVER_ARGS)} - <<EOF\nrequirepass "$VALKEY_PASSWORD"\nEOF\n'
# valkey-cli reads the password from the environment (VALKEYCLI_AUTH; REDISCLI_AUTH on
# older clients), not from an argument; the probe passes only on an authenticated PONG.
PING = f"valkey-cli -p {PORT} ping | grep -q PONG"


@dataclass(frozen=True)
class RedisArgs:
    cluster: Cluster
    namespaces: Namespaces
    secret_rotation: int
    images: ImageRegistry


class Redis(pulumi.ComponentResource):
    """One Valkey server (StatefulSet of one: the cache has a single writer, and a PDB
    for one replica would only block node drains), its Secret and Service."""

    endpoint: str

    def __init__(self, name: str, args: RedisArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("tractusx:redis:Redis", name, None, opts)
        k8s_opts = pulumi.ResourceOptions(
            parent=self,
            provider=args.cluster.k8s_provider,
            depends_on=[args.namespaces.namespace(NAMESPACE)],
        )
        labels = dict(POD_LABELS)
        self.password = generated_password(f"{name}-password", args.secret_rotation, self)
        secret = k8s.core.v1.Secret(
            f"{name}-secret",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=SECRET_NAME, namespace=NAMESPACE, labels=labels),
            type="Opaque",
            string_data={"password": self.password},
            opts=k8s_opts,
        )
        service = k8s.core.v1.Service(
            f"{name}-service",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=NAME, namespace=NAMESPACE, labels=labels),
            spec=k8s.core.v1.ServiceSpecArgs(
                type="ClusterIP",
                selector=labels,
                ports=[k8s.core.v1.ServicePortArgs(name="redis", port=PORT, target_port="redis", protocol="TCP")],
            ),
            opts=k8s_opts,
        )
        self.stateful_set = k8s.apps.v1.StatefulSet(
            f"{name}-statefulset",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=NAME, namespace=NAMESPACE, labels=labels),
            spec=k8s.apps.v1.StatefulSetSpecArgs(
                replicas=1,
                service_name=NAME,
                selector=k8s.meta.v1.LabelSelectorArgs(match_labels=labels),
                update_strategy=k8s.apps.v1.StatefulSetUpdateStrategyArgs(type="RollingUpdate"),
                persistent_volume_claim_retention_policy=k8s.apps.v1.StatefulSetPersistentVolumeClaimRetentionPolicyArgs(
                    when_deleted="Retain", when_scaled="Retain"
                ),
                template=k8s.core.v1.PodTemplateSpecArgs(
                    metadata=k8s.meta.v1.ObjectMetaArgs(labels=labels),
                    spec=self._pod_spec(args.images),
                ),
                volume_claim_templates=[
                    k8s.core.v1.PersistentVolumeClaimArgs(
                        metadata=k8s.meta.v1.ObjectMetaArgs(name="data", labels=labels),
                        spec=k8s.core.v1.PersistentVolumeClaimSpecArgs(
                            access_modes=["ReadWriteOnce"],
                            storage_class_name=STORAGE_CLASS,
                            resources=k8s.core.v1.VolumeResourceRequirementsArgs(requests={"storage": VOLUME_SIZE}),
                        ),
                    )
                ],
            ),
            opts=pulumi.ResourceOptions.merge(k8s_opts, pulumi.ResourceOptions(depends_on=[secret, service])),
        )
        self.endpoint = f"{NAME}.{NAMESPACE}.svc.cluster.local:{PORT}"
        self.register_outputs({"endpoint": self.endpoint})

    def _pod_spec(self, images: ImageRegistry) -> k8s.core.v1.PodSpecArgs:
        password_ref = k8s.core.v1.EnvVarSourceArgs(
            secret_key_ref=k8s.core.v1.SecretKeySelectorArgs(name=SECRET_NAME, key="password")
        )
        probe_command = k8s.core.v1.ExecActionArgs(command=["sh", "-c", PING])
        return k8s.core.v1.PodSpecArgs(
            automount_service_account_token=False,
            enable_service_links=False,
            termination_grace_period_seconds=60,
            security_context=k8s.core.v1.PodSecurityContextArgs(
                run_as_non_root=True,
                run_as_user=USER_ID,
                run_as_group=GROUP_ID,
                fs_group=GROUP_ID,
                fs_group_change_policy="OnRootMismatch",
                seccomp_profile=k8s.core.v1.SeccompProfileArgs(type="RuntimeDefault"),
            ),
            containers=[
                k8s.core.v1.ContainerArgs(
                    name="valkey",
                    image=images.image(IMAGE),
                    command=["sh", "-c", START_SCRIPT],
                    env=[
                        k8s.core.v1.EnvVarArgs(name=variable, value_from=password_ref)
                        for variable in ("VALKEY_PASSWORD", "VALKEYCLI_AUTH", "REDISCLI_AUTH")
                    ],
                    ports=[k8s.core.v1.ContainerPortArgs(name="redis", container_port=PORT, protocol="TCP")],
                    resources=k8s.core.v1.ResourceRequirementsArgs(requests=REQUESTS, limits=LIMITS),
                    security_context=k8s.core.v1.SecurityContextArgs(
                        allow_privilege_escalation=False,
                        read_only_root_filesystem=True,
                        capabilities=k8s.core.v1.CapabilitiesArgs(drop=["ALL"]),
                    ),
                    startup_probe=k8s.core.v1.ProbeArgs(
                        exec_=probe_command, period_seconds=5, timeout_seconds=3, failure_threshold=60
                    ),
                    readiness_probe=k8s.core.v1.ProbeArgs(
                        exec_=probe_command, period_seconds=10, timeout_seconds=3, failure_threshold=3
                    ),
                    liveness_probe=k8s.core.v1.ProbeArgs(
                        tcp_socket=k8s.core.v1.TCPSocketActionArgs(port="redis"),
                        period_seconds=20,
                        timeout_seconds=5,
                        failure_threshold=3,
                    ),
                    volume_mounts=[
                        k8s.core.v1.VolumeMountArgs(name="data", mount_path="/data"),
                        k8s.core.v1.VolumeMountArgs(name="tmp", mount_path="/tmp"),
                    ],
                )
            ],
            volumes=[
                k8s.core.v1.VolumeArgs(name="tmp", empty_dir=k8s.core.v1.EmptyDirVolumeSourceArgs(size_limit="64Mi"))
            ],
        )
