"""redis: the playbook's "In-Memory Caches (Redis)" sizing, a secret password, persistence."""

from __future__ import annotations

from typing import Any

from components.redis import IMAGE, MAXMEMORY, SECRET_NAME
from offline.checks import is_secret, plain
from offline.harness import StackRun
from tests.conftest import IMAGE_REGISTRIES

STATEFUL_SET = "kubernetes:apps/v1:StatefulSet"


def stateful_set(run: StackRun) -> dict[str, Any]:
    (found,) = run.of_type(STATEFUL_SET)
    return dict(plain(found.inputs))


def container(run: StackRun) -> dict[str, Any]:
    (valkey,) = stateful_set(run)["spec"]["template"]["spec"]["containers"]
    return dict(valkey)


def test_redis_is_sized_as_the_playbook_says(stack: StackRun) -> None:
    resources = container(stack)["resources"]
    assert resources["requests"] == {"memory": "2Gi", "cpu": "500m"}
    assert resources["limits"] == {"memory": "4Gi", "cpu": "1000m"}
    # The server evicts before the container reaches its memory limit.
    assert int(MAXMEMORY.removesuffix("gb")) < 4
    assert f"--maxmemory {MAXMEMORY}" in container(stack)["command"][2]


def test_redis_runs_in_tractus_x_from_a_pinned_image_as_non_root(stack: StackRun) -> None:
    sts = stateful_set(stack)
    assert sts["metadata"]["namespace"] == "tractus-x"
    valkey = container(stack)
    assert valkey["image"] == f"{IMAGE_REGISTRIES[stack.stack]}/docker-hub/{IMAGE}"
    assert "@sha256:" in IMAGE and ":9.0." in IMAGE
    pod = sts["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] != 0
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert valkey["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
    }
    assert pod["automountServiceAccountToken"] is False
    assert {"startupProbe", "readinessProbe", "livenessProbe"} <= set(valkey)


def test_redis_persists_an_append_only_file_on_an_encrypted_volume(stack: StackRun) -> None:
    sts = stateful_set(stack)
    (claim,) = sts["spec"]["volumeClaimTemplates"]
    assert claim["spec"]["storageClassName"] == "gp3-encrypted"
    storage_class = plain(stack.one("kubernetes:storage.k8s.io/v1:StorageClass").inputs)
    assert storage_class["metadata"]["name"] == "gp3-encrypted"
    assert storage_class["parameters"]["encrypted"] == "true"
    assert "--appendonly yes" in container(stack)["command"][2]
    mounts = {m["name"]: m["mountPath"] for m in container(stack)["volumeMounts"]}
    assert mounts["data"] == "/data"
    assert sts["spec"]["persistentVolumeClaimRetentionPolicy"] == {"whenDeleted": "Retain", "whenScaled": "Retain"}


def test_redis_password_comes_from_a_secret_never_from_the_pod_spec(stack: StackRun) -> None:
    (secret,) = [
        r
        for r in stack.of_type("kubernetes:core/v1:Secret")
        if (r.inputs["metadata"]["name"], r.inputs["metadata"]["namespace"]) == (SECRET_NAME, "tractus-x")
    ]
    assert is_secret(secret.inputs["stringData"])
    password = secret.inputs["stringData"]["value"]["password"]
    valkey = container(stack)
    assert password not in str(stateful_set(stack))
    env = {e["name"]: e for e in valkey["env"]}
    for name in ("VALKEY_PASSWORD", "VALKEYCLI_AUTH", "REDISCLI_AUTH"):
        assert env[name]["valueFrom"]["secretKeyRef"] == {"name": SECRET_NAME, "key": "password"}
    # requirepass reaches the server on standard input, not as an argument.
    script = valkey["command"][2]
    assert 'requirepass "$VALKEY_PASSWORD"' in script and "--requirepass" not in script
    assert script.split("<<")[0].rstrip().endswith(" -")
    assert all(password not in str(plain(c.inputs)) for c in stack.of_type("kubernetes:core/v1:ConfigMap"))


def test_redis_service_and_endpoint(stack: StackRun) -> None:
    services = [plain(s.inputs) for s in stack.of_type("kubernetes:core/v1:Service") if not s.read]
    (service,) = [s for s in services if s["metadata"]["name"] == "redis"]
    assert service["spec"]["ports"][0]["port"] == 6379
    assert service["spec"]["selector"] == stateful_set(stack)["spec"]["selector"]["matchLabels"]
    assert stack.exports["redisEndpoint"] == "redis.tractus-x.svc.cluster.local:6379"
    # One replica: a PodDisruptionBudget would only block node drains.
    assert stateful_set(stack)["spec"]["replicas"] == 1
    selector = stateful_set(stack)["spec"]["selector"]
    assert all(
        plain(pdb.inputs)["spec"].get("selector") != selector
        for pdb in stack.of_type("kubernetes:policy/v1:PodDisruptionBudget")
    )
