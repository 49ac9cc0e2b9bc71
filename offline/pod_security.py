"""The Kubernetes Pod Security Standards, levels "baseline" and "restricted", as the Pod
Security Admission controller enforces them at policy version v1.35 ("latest" on a v1.35
API server), for the plain dicts ``helm template`` renders and for objects the program
creates.

Every check is a port of the admission controller's own code, not of a summary of it:
repository ``kubernetes/kubernetes``, folder
``staging/src/k8s.io/pod-security-admission/policy/``. The files, and what was taken
from each:

- ``checks.go``, ``registry.go``: a check belongs to one level; "restricted" runs every
  "baseline" check except those a restricted check overrides (``OverrideCheckIDs``), plus
  the restricted checks; "privileged" runs nothing.
- ``visitor.go``: a container check visits initContainers, containers and
  ephemeralContainers, in that order.
- ``helpers.go``: at v1.35 a pod with ``spec.hostUsers: false`` (a user namespace) relaxes
  runAsNonRoot, runAsUser and the baseline procMount check, unconditionally.
- one file per check, cited again next to each check below:

  ========================================  ==========  ==================================
  file                                      level       check id
  ========================================  ==========  ==================================
  check_hostNamespaces.go                   baseline    hostNamespaces
  check_privileged.go                       baseline    privileged
  check_capabilities_baseline.go            baseline    capabilities_baseline
  check_hostPathVolumes.go                  baseline    hostPathVolumes
  check_hostPorts.go                        baseline    hostPorts
  check_appArmorProfile.go                  baseline    appArmorProfile
  check_seLinuxOptions.go                   baseline    seLinuxOptions
  check_procMount_baseline.go               baseline    procMount
  check_seccompProfile_baseline.go          baseline    seccompProfile_baseline
  check_sysctls.go                          baseline    sysctls
  check_windowsHostProcess.go               baseline    windowsHostProcess
  check_hostProbesAndhostLifecycle.go       baseline    hostProbesAndHostLifecycle
  check_restrictedVolumes.go                restricted  restrictedVolumes
  check_allowPrivilegeEscalation.go         restricted  allowPrivilegeEscalation
  check_runAsNonRoot.go                     restricted  runAsNonRoot
  check_runAsUser.go                        restricted  runAsUser
  check_seccompProfile_restricted.go        restricted  seccompProfile_restricted
  check_capabilities_restricted.go          restricted  capabilities_restricted
  check_procMount_restricted.go             restricted  procMount_restricted
  ========================================  ==========  ==================================

Two deliberate departures from the admission code. API defaulting, which runs before admission, is
reproduced only where a rendered object would otherwise be misjudged: a volume with no
source is the emptyDir the API server makes of it. And where the admission message lists
only the explicit offenders (a pod or container setting a bad value) and stays silent on
the containers that merely inherit nothing, every offender gets its own finding.

Each check keeps the newest revision whose ``MinimumVersion`` is at most v1.35: sysctls
1.32, seLinuxOptions 1.31, seccompProfile_baseline 1.19 (the field only; the alpha
annotations stop counting), the restricted Windows exemptions 1.25, hostProbesAndHostLifecycle
1.34, and procMount, procMount_restricted, runAsNonRoot and runAsUser 1.35.

Findings are one line each: ``<Kind>/<name>: <check id>: <what>``, the check id being the
admission controller's, ``<what>`` naming the pod, the container or the volume at fault.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

PRIVILEGED, BASELINE, RESTRICTED = "privileged", "baseline", "restricted"
LEVELS = (PRIVILEGED, BASELINE, RESTRICTED)

UPSTREAM = "kubernetes/kubernetes staging/src/k8s.io/pod-security-admission/policy/"

# Workload kinds -> (API group, path from the object to its pod template). The admission
# controller's DefaultPodSpecExtractor knows exactly these resources; a Pod is its own
# template.
_TEMPLATES: Mapping[str, tuple[str, tuple[str, ...]]] = {
    "Pod": ("", ()),
    "PodTemplate": ("", ("template",)),
    "ReplicationController": ("", ("spec", "template")),
    "ReplicaSet": ("apps", ("spec", "template")),
    "Deployment": ("apps", ("spec", "template")),
    "StatefulSet": ("apps", ("spec", "template")),
    "DaemonSet": ("apps", ("spec", "template")),
    "Job": ("batch", ("spec", "template")),
    "CronJob": ("batch", ("spec", "jobTemplate", "spec", "template")),
}


# --- reading YAML-shaped values ----------------------------------------------------------


def _map(value: Any) -> Mapping[str, Any]:
    """The value if it is a mapping; ``{}`` for null or absent, as Go sees a nil pointer."""
    return value if isinstance(value, Mapping) else {}


def _list(value: Any) -> Sequence[Any]:
    """The value if it is a list; ``[]`` for null or absent, as Go sees a nil slice."""
    return value if isinstance(value, list | tuple) else []


def _is_zero(value: Any) -> bool:
    # YAML false must not pass for the integer 0 (bool is an int in Python).
    return isinstance(value, int) and not isinstance(value, bool) and value == 0


def _set(value: Any) -> bool:
    """A string field counts as set when non-empty, as Go compares with ``""``."""
    return value is not None and value != ""


def _quote(items: Sequence[Any]) -> str:
    return ", ".join(f'"{item}"' for item in items)


# --- the pod as the checks see it --------------------------------------------------------


@dataclass(frozen=True)
class Container:
    """One container of the pod, labelled by the list it comes from."""

    kind: str  # "initContainer", "container" or "ephemeralContainer"
    spec: Mapping[str, Any]

    @property
    def who(self) -> str:
        return f"{self.kind} {self.spec.get('name', '<unnamed>')}"

    @property
    def security_context(self) -> Mapping[str, Any]:
        return _map(self.spec.get("securityContext"))


@dataclass(frozen=True)
class Pod:
    metadata: Mapping[str, Any]
    spec: Mapping[str, Any]

    @property
    def security_context(self) -> Mapping[str, Any]:
        return _map(self.spec.get("securityContext"))

    @property
    def containers(self) -> Iterator[Container]:
        """Every container, in visitor.go's order: init, regular, ephemeral."""
        for field, kind in (
            ("initContainers", "initContainer"),
            ("containers", "container"),
            ("ephemeralContainers", "ephemeralContainer"),
        ):
            for spec in _list(self.spec.get(field)):
                yield Container(kind, _map(spec))

    @property
    def is_windows(self) -> bool:
        # The restricted checks from v1.25 exempt a pod that declares Windows: the API
        # rejects Linux-only security fields on it, so it could never satisfy them.
        return _map(self.spec.get("os")).get("name") == "windows"

    @property
    def in_user_namespace(self) -> bool:
        """helpers.go relaxPolicyForUserNamespacePod: hostUsers explicitly false."""
        return self.spec.get("hostUsers") is False


