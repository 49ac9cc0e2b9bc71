"""The Pod Security Standards checker (offline.pod_security) against pods built to pass
and to fail each check of the admission controller, at the level the check belongs to.

Expected findings are written out literally from the check ids and messages, never
computed with the code under test.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from offline.pod_security import BASELINE, PRIVILEGED, RESTRICTED, pod_security_findings, pod_template

# --- builders --------------------------------------------------------------------------


def container(name: str = "app", **security: Any) -> dict[str, Any]:
    """A container that meets "restricted" on its own; keyword arguments replace
    securityContext fields (None removes one)."""
    context: dict[str, Any] = {
        "allowPrivilegeEscalation": False,
        "runAsNonRoot": True,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    context.update(security)
    return {
        "name": name,
        "image": "ghcr.io/eclipse-tractusx/app:1.2.3",
        "securityContext": {k: v for k, v in context.items() if v is not None},
    }


def bare(name: str = "app", **fields: Any) -> dict[str, Any]:
    """A container with no securityContext at all."""
    return {"name": name, "image": "ghcr.io/eclipse-tractusx/app:1.2.3", **fields}


def pod(*containers: dict[str, Any], annotations: dict[str, str] | None = None, **spec: Any) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": "web"}
    if annotations is not None:
        metadata["annotations"] = annotations
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": metadata,
        "spec": {"containers": list(containers) or [container()], **spec},
    }


def with_container_fields(**fields: Any) -> dict[str, Any]:
    """A restricted pod whose one container also carries the given fields (probes, ports)."""
    return pod({**container(), **fields})


def lines(obj: dict[str, Any], level: str) -> str:
    return "\n".join(pod_security_findings(obj, level))


# --- every check: a pod that passes and one that fails, at the check's level -------------

BASELINE_CASES = [
    # (check id, passes, fails, expected finding)
    (
        "hostNamespaces",
        pod(hostNetwork=False, hostPID=False, hostIPC=False),
        pod(hostPID=True),
        "Pod/web: hostNamespaces: pod must not set hostPID=true",
    ),
    (
        "privileged",
        pod(container(privileged=False)),
        pod(container(privileged=True)),
        "Pod/web: privileged: container app must not set securityContext.privileged=true",
    ),
    (
        "capabilities_baseline",
        pod(bare(securityContext={"capabilities": {"add": ["NET_BIND_SERVICE", "CHOWN", "SYS_CHROOT"]}})),
        pod(bare(securityContext={"capabilities": {"add": ["CHOWN", "NET_RAW"]}})),
        'Pod/web: capabilities_baseline: container app must not include "NET_RAW" in securityContext.capabilities.add',
    ),
    (
        "hostPathVolumes",
        pod(volumes=[{"name": "scratch", "emptyDir": {}}]),
        pod(volumes=[{"name": "host", "hostPath": {"path": "/etc"}}]),
        "Pod/web: hostPathVolumes: volume host must not use hostPath",
    ),
    (
        "hostPorts",
        with_container_fields(ports=[{"containerPort": 8080, "hostPort": 0}, {"containerPort": 9090}]),
        with_container_fields(ports=[{"containerPort": 8080, "hostPort": 8080}]),
        "Pod/web: hostPorts: container app must not use hostPort 8080",
    ),
    (
        "appArmorProfile",
        pod(
            container(appArmorProfile={"type": "Localhost", "localhostProfile": "k8s-app"}),
            securityContext={"appArmorProfile": {"type": "RuntimeDefault"}},
        ),
        pod(container(appArmorProfile={"type": "Unconfined"})),
        'Pod/web: appArmorProfile: container app must not set AppArmor profile type to "Unconfined"',
    ),
    (
        "appArmorProfile",
        pod(annotations={"container.apparmor.security.beta.kubernetes.io/app": "localhost/k8s-app"}),
        pod(annotations={"container.apparmor.security.beta.kubernetes.io/app": "unconfined"}),
        "Pod/web: appArmorProfile: container app must not set annotation "
        'container.apparmor.security.beta.kubernetes.io/app="unconfined"',
    ),
    (
        "seLinuxOptions",
        pod(container(seLinuxOptions={"type": "container_engine_t", "level": "s0:c123,c456"})),
        pod(container(seLinuxOptions={"type": "spc_t"})),
        'Pod/web: seLinuxOptions: container app must not set securityContext.seLinuxOptions: type "spc_t"',
    ),
    (
        "seLinuxOptions",
        pod(securityContext={"seLinuxOptions": {"type": "container_t"}}),
        pod(securityContext={"seLinuxOptions": {"user": "system_u", "role": "system_r"}}),
        "Pod/web: seLinuxOptions: pod must not set securityContext.seLinuxOptions: "
        "user may not be set; role may not be set",
    ),
    (
        "procMount",
        pod(container(procMount="Default")),
        pod(container(procMount="Unmasked")),
        'Pod/web: procMount: container app must not set securityContext.procMount to "Unmasked"',
    ),
    (
        "seccompProfile_baseline",
        pod(bare(securityContext={"seccompProfile": {"type": "Localhost", "localhostProfile": "p.json"}})),
        pod(bare(), securityContext={"seccompProfile": {"type": "Unconfined"}}),
        'Pod/web: seccompProfile_baseline: pod must not set securityContext.seccompProfile.type to "Unconfined"',
    ),
    (
        "sysctls",
        pod(
            securityContext={
                "sysctls": [
                    {"name": "net.ipv4.tcp_rmem", "value": "4096 87380 16777216"},
                    {"name": "net.ipv4.tcp_keepalive_time", "value": "300"},
                    {"name": "net.ipv4.ip_local_reserved_ports", "value": "30000"},
                ]
            }
        ),
        pod(securityContext={"sysctls": [{"name": "kernel.msgmax", "value": "65536"}]}),
        "Pod/web: sysctls: pod must not set forbidden sysctl kernel.msgmax",
    ),
    (
        "windowsHostProcess",
        pod(container(windowsOptions={"hostProcess": False})),
        pod(container(windowsOptions={"hostProcess": True})),
        "Pod/web: windowsHostProcess: container app must not set securityContext.windowsOptions.hostProcess=true",
    ),
    (
        "windowsHostProcess",
        pod(securityContext={"windowsOptions": {"runAsUserName": "ContainerUser"}}),
        pod(securityContext={"windowsOptions": {"hostProcess": True}}),
        "Pod/web: windowsHostProcess: pod must not set securityContext.windowsOptions.hostProcess=true",
    ),
    (
        "hostProbesAndHostLifecycle",
        with_container_fields(
            livenessProbe={"httpGet": {"path": "/healthz", "port": 8080, "host": ""}},
            readinessProbe={"tcpSocket": {"port": 8080}},
        ),
        with_container_fields(readinessProbe={"tcpSocket": {"port": 8080, "host": "10.0.0.1"}}),
        'Pod/web: hostProbesAndHostLifecycle: container app must not set readinessProbe.tcpSocket.host (is "10.0.0.1")',
    ),
    (
        "hostProbesAndHostLifecycle",
        with_container_fields(lifecycle={"preStop": {"exec": {"command": ["sleep", "5"]}}}),
        with_container_fields(lifecycle={"preStop": {"httpGet": {"port": 80, "host": "metadata.local"}}}),
        "Pod/web: hostProbesAndHostLifecycle: container app must not set lifecycle.preStop.httpGet.host",
    ),
]


@pytest.mark.parametrize(("check", "passes", "fails", "expected"), BASELINE_CASES)
def test_baseline_check(check: str, passes: dict[str, Any], fails: dict[str, Any], expected: str) -> None:
    assert pod_security_findings(passes, BASELINE) == []
    assert expected in lines(fails, BASELINE)
    # Baseline and its findings are part of "restricted" too.
    assert lines(fails, RESTRICTED) != ""


RESTRICTED_CASES = [
    (
        "restrictedVolumes",
        pod(
            volumes=[
                {"name": "config", "configMap": {"name": "app"}},
                {"name": "csi", "csi": {"driver": "secrets-store.csi.k8s.io"}},
                {"name": "labels", "downwardAPI": {"items": []}},
                {"name": "scratch", "emptyDir": {}},
                {"name": "cache", "ephemeral": {"volumeClaimTemplate": {"spec": {}}}},
                {"name": "tools", "image": {"reference": "ghcr.io/eclipse-tractusx/tools:1.0"}},
                {"name": "data", "persistentVolumeClaim": {"claimName": "data"}},
                {"name": "token", "projected": {"sources": []}},
                {"name": "tls", "secret": {"secretName": "tls"}},
                # No source: the API server defaults it to emptyDir before admission.
                {"name": "defaulted"},
            ]
        ),
        pod(volumes=[{"name": "share", "nfs": {"server": "nfs.local", "path": "/"}}]),
        "Pod/web: restrictedVolumes: volume share must not use restricted volume type nfs",
    ),
    (
        "allowPrivilegeEscalation",
        pod(container(allowPrivilegeEscalation=False)),
        pod(container(allowPrivilegeEscalation=None)),
        "Pod/web: allowPrivilegeEscalation: container app must set securityContext.allowPrivilegeEscalation=false",
    ),
    (
        "allowPrivilegeEscalation",
        pod(container()),
        pod(container(allowPrivilegeEscalation=True)),
        "Pod/web: allowPrivilegeEscalation: container app must set securityContext.allowPrivilegeEscalation=false",
    ),
    (
        "runAsNonRoot",
        pod(container(runAsNonRoot=True)),
        pod(container(runAsNonRoot=None)),
        "Pod/web: runAsNonRoot: container app must set securityContext.runAsNonRoot=true",
    ),
    (
        "runAsUser",
        pod(container(runAsUser=1000), securityContext={"runAsUser": 1000}),
        pod(container(), securityContext={"runAsUser": 0}),
        "Pod/web: runAsUser: pod must not set runAsUser=0",
    ),
    (
        "runAsUser",
        pod(container(runAsUser=65532)),
        pod(container(runAsUser=0)),
        "Pod/web: runAsUser: container app must not set runAsUser=0",
    ),
    (
        "seccompProfile_restricted",
        pod(container(seccompProfile={"type": "Localhost", "localhostProfile": "profiles/app.json"})),
        pod(container(seccompProfile=None)),
        "Pod/web: seccompProfile_restricted: container app must set "
        'securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost"',
    ),
    (
        "capabilities_restricted",
        pod(container(capabilities={"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]})),
        pod(container(capabilities={"drop": ["NET_RAW"]})),
        'Pod/web: capabilities_restricted: container app must set securityContext.capabilities.drop=["ALL"]',
    ),
    (
        "capabilities_restricted",
        pod(container(capabilities={"drop": ["ALL"]})),
        pod(container(capabilities={"drop": ["ALL"], "add": ["CHOWN"]})),
        'Pod/web: capabilities_restricted: container app must not include "CHOWN" in securityContext.capabilities.add',
    ),
    (
        "procMount_restricted",
        pod(container(procMount="Default"), hostUsers=False),
        # Baseline relaxes procMount for a user-namespace pod; restricted does not.
        pod(container(procMount="Unmasked"), hostUsers=False),
        'Pod/web: procMount_restricted: container app must not set securityContext.procMount to "Unmasked"',
    ),
]


@pytest.mark.parametrize(("check", "passes", "fails", "expected"), RESTRICTED_CASES)
def test_restricted_check(check: str, passes: dict[str, Any], fails: dict[str, Any], expected: str) -> None:
    assert pod_security_findings(passes, RESTRICTED) == []
    assert expected in lines(fails, RESTRICTED)
    # A restricted-only control: baseline lets the same pod through.
    assert pod_security_findings(fails, BASELINE) == []


# --- workloads -------------------------------------------------------------------------


def compliant_template() -> dict[str, Any]:
    return {
        "metadata": {"labels": {"app": "portal"}},
        "spec": {
            "securityContext": {
                "runAsNonRoot": True,
                "runAsUser": 10001,
                "fsGroup": 10001,
                "seccompProfile": {"type": "RuntimeDefault"},
            },
            "initContainers": [
                {
                    "name": "wait-db",
                    "image": "busybox:1.36",
                    "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}},
                }
            ],
            "containers": [
                {
                    "name": "backend",
                    "image": "ghcr.io/eclipse-tractusx/portal-backend:2.3.0",
                    "ports": [{"containerPort": 8080}],
                    "readinessProbe": {"httpGet": {"path": "/health", "port": 8080}},
                    "securityContext": {
                        "allowPrivilegeEscalation": False,
                        "readOnlyRootFilesystem": True,
                        "capabilities": {"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]},
                    },
                    "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
                }
            ],
            "volumes": [
                {"name": "tmp", "emptyDir": {}},
                {"name": "settings", "configMap": {"name": "portal"}},
                {"name": "tls", "secret": {"secretName": "portal-tls"}},
            ],
        },
    }


def deployment(template: dict[str, Any], name: str = "portal") -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name}, "spec": {"template": template}}


def test_compliant_restricted_deployment() -> None:
    obj = deployment(compliant_template())
    assert pod_security_findings(obj, RESTRICTED) == []
    assert pod_security_findings(obj, BASELINE) == []


def test_finding_format() -> None:
    template = compliant_template()
    del template["spec"]["securityContext"]["runAsNonRoot"]
    template["spec"]["initContainers"] = []
    assert pod_security_findings(deployment(template), RESTRICTED) == [
        "Deployment/portal: runAsNonRoot: container backend must set securityContext.runAsNonRoot=true"
    ]


def job(template: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "migrate"}, "spec": {"template": template}}


def cron_job(template: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": "nightly"},
        "spec": {"schedule": "0 2 * * *", "jobTemplate": {"spec": {"template": template}}},
    }


def test_job_and_cron_job() -> None:
    assert pod_security_findings(job(compliant_template()), RESTRICTED) == []
    assert pod_security_findings(cron_job(compliant_template()), RESTRICTED) == []

    template = compliant_template()
    template["spec"]["containers"][0]["securityContext"]["allowPrivilegeEscalation"] = True
    assert pod_security_findings(cron_job(template), RESTRICTED) == [
        "CronJob/nightly: allowPrivilegeEscalation: container backend must set "
        "securityContext.allowPrivilegeEscalation=false"
    ]
    template["spec"]["hostNetwork"] = True
    assert "Job/migrate: hostNamespaces: pod must not set hostNetwork=true" in lines(job(template), BASELINE)


def test_init_and_ephemeral_containers_are_checked() -> None:
    template = compliant_template()
    template["spec"]["initContainers"][0]["securityContext"] = {"privileged": True}
    template["spec"]["ephemeralContainers"] = [{"name": "debugger", "image": "busybox:1.36"}]
    found = lines(deployment(template), RESTRICTED)
    assert "Deployment/portal: privileged: initContainer wait-db must not set securityContext.privileged=true" in found
    assert "allowPrivilegeEscalation: initContainer wait-db must set" in found
    assert "capabilities_restricted: initContainer wait-db must set" in found
    assert "allowPrivilegeEscalation: ephemeralContainer debugger must set" in found
    assert (
        'capabilities_restricted: ephemeralContainer debugger must set securityContext.capabilities.drop=["ALL"]'
        in found
    )


# --- pod-level settings and container overrides ----------------------------------------


def test_pod_level_run_as_non_root_and_seccomp_are_inherited() -> None:
    obj = pod(
        container(runAsNonRoot=None, seccompProfile=None),
        securityContext={"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
    )
    assert pod_security_findings(obj, RESTRICTED) == []


def test_container_overriding_run_as_non_root_to_false_fails() -> None:
    obj = pod(container(runAsNonRoot=False), securityContext={"runAsNonRoot": True})
    assert pod_security_findings(obj, RESTRICTED) == [
        "Pod/web: runAsNonRoot: container app must not set securityContext.runAsNonRoot=false"
    ]


def test_container_cannot_mend_a_pod_level_false() -> None:
    obj = pod(container(runAsNonRoot=True), securityContext={"runAsNonRoot": False})
    assert pod_security_findings(obj, RESTRICTED) == [
        "Pod/web: runAsNonRoot: pod must not set securityContext.runAsNonRoot=false"
    ]


def test_container_overriding_pod_seccomp_to_unconfined_fails() -> None:
    obj = pod(
        container(seccompProfile={"type": "Unconfined"}),
        securityContext={"seccompProfile": {"type": "RuntimeDefault"}},
    )
    assert pod_security_findings(obj, RESTRICTED) == [
        "Pod/web: seccompProfile_restricted: container app must not set "
        'securityContext.seccompProfile.type to "Unconfined"'
    ]


# --- levels ----------------------------------------------------------------------------


def test_baseline_accepts_what_restricted_refuses() -> None:
    obj = pod(bare())
    assert pod_security_findings(obj, BASELINE) == []
    found = lines(obj, RESTRICTED)
    for check in ("allowPrivilegeEscalation", "runAsNonRoot", "seccompProfile_restricted", "capabilities_restricted"):
        assert f"Pod/web: {check}: container app" in found


def test_restricted_includes_baseline_checks() -> None:
    assert "Pod/web: hostNamespaces: pod must not set hostNetwork=true" in lines(pod(hostNetwork=True), RESTRICTED)


def test_overridden_baseline_checks_do_not_repeat_in_restricted() -> None:
    obj = pod(
        container(capabilities={"drop": ["ALL"], "add": ["NET_RAW"]}, procMount="Unmasked"),
        volumes=[{"name": "host", "hostPath": {"path": "/var/run"}}],
    )
    found = lines(obj, RESTRICTED)
    assert "restrictedVolumes: volume host must not use restricted volume type hostPath" in found
    assert 'capabilities_restricted: container app must not include "NET_RAW"' in found
    assert "procMount_restricted: container app" in found
    for replaced in ("hostPathVolumes:", "capabilities_baseline:", "procMount:"):
        assert replaced not in found


def test_privileged_accepts_anything() -> None:
    obj = pod(
        bare(securityContext={"privileged": True, "runAsUser": 0, "capabilities": {"add": ["SYS_ADMIN"]}}),
        hostNetwork=True,
        hostPID=True,
        volumes=[{"name": "root", "hostPath": {"path": "/"}}],
    )
    assert pod_security_findings(obj, PRIVILEGED) == []
    assert pod_security_findings(obj, BASELINE) != []


@pytest.mark.parametrize("level", ["Restricted", "strict", ""])
def test_unknown_level_raises(level: str) -> None:
    with pytest.raises(ValueError, match="allowed: privileged, baseline, restricted"):
        pod_security_findings(pod(), level)
    with pytest.raises(ValueError, match="allowed: privileged, baseline, restricted"):
        pod_security_findings({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"}}, level)


# --- v1.35 specifics: Windows pods, user namespaces, annotations -----------------------


def test_windows_pod_is_exempt_from_linux_only_restricted_checks() -> None:
    obj = pod(bare(), os={"name": "windows"})
    # runAsNonRoot is not Linux-only in the code: it still applies.
    assert pod_security_findings(obj, RESTRICTED) == [
        "Pod/web: runAsNonRoot: container app must set securityContext.runAsNonRoot=true"
    ]
    linux = lines(pod(bare(), os={"name": "linux"}), RESTRICTED)
    assert "allowPrivilegeEscalation: container app" in linux
    assert "seccompProfile_restricted: container app" in linux
    assert "capabilities_restricted: container app" in linux


def test_windows_pod_capabilities_follow_the_override() -> None:
    # capabilities_restricted exempts Windows and replaces capabilities_baseline, so in the
    # admission code a Windows pod's added capabilities fail baseline but pass restricted.
    obj = pod(
        bare(securityContext={"runAsNonRoot": True, "capabilities": {"add": ["SYS_ADMIN"]}}), os={"name": "windows"}
    )
    assert 'capabilities_baseline: container app must not include "SYS_ADMIN"' in lines(obj, BASELINE)
    assert pod_security_findings(obj, RESTRICTED) == []


def test_user_namespace_relaxes_run_as_user_and_run_as_non_root() -> None:
    obj = pod(container(runAsNonRoot=None, runAsUser=0), securityContext={"runAsUser": 0}, hostUsers=False)
    assert pod_security_findings(obj, RESTRICTED) == []
    with_host_users = pod(container(runAsNonRoot=None, runAsUser=0), hostUsers=True)
    found = lines(with_host_users, RESTRICTED)
    assert "Pod/web: runAsNonRoot: container app must set securityContext.runAsNonRoot=true" in found
    assert "Pod/web: runAsUser: container app must not set runAsUser=0" in found


def test_user_namespace_relaxes_baseline_proc_mount() -> None:
    assert pod_security_findings(pod(container(procMount="Unmasked"), hostUsers=False), BASELINE) == []


def test_seccomp_alpha_annotations_no_longer_count() -> None:
    obj = pod(annotations={"seccomp.security.alpha.kubernetes.io/pod": "unconfined"})
    assert pod_security_findings(obj, BASELINE) == []
    assert pod_security_findings(obj, RESTRICTED) == []


def test_yaml_false_is_not_user_zero() -> None:
    # YAML booleans are Python ints; runAsUser: false is not root.
    assert pod_security_findings(pod(container(runAsUser=False)), RESTRICTED) == []


# --- pod templates ---------------------------------------------------------------------

TEMPLATE_SPEC = {"containers": [{"name": "app", "image": "busybox:1.36"}]}
TEMPLATE = {"metadata": {"labels": {"app": "x"}}, "spec": TEMPLATE_SPEC}


@pytest.mark.parametrize(
    "obj",
    [
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"labels": {"app": "x"}}, "spec": TEMPLATE_SPEC},
        {"apiVersion": "v1", "kind": "PodTemplate", "template": TEMPLATE},
        {"apiVersion": "v1", "kind": "ReplicationController", "spec": {"template": TEMPLATE}},
        {"apiVersion": "apps/v1", "kind": "ReplicaSet", "spec": {"template": TEMPLATE}},
        {"apiVersion": "apps/v1", "kind": "Deployment", "spec": {"template": TEMPLATE}},
        {"apiVersion": "apps/v1", "kind": "StatefulSet", "spec": {"template": TEMPLATE}},
        {"apiVersion": "apps/v1", "kind": "DaemonSet", "spec": {"template": TEMPLATE}},
        {"apiVersion": "batch/v1", "kind": "Job", "spec": {"template": TEMPLATE}},
        {"apiVersion": "batch/v1", "kind": "CronJob", "spec": {"jobTemplate": {"spec": {"template": TEMPLATE}}}},
        # Objects the program creates may leave apiVersion out.
        {"kind": "Deployment", "spec": {"template": TEMPLATE}},
    ],
    ids=lambda obj: str(obj["kind"]),
)
def test_pod_template_of_every_workload_kind(obj: dict[str, Any]) -> None:
    assert pod_template(obj) == ({"labels": {"app": "x"}}, TEMPLATE_SPEC)


@pytest.mark.parametrize(
    "obj",
    [
        {"apiVersion": "v1", "kind": "Service", "spec": {"ports": [{"port": 80}]}},
        {"apiVersion": "v1", "kind": "ConfigMap", "data": {}},
        # Same kind, other API group: a custom resource, not a workload.
        {"apiVersion": "example.com/v1", "kind": "Deployment", "spec": {"template": TEMPLATE}},
        {"metadata": {"name": "no-kind"}},
    ],
    ids=["Service", "ConfigMap", "custom Deployment", "no kind"],
)
def test_pod_template_of_other_objects(obj: dict[str, Any]) -> None:
    assert pod_template(obj) is None
    assert pod_security_findings(obj, RESTRICTED) == []


HELM_OUTPUT = """\
---
# Source: portal/templates/service.yaml
apiVersion: v1
kind: Service
metadata:
  name: portal
spec:
  ports:
    - port: 8080
---
# Source: portal/templates/statefulset.yaml
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: portal-db
spec:
  template:
    spec:
      securityContext:
        runAsNonRoot: true
        seccompProfile:
          type: RuntimeDefault
      containers:
        - name: postgres
          image: bitnami/postgresql:16
          securityContext:
            allowPrivilegeEscalation: false
            capabilities:
              drop: [ALL]
          ports:
            - containerPort: 5432
              hostPort: 5432
      volumes:
        - name: run
          emptyDir: {}
"""


def test_objects_rendered_by_helm_template() -> None:
    findings = [f for doc in yaml.safe_load_all(HELM_OUTPUT) if doc for f in pod_security_findings(doc, RESTRICTED)]
    assert findings == ["StatefulSet/portal-db: hostPorts: container postgres must not use hostPort 5432"]