CheckFn = Callable[[Pod], list[str]]


@dataclass(frozen=True)
class Check:
    id: str
    level: str
    source: str  # file under UPSTREAM the check is ported from
    run: CheckFn
    overrides: tuple[str, ...] = ()  # baseline check ids this one replaces in "restricted"


# --- baseline ----------------------------------------------------------------------------


def host_namespaces(pod: Pod) -> list[str]:
    """kubernetes/kubernetes staging/src/k8s.io/pod-security-admission/policy/check_hostNamespaces.go
    (1.0): hostNetwork, hostPID and hostIPC must not be true."""
    return [
        f"pod must not set {field}=true"
        for field in ("hostNetwork", "hostPID", "hostIPC")
        if pod.spec.get(field) is True
    ]


def privileged(pod: Pod) -> list[str]:
    """kubernetes/kubernetes staging/src/k8s.io/pod-security-admission/policy/check_privileged.go
    (1.0): no container may set securityContext.privileged=true."""
    return [
        f"{c.who} must not set securityContext.privileged=true"
        for c in pod.containers
        if c.security_context.get("privileged") is True
    ]


# check_capabilities_baseline.go capabilities_allowed_1_0: Docker's default set.
BASELINE_CAPABILITIES = frozenset(
    {
        "AUDIT_WRITE",
        "CHOWN",
        "DAC_OVERRIDE",
        "FOWNER",
        "FSETID",
        "KILL",
        "MKNOD",
        "NET_BIND_SERVICE",
        "SETFCAP",
        "SETGID",
        "SETPCAP",
        "SETUID",
        "SYS_CHROOT",
    }
)


def _added_capabilities(container: Container) -> list[Any]:
    return list(_list(_map(container.security_context.get("capabilities")).get("add")))


def capabilities_baseline(pod: Pod) -> list[str]:
    """kubernetes/kubernetes staging/src/k8s.io/pod-security-admission/policy/check_capabilities_baseline.go
    (1.0): capabilities.add only from the default set.

    The comparison is exact, as in Go: "CAP_NET_RAW" or "net_raw" are not in the set.
    """
    findings = []
    for c in pod.containers:
        bad = [cap for cap in _added_capabilities(c) if cap not in BASELINE_CAPABILITIES]
        if bad:
            findings.append(f"{c.who} must not include {_quote(bad)} in securityContext.capabilities.add")
    return findings


def host_path_volumes(pod: Pod) -> list[str]:
    """kubernetes/kubernetes staging/src/k8s.io/pod-security-admission/policy/check_hostPathVolumes.go
    (1.0): no hostPath volume."""
    return [
        f"volume {_map(v).get('name')} must not use hostPath"
        for v in _list(pod.spec.get("volumes"))
        if _map(v).get("hostPath") is not None
    ]


def host_ports(pod: Pod) -> list[str]:
    """kubernetes/kubernetes staging/src/k8s.io/pod-security-admission/policy/check_hostPorts.go
    (1.0): every hostPort undefined or 0 (no allow-list exists)."""
    findings = []
    for c in pod.containers:
        ports = [_map(p).get("hostPort") for p in _list(c.spec.get("ports"))]
        bad = [port for port in ports if port is not None and not _is_zero(port)]
        if bad:
            findings.append(f"{c.who} must not use hostPort {', '.join(str(port) for port in bad)}")
    return findings


APPARMOR_ANNOTATION_PREFIX = "container.apparmor.security.beta.kubernetes.io/"
APPARMOR_TYPES = frozenset({"RuntimeDefault", "Localhost"})


def _apparmor_type_finding(who: str, context: Mapping[str, Any]) -> list[str]:
    profile = context.get("appArmorProfile")
    # A set profile must name an allowed type; a missing type is as bad as "Unconfined".
    if profile is None or _map(profile).get("type") in APPARMOR_TYPES:
        return []
    return [f'{who} must not set AppArmor profile type to "{_map(profile).get("type", "")}"']


def _apparmor_annotation_allowed(value: Any) -> bool:
    return value in ("", "runtime/default") or (isinstance(value, str) and value.startswith("localhost/"))


def app_armor_profile(pod: Pod) -> list[str]:
    """kubernetes/kubernetes staging/src/k8s.io/pod-security-admission/policy/check_appArmorProfile.go
    (1.0, amended for the v1.30 fields): the appArmorProfile field of the pod and of
    each container must be RuntimeDefault or Localhost, and the deprecated per-container
    annotation runtime/default, localhost/* or empty; both channels are still enforced."""
    findings = _apparmor_type_finding("pod", pod.security_context)
    for c in pod.containers:
        findings += _apparmor_type_finding(c.who, c.security_context)
    annotations = _map(pod.metadata.get("annotations"))
    for key in sorted(k for k in annotations if isinstance(k, str) and k.startswith(APPARMOR_ANNOTATION_PREFIX)):
        if not _apparmor_annotation_allowed(annotations[key]):
            container = key.removeprefix(APPARMOR_ANNOTATION_PREFIX)
            findings.append(
                f'container {container} must not set annotation {key}="{annotations[key]}"'
                " (allowed: runtime/default, localhost/*, empty)"
            )
    return findings


# check_seLinuxOptions.go selinuxAllowedTypes1_31 (container_engine_t added at v1.31).
SELINUX_TYPES = frozenset({"", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"})


def _selinux_problems(options: Mapping[str, Any]) -> list[str]:
    problems = []
    kind = options.get("type", "")
    if kind is not None and kind not in SELINUX_TYPES:
        problems.append(f'type "{kind}"')
    if _set(options.get("user")):
        problems.append("user may not be set")
    if _set(options.get("role")):
        problems.append("role may not be set")
    return problems


def se_linux_options(pod: Pod) -> list[str]:
    """kubernetes/kubernetes staging/src/k8s.io/pod-security-admission/policy/check_seLinuxOptions.go
    (1.31): seLinuxOptions.type from the allowed set, user and role empty, at pod level
    and on every container."""
    setters = [("pod", pod.security_context)] + [(c.who, c.security_context) for c in pod.containers]
    findings = []
    for who, context in setters:
        if context.get("seLinuxOptions") is None:
            continue
        problems = _selinux_problems(_map(context.get("seLinuxOptions")))
        if problems:
            findings.append(f"{who} must not set securityContext.seLinuxOptions: {'; '.join(problems)}")
    return findings


def _proc_mount_findings(pod: Pod) -> list[str]:
    # procMount_1_0: unset or "Default" only.
    findings = []
    for c in pod.containers:
        mount = c.security_context.get("procMount")
        if mount is not None and mount != "Default":
            findings.append(f'{c.who} must not set securityContext.procMount to "{mount}"')
    return findings


def proc_mount(pod: Pod) -> list[str]:
    """kubernetes/kubernetes staging/src/k8s.io/pod-security-admission/policy/check_procMount_baseline.go
    (1.35, check id "procMount"): procMount unset or Default, except that a user-
    namespace pod may unmask /proc, its root being unprivileged on the host."""
    return [] if pod.in_user_namespace else _proc_mount_findings(pod)


SECCOMP_TYPES = frozenset({"RuntimeDefault", "Localhost"})


def _explicit_seccomp(who: str, context: Mapping[str, Any]) -> list[str]:
    profile = context.get("seccompProfile")
    if profile is None or _map(profile).get("type") in SECCOMP_TYPES:
        return []
    return [f'{who} must not set securityContext.seccompProfile.type to "{_map(profile).get("type", "")}"']


def seccomp_profile_baseline(pod: Pod) -> list[str]:
    """kubernetes/kubernetes staging/src/k8s.io/pod-security-admission/policy/check_seccompProfile_baseline.go
    (1.19): a seccompProfile that is set must be RuntimeDefault or Localhost; unset is
    fine. From 1.19 the alpha seccomp annotations are no longer looked at."""
    findings = _explicit_seccomp("pod", pod.security_context)
    for c in pod.containers:
        findings += _explicit_seccomp(c.who, c.security_context)
    return findings


# check_sysctls.go sysctlsAllowedV1Dot32, the newest allow-list at or below v1.35.
SAFE_SYSCTLS = frozenset(
    {
        "kernel.shm_rmid_forced",
        "net.ipv4.ip_local_port_range",
        "net.ipv4.tcp_syncookies",
        "net.ipv4.ping_group_range",
        "net.ipv4.ip_unprivileged_port_start",
        "net.ipv4.ip_local_reserved_ports",  # 1.27
        "net.ipv4.tcp_keepalive_time",  # 1.29
        "net.ipv4.tcp_fin_timeout",  # 1.29
        "net.ipv4.tcp_keepalive_intvl",  # 1.29
        "net.ipv4.tcp_keepalive_probes",  # 1.29
        "net.ipv4.tcp_rmem",  # 1.32
        "net.ipv4.tcp_wmem",  # 1.32
    }
)


def sysctls(pod: Pod) -> list[str]:
    """kubernetes/kubernetes staging/src/k8s.io/pod-security-admission/policy/check_sysctls.go
    (1.32): only namespaced, isolated ("safe") sysctls; the pod securityContext is the
    only place the API accepts sysctls."""
    names = [_map(s).get("name") for s in _list(pod.security_context.get("sysctls"))]
    return [f"pod must not set forbidden sysctl {name}" for name in names if name not in SAFE_SYSCTLS]


def _host_process(context: Mapping[str, Any]) -> bool:
    return _map(context.get("windowsOptions")).get("hostProcess") is True


def windows_host_process(pod: Pod) -> list[str]:
    """kubernetes/kubernetes staging/src/k8s.io/pod-security-admission/policy/check_windowsHostProcess.go
    (1.0): hostProcess must not be true, at pod level or on any container."""
    setters = [("pod", pod.security_context)] + [(c.who, c.security_context) for c in pod.containers]
    return [
        f"{who} must not set securityContext.windowsOptions.hostProcess=true"
        for who, context in setters
        if _host_process(context)
    ]


def _handler_hosts(where: str, handler: Mapping[str, Any]) -> Iterator[tuple[str, Any]]:
    for action in ("httpGet", "tcpSocket"):
        host = _map(handler.get(action)).get("host")
        if _set(host):
            yield f"{where}.{action}.host", host


def host_probes_and_host_lifecycle(pod: Pod) -> list[str]:
    """kubernetes/kubernetes staging/src/k8s.io/pod-security-admission/policy/check_hostProbesAndhostLifecycle.go
    (1.34): no probe or lifecycle handler may aim httpGet or tcpSocket at another host
    (a way to reach node-local services)."""
    findings = []
    for c in pod.containers:
        handlers = [(probe, _map(c.spec.get(probe))) for probe in ("livenessProbe", "readinessProbe", "startupProbe")]
        lifecycle = _map(c.spec.get("lifecycle"))
        handlers += [(f"lifecycle.{hook}", _map(lifecycle.get(hook))) for hook in ("postStart", "preStop")]
        for where, handler in handlers:
            findings += [
                f'{c.who} must not set {field} (is "{host}")' for field, host in _handler_hosts(where, handler)
            ]
    return findings


# --- restricted --------------------------------------------------------------------------

# check_restrictedVolumes.go: the inline volume sources restricted allows; "image" was
# added in place in the 1.0 revision for v1.33 (kubernetes/kubernetes#130394).
RESTRICTED_VOLUME_SOURCES = frozenset(
    {
        "configMap",
        "csi",
        "downwardAPI",
        "emptyDir",
        "ephemeral",
        "image",
        "persistentVolumeClaim",
        "projected",
        "secret",
    }
)


def _restricted_sources(volume: Mapping[str, Any]) -> list[str]:
    sources = [key for key, value in volume.items() if key != "name" and value is not None]
    # Go takes the first matching case, so one allowed source admits the volume. A volume
    # with no source at all is defaulted to emptyDir by the API server before admission.
    if any(source in RESTRICTED_VOLUME_SOURCES for source in sources):
        return []
    # Any other key is a restricted source: the 21 named in the file (hostPath, nfs, ...)
    # or one it does not know, which Go reports as "unknown".
    return sources


def restricted_volumes(pod: Pod) -> list[str]:
    """kubernetes/kubernetes staging/src/k8s.io/pod-security-admission/policy/check_restrictedVolumes.go
    (1.0, overrides hostPathVolumes): only configMap, csi, downwardAPI, emptyDir,
    ephemeral, image, persistentVolumeClaim, projected and secret."""
    findings = []
    for v in _list(pod.spec.get("volumes")):
        bad = _restricted_sources(_map(v))
        if bad:
            findings.append(f"volume {_map(v).get('name')} must not use restricted volume type {', '.join(bad)}")
    return findings


def allow_privilege_escalation(pod: Pod) -> list[str]:
    """kubernetes/kubernetes staging/src/k8s.io/pod-security-admission/policy/check_allowPrivilegeEscalation.go
    (1.25): every container must set allowPrivilegeEscalation=false (unset means true);
    a Windows pod is exempt."""
    if pod.is_windows:
        return []
    return [
        f"{c.who} must set securityContext.allowPrivilegeEscalation=false"
        for c in pod.containers
        if c.security_context.get("allowPrivilegeEscalation") is not False
    ]


def run_as_non_root(pod: Pod) -> list[str]:
    """kubernetes/kubernetes staging/src/k8s.io/pod-security-admission/policy/check_runAsNonRoot.go
    (1.35): runAsNonRoot=true, at pod level (inherited by each container that leaves it
    unset) or on every container; nobody may set it false. A user-namespace pod is
    exempt: its root is unprivileged on the host (KEP-127).

    Unlike the admission message, which stops at the explicit offenders, both explicit and
    implicit offenders are listed, so that one pass shows everything to fix.
    """
    if pod.in_user_namespace:
        return []
    findings = []
    pod_value = pod.security_context.get("runAsNonRoot")
    if pod_value is not None and pod_value is not True:
        findings.append("pod must not set securityContext.runAsNonRoot=false")
    for c in pod.containers:
        value = c.security_context.get("runAsNonRoot")
        if value is None:
            if pod_value is not True:
                findings.append(f"{c.who} must set securityContext.runAsNonRoot=true")
        elif value is not True:
            findings.append(f"{c.who} must not set securityContext.runAsNonRoot=false")
    return findings


def run_as_user(pod: Pod) -> list[str]:
    """kubernetes/kubernetes staging/src/k8s.io/pod-security-admission/policy/check_runAsUser.go
    (1.35): runAsUser must not be 0 at pod level or on any container (unset is allowed);
    a user-namespace pod is exempt."""
    if pod.in_user_namespace:
        return []
    setters = [("pod", pod.security_context)] + [(c.who, c.security_context) for c in pod.containers]
    return [f"{who} must not set runAsUser=0" for who, context in setters if _is_zero(context.get("runAsUser"))]


def seccomp_profile_restricted(pod: Pod) -> list[str]:
    """kubernetes/kubernetes staging/src/k8s.io/pod-security-admission/policy/check_seccompProfile_restricted.go
    (1.25, overrides seccompProfile_baseline): the type must be RuntimeDefault or
    Localhost, set on the pod (inherited by containers that leave it unset) or on every
    container; a Windows pod is exempt."""
    if pod.is_windows:
        return []
    findings = _explicit_seccomp("pod", pod.security_context)
    pod_valid = pod.security_context.get("seccompProfile") is not None and not findings
    for c in pod.containers:
        if c.security_context.get("seccompProfile") is not None:
            findings += _explicit_seccomp(c.who, c.security_context)
        elif not pod_valid:
            findings.append(f'{c.who} must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost"')
    return findings


def capabilities_restricted(pod: Pod) -> list[str]:
    """kubernetes/kubernetes staging/src/k8s.io/pod-security-admission/policy/check_capabilities_restricted.go
    (1.25, overrides capabilities_baseline): every container drops "ALL" and adds
    nothing but NET_BIND_SERVICE; a Windows pod is exempt (and, the baseline check being
    overridden, its capabilities go unchecked)."""
    if pod.is_windows:
        return []
    findings = []
    for c in pod.containers:
        capabilities = _map(c.security_context.get("capabilities"))
        if "ALL" not in _list(capabilities.get("drop")):
            findings.append(f'{c.who} must set securityContext.capabilities.drop=["ALL"]')
        bad = [cap for cap in _list(capabilities.get("add")) if cap != "NET_BIND_SERVICE"]
        if bad:
            findings.append(f"{c.who} must not include {_quote(bad)} in securityContext.capabilities.add")
    return findings


def proc_mount_restricted(pod: Pod) -> list[str]:
    """kubernetes/kubernetes staging/src/k8s.io/pod-security-admission/policy/check_procMount_restricted.go
    (1.35, overrides procMount): restricted keeps the unconditional procMount_1_0, user
    namespace or not."""
    return _proc_mount_findings(pod)


# Registration order as in the policy folder; findings come out in this order.
CHECKS: tuple[Check, ...] = (
    Check("hostNamespaces", BASELINE, "check_hostNamespaces.go", host_namespaces),
    Check("privileged", BASELINE, "check_privileged.go", privileged),
    Check("capabilities_baseline", BASELINE, "check_capabilities_baseline.go", capabilities_baseline),
    Check("hostPathVolumes", BASELINE, "check_hostPathVolumes.go", host_path_volumes),
    Check("hostPorts", BASELINE, "check_hostPorts.go", host_ports),
    Check("appArmorProfile", BASELINE, "check_appArmorProfile.go", app_armor_profile),
    Check("seLinuxOptions", BASELINE, "check_seLinuxOptions.go", se_linux_options),
    Check("procMount", BASELINE, "check_procMount_baseline.go", proc_mount),
    Check("seccompProfile_baseline", BASELINE, "check_seccompProfile_baseline.go", seccomp_profile_baseline),
    Check("sysctls", BASELINE, "check_sysctls.go", sysctls),
    Check("windowsHostProcess", BASELINE, "check_windowsHostProcess.go", windows_host_process),
    Check(
        "hostProbesAndHostLifecycle",
        BASELINE,
        "check_hostProbesAndhostLifecycle.go",
        host_probes_and_host_lifecycle,
    ),
    Check("restrictedVolumes", RESTRICTED, "check_restrictedVolumes.go", restricted_volumes, ("hostPathVolumes",)),
    Check("allowPrivilegeEscalation", RESTRICTED, "check_allowPrivilegeEscalation.go", allow_privilege_escalation),
    Check("runAsNonRoot", RESTRICTED, "check_runAsNonRoot.go", run_as_non_root),
    Check("runAsUser", RESTRICTED, "check_runAsUser.go", run_as_user),
    Check(
        "seccompProfile_restricted",
        RESTRICTED,
        "check_seccompProfile_restricted.go",
        seccomp_profile_restricted,
        ("seccompProfile_baseline",),
    ),
    Check(
        "capabilities_restricted",
        RESTRICTED,
        "check_capabilities_restricted.go",
        capabilities_restricted,
        ("capabilities_baseline",),
    ),
    Check("procMount_restricted", RESTRICTED, "check_procMount_restricted.go", proc_mount_restricted, ("procMount",)),
)


def checks_for(level: str) -> list[Check]:
    """The checks a level runs (registry.go populate): baseline's own; for restricted,
    baseline's minus those a restricted check overrides, plus the restricted ones."""
    if level not in LEVELS:
        raise ValueError(f"unknown Pod Security level {level!r}; allowed: {', '.join(LEVELS)}")
    if level == PRIVILEGED:
        return []
    if level == BASELINE:
        return [c for c in CHECKS if c.level == BASELINE]
    overridden = {check_id for c in CHECKS if c.level == RESTRICTED for check_id in c.overrides}
    return [c for c in CHECKS if c.id not in overridden]


# --- objects -----------------------------------------------------------------------------


def _group(api_version: Any) -> str | None:
    """The API group of an apiVersion ("" for core); None when the object gives none."""
    if not isinstance(api_version, str) or not api_version:
        return None
    return api_version.rpartition("/")[0]


def pod_template(obj: Mapping[str, Any]) -> tuple[Mapping[str, Any], Mapping[str, Any]] | None:
    """(pod metadata, pod spec) of any workload object: Pod, PodTemplate,
    ReplicationController, ReplicaSet, Deployment, StatefulSet, DaemonSet, Job, CronJob
    (spec.jobTemplate.spec.template); None for other kinds."""
    if not isinstance(obj, Mapping) or obj.get("kind") not in _TEMPLATES:
        return None
    group, path = _TEMPLATES[obj["kind"]]
    # A kind of the same name in another API group (a CRD) is not a workload.
    declared = _group(obj.get("apiVersion"))
    if declared is not None and declared != group:
        return None
    template: Mapping[str, Any] = obj
    for key in path:
        template = _map(template.get(key))
    return _map(template.get("metadata")), _map(template.get("spec"))


def _object_name(obj: Mapping[str, Any]) -> str:
    metadata = _map(obj.get("metadata"))
    return str(metadata.get("name") or metadata.get("generateName") or "<unnamed>")


def pod_security_findings(obj: Mapping[str, Any], level: str) -> list[str]:
    """Every violation of `level` by obj's pod template; [] for privileged or non-workload
    objects. Each finding is one line: '<Kind>/<name>: <check id>: <what, naming the
    container>' e.g. 'Deployment/portal: runAsNonRoot: container backend must set
    securityContext.runAsNonRoot=true'. An unknown level raises ValueError."""
    checks = checks_for(level)  # validates the level even for objects without a pod
    template = pod_template(obj)
    if template is None:
        return []
    pod = Pod(*template)
    prefix = f"{obj['kind']}/{_object_name(obj)}"
    return [f"{prefix}: {check.id}: {what}" for check in checks for what in check.run(pod)]
