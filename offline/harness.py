"""Runs ``__main__.py`` in-process under Pulumi mocks for one stack.

The one mechanism behind the tests and the offline plan: the real program, the real
``Pulumi.<stack>.yaml`` (secure values replaced by placeholders), provider functions
answered here, StackReferences fed from an earlier run of the referenced stack. It
returns every registered resource (type, name, inputs, provider, URN) and the exports.
"""

from __future__ import annotations

import base64
import hashlib
import json
import runpy
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import yaml
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc
from pulumi.runtime.settings import SETTINGS, set_root_resource
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from components.applications import ChildApplication
from components.settings import PROJECT, SECRET_KEYS, qualified
from components.traffic import Need

PROJECT_DIR = Path(__file__).resolve().parent.parent
STACKS = ("prod", "dr")

# Stand-ins for what only a real account knows. Clearly not real: a plan shows them as is.
MOCK_ACCOUNT_ID = "123456789012"
SECRET_PLACEHOLDER = "offline-plan-placeholder-secret"


@dataclass(frozen=True)
class RegisteredResource:
    type: str
    name: str
    urn: str
    inputs: dict[str, Any]
    provider: str
    custom: bool
    parent: str
    component: str
    ignore_changes: tuple[str, ...] = ()
    replace_on_changes: tuple[str, ...] = ()
    delete_before_replace: bool = False
    dependencies: tuple[str, ...] = ()
    # property -> URNs of the resources its value was computed from
    property_dependencies: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # Read (`Resource.get`): an existing object the program looks at, not one it manages.
    read: bool = False
    # `pulumi destroy` refuses to delete it (ResourceOptions.protect).
    protect: bool = False
    # ResourceOptions.custom_timeouts: "create", "update", "delete" as Pulumi durations.
    custom_timeouts: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ApplicationRun:
    """A Tractus-X application the program hands to Argo CD and Vault, resolved: its Helm
    values, and each Vault seed's values with whether they stayed secret."""

    application: ChildApplication
    values: Any
    values_secret: bool
    seeds: dict[str, dict[str, tuple[Any, bool]]]


@dataclass
class StackRun:
    stack: str
    resources: list[RegisteredResource]
    exports: dict[str, Any]
    secret_exports: set[str] = field(default_factory=set)
    # The Tractus-X applications the platform hands to Argo CD (components.applications),
    # with each one's Helm values resolved, by application name.
    applications: tuple[ChildApplication, ...] = ()
    application_values: dict[str, Any] = field(default_factory=dict)
    # The same with their Vault seeds resolved (and whether values and seeds stayed secret).
    application_runs: dict[str, ApplicationRun] = field(default_factory=dict)
    # The network flows the components declare their workloads need (components/traffic.py).
    flows: tuple[Need, ...] = ()
    # The provider functions (invokes) the program called, by token, in order.
    invokes: tuple[str, ...] = ()

    def of_type(self, type_: str) -> list[RegisteredResource]:
        return [r for r in self.resources if r.type == type_]

    def one(self, type_: str, name: str | None = None) -> RegisteredResource:
        found = [r for r in self.of_type(type_) if name is None or r.name == name]
        if len(found) != 1:
            names = [r.name for r in self.of_type(type_)]
            raise LookupError(f"expected one {type_} named {name!r}, found {len(found)} among {names}")
        return found[0]


def load_stack_config(stack: str, overrides: Mapping[str, Any] | None = None) -> tuple[dict[str, str], list[str]]:
    """The stack's config as Pulumi hands it to a program: strings, structured values as JSON."""
    path = PROJECT_DIR / f"Pulumi.{stack}.yaml"
    if not path.exists():
        raise FileNotFoundError(f"no stack file {path.name}; stacks are {', '.join(STACKS)}")
    document = yaml.safe_load(path.read_text()) or {}
    values = {qualified(key): value for key, value in (document.get("config") or {}).items()}
    # Credentials are set per deployment with `pulumi config set --secret`, never committed:
    # the offline plan stands in for the ones a stack file leaves out.
    for key in SECRET_KEYS:
        values.setdefault(qualified(key), {"secure": "offline"})
    for key, value in (overrides or {}).items():
        if value is None:
            values.pop(qualified(key), None)
        else:
            values[qualified(key)] = value
    config: dict[str, str] = {}
    secret_keys: list[str] = []
    for key, value in values.items():
        plain, secret = _replace_secure(value)
        if secret:
            secret_keys.append(key)
        config[key] = plain if isinstance(plain, str) else json.dumps(plain)
    return config, secret_keys


def _replace_secure(value: Any) -> tuple[Any, bool]:
    if isinstance(value, dict):
        if set(value) == {"secure"}:
            return SECRET_PLACEHOLDER, True
        pairs = {k: _replace_secure(v) for k, v in value.items()}
        return {k: v for k, (v, _) in pairs.items()}, any(s for _, s in pairs.values())
    if isinstance(value, list):
        items = [_replace_secure(v) for v in value]
        return [v for v, _ in items], any(s for _, s in items)
    return value, False


class _RecordingMonitor(pulumi_mocks.MockMonitor):
    """The SDK's mock monitor, also keeping what the program asked to register."""

    def __init__(self, mocks: pulumi_mocks.Mocks) -> None:
        super().__init__(mocks)
        self.registered: list[RegisteredResource] = []
        self.parents: dict[str, tuple[str, str]] = {}

    def _component(self, parent: str) -> str:
        """The innermost platform component above a resource (``network``, ``cluster``...)."""
        while parent in self.parents:
            type_, grandparent = self.parents[parent]
            if type_.startswith("tractusx:") and type_ != "tractusx:platform:Platform":
                return type_.split(":")[1]
            parent = grandparent
        return "platform"

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        response = super().RegisterResource(request)  # type: ignore[no-untyped-call]
        if request.type != "pulumi:pulumi:Stack":
            self._record(request, response.urn, request.object, custom=bool(request.custom))
        return response

    def ReadResource(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        response = super().ReadResource(request)  # type: ignore[no-untyped-call]
        self._record(request, response.urn, request.properties, custom=True, read=True)
        return response

    def _record(self, request: Any, urn: str, properties: Any, custom: bool, read: bool = False) -> None:
        self.parents[urn] = (request.type, request.parent)
        self.registered.append(
            RegisteredResource(
                type=request.type,
                name=request.name,
                urn=urn,
                inputs=rpc.deserialize_properties(properties, keep_unknowns=True),
                provider=request.provider,
                custom=custom,
                parent=request.parent,
                component=self._component(request.parent),
                ignore_changes=tuple(getattr(request, "ignoreChanges", ())),
                replace_on_changes=tuple(getattr(request, "replaceOnChanges", ())),
                delete_before_replace=bool(getattr(request, "deleteBeforeReplace", False)),
                dependencies=tuple(request.dependencies),
                property_dependencies={
                    key: tuple(deps.urns) for key, deps in getattr(request, "propertyDependencies", {}).items()
                },
                read=read,
                protect=bool(getattr(request, "protect", False)),
                custom_timeouts=_timeouts(getattr(request, "customTimeouts", None)),
            )
        )


def _timeouts(message: Any) -> dict[str, str]:
    if message is None:
        return {}
    return {kind: value for kind in ("create", "update", "delete") if (value := getattr(message, kind, ""))}


class PlatformMocks(pulumi_mocks.Mocks):
    """Answers the provider functions the program calls and fills computed outputs."""

    def __init__(self, region: str, references: Mapping[str, StackRun]) -> None:
        self.region = region
        self.references = references
        # The provider functions the program called, in order: what a plan or an up reads
        # from the account rather than from the code.
        self.invokes: list[str] = []
        # The region of each explicit AWS provider, by its id: a resource's ARN is in its
        # provider's region.
        self.provider_regions: dict[str, str] = {}

    def call(self, args: pulumi_mocks.MockCallArgs) -> dict[str, Any]:  # type: ignore[override]
        token, inputs = args.token, args.args
        self.invokes.append(token)
        if token == "aws:index/getCallerIdentity:getCallerIdentity":
            arn = f"arn:aws:iam::{MOCK_ACCOUNT_ID}:user/offline-plan"
            return {"accountId": MOCK_ACCOUNT_ID, "arn": arn, "userId": "AIDAOFFLINEPLAN", "id": MOCK_ACCOUNT_ID}
        if token == "aws:index/getPartition:getPartition":
            return {"partition": "aws", "dnsSuffix": "amazonaws.com", "id": "aws", "reverseDnsPrefix": "com.amazonaws"}
        if token == "aws:index/getAvailabilityZones:getAvailabilityZones":
            names = [f"{self.region}{suffix}" for suffix in "abc"]
            zone_ids = [f"{self.region[:3]}{self.region.split('-')[1][:2]}{self.region[-1]}-az{i}" for i in (1, 2, 3)]
            return {"names": names, "zoneIds": zone_ids, "groupNames": [self.region], "id": self.region}
        if token == "aws:ecr/getAuthorizationToken:getAuthorizationToken":
            registry = f"{inputs.get('registryId', MOCK_ACCOUNT_ID)}.dkr.ecr.{self.region}.amazonaws.com"
            return {
                "authorizationToken": "offline-plan-token",
                "expiresAt": "2099-01-01T00:00:00Z",
                "id": self.region,
                "password": "offline-plan-password",
                "proxyEndpoint": f"https://{registry}",
                "userName": "AWS",
            }
        if token == "aws:lb/getHostedZoneId:getHostedZoneId":
            # The Network Load Balancers' canonical hosted zones of the two stacks' regions
            # (AWS General Reference, "Elastic Load Balancing endpoints and quotas").
            zones = {"eu-central-1": "Z3F0SRJ5LGBH90", "eu-west-1": "Z2IFOLAFXWLO4F"}
            region = inputs.get("region") or self.region
            if inputs.get("loadBalancerType") != "network" or region not in zones:
                raise NotImplementedError(f"the offline harness knows NLB hosted zones of {sorted(zones)} only")
            return {"id": zones[region], "loadBalancerType": "network", "region": region}
        raise NotImplementedError(f"the offline harness does not answer {token}; add it to PlatformMocks.call")

    def new_resource(self, args: pulumi_mocks.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        if args.typ == "pulumi:pulumi:StackReference":
            return args.name, self._stack_reference(str(args.inputs.get("name", args.name)))
        state = dict(args.inputs)
        resource_id = f"{args.name}-id"
        state.setdefault("name", args.name)
        module = args.typ.split(":")[1].split("/")[0]
        if args.typ == "pulumi:providers:aws" and state.get("region"):
            self.provider_regions[resource_id] = str(state["region"])
        if args.typ.startswith("aws:"):
            if module == "iam":
                kind = args.typ.rsplit(":", 1)[-1].lower()
                state.setdefault("arn", f"arn:aws:iam::{MOCK_ACCOUNT_ID}:{kind}/{args.name}")
            else:
                region = self.provider_regions.get((args.provider or "").rsplit("::", 1)[-1], self.region)
                state.setdefault("arn", f"arn:aws:{module}:{region}:{MOCK_ACCOUNT_ID}:{args.name}")
        state.update(self._computed(args, state))
        return resource_id, state

    def _computed(self, args: pulumi_mocks.MockResourceArgs, state: dict[str, Any]) -> dict[str, Any]:
        if args.typ == "aws:eks/cluster:Cluster":
            digest = hashlib.sha256(f"{self.region}/{state['name']}".encode()).hexdigest()[:32].upper()
            return {
                "endpoint": f"https://{digest}.gr7.{self.region}.eks.amazonaws.com",
                "certificateAuthority": {"data": base64.b64encode(b"offline-plan-ca").decode()},
                "identities": [{"oidcs": [{"issuer": f"https://oidc.eks.{self.region}.amazonaws.com/id/{digest}"}]}],
                "vpcConfig": {**state.get("vpcConfig", {}), "clusterSecurityGroupId": f"sg-{digest[:17].lower()}"},
            }
        if args.typ in ("aws:kms/key:Key", "aws:kms/replicaKey:ReplicaKey"):
            return self._computed_kms(args, state)
        if args.typ == "aws:ec2/launchTemplate:LaunchTemplate":
            return {"latestVersion": 1}
        if args.typ.startswith("random:"):
            return self._computed_random(args, state)
        if args.typ == "aws:iam/openIdConnectProvider:OpenIdConnectProvider":
            host = str(state["url"]).removeprefix("https://")
            return {"arn": f"arn:aws:iam::{MOCK_ACCOUNT_ID}:oidc-provider/{host}"}
        return self._computed_data(args, state)

    def _computed_random(self, args: pulumi_mocks.MockResourceArgs, state: dict[str, Any]) -> dict[str, Any]:
        if args.typ == "random:index/randomPassword:RandomPassword":
            # Deterministic and obviously not a real password; length as asked.
            length = int(state.get("length", 32))
            return {"result": (f"offline-{args.name}-" * 8)[:length]}
        if args.typ == "random:index/randomId:RandomId":
            # Deterministic hex of the byte length asked for.
            size = int(state.get("byteLength", 32))
            return {"hex": (hashlib.sha256(args.name.encode()).hexdigest() * 2)[: 2 * size]}
        return {}

    def _computed_kms(self, args: pulumi_mocks.MockResourceArgs, state: dict[str, Any]) -> dict[str, Any]:
        if args.typ == "aws:kms/replicaKey:ReplicaKey":
            # A replica has its primary's key id; only the region in its ARN differs.
            key_id = str(state["primaryKeyArn"]).rsplit("key/", 1)[-1]
        elif state.get("multiRegion") is True:
            # Multi-Region keys have ids starting with mrk- (KMS Developer Guide).
            key_id = "mrk-" + hashlib.sha256(f"{self.region}/{args.name}".encode()).hexdigest()[:32]
        else:
            return {"keyId": f"{args.name}-key-id"}
        return {"keyId": key_id, "arn": f"arn:aws:kms:{self.region}:{MOCK_ACCOUNT_ID}:key/{key_id}"}

    def _computed_data(self, args: pulumi_mocks.MockResourceArgs, state: dict[str, Any]) -> dict[str, Any]:
        """Database, backup storage and the backup image."""
        if args.typ == "aws:rds/instance:Instance":
            address = f"{state['identifier']}.offline.{self.region}.rds.amazonaws.com"
            port = int(state.get("port", 5432))
            resource_id = hashlib.sha256(address.encode()).hexdigest()[:26].upper()
            return {
                "address": address,
                "port": port,
                "endpoint": f"{address}:{port}",
                "resourceId": f"db-{resource_id}",
            }
        if args.typ == "aws:ecr/repository:Repository":
            return {
                # ECR's ARN form (AWS ECR User Guide, "Resource types defined by Amazon ECR").
                "arn": f"arn:aws:ecr:{self.region}:{MOCK_ACCOUNT_ID}:repository/{state['name']}",
                "registryId": MOCK_ACCOUNT_ID,
                "repositoryUrl": f"{MOCK_ACCOUNT_ID}.dkr.ecr.{self.region}.amazonaws.com/{state['name']}",
            }
        if args.typ == "docker-build:index:Image":
            # The digest of what `pulumi up` would build: a stand-in derived from the tag.
            tag = str(state["tags"][0])
            digest = "sha256:" + hashlib.sha256(tag.encode()).hexdigest()
            return {"digest": digest, "ref": f"{tag.rsplit(':', 1)[0]}@{digest}", "contextHash": "offline"}
        if args.typ == "aws:s3/bucket:Bucket":
            return {"arn": f"arn:aws:s3:::{state['bucket']}", "bucket": state["bucket"]}
        return self._computed_edge(args, state)

    def _computed_edge(self, args: pulumi_mocks.MockResourceArgs, state: dict[str, Any]) -> dict[str, Any]:
        """Helm release status and the edge Service's load balancer, read after the release."""
        if args.typ == "kubernetes:helm.sh/v3:Release":
            return {
                "status": {
                    "name": state.get("name"),
                    "namespace": state.get("namespace"),
                    "status": "deployed",
                    "chart": state.get("chart"),
                    "version": state.get("version"),
                }
            }
        if args.typ == "kubernetes:core/v1:Service" and args.resource_id:
            digest = hashlib.sha256(f"{self.region}/{args.resource_id}".encode()).hexdigest()
            hostname = f"a{digest[:32]}-{digest[32:48]}.elb.{self.region}.amazonaws.com"
            return {"status": {"loadBalancer": {"ingress": [{"hostname": hostname}]}}}
        if args.typ == "aws:route53/healthCheck:HealthCheck":
            return {"id": f"{args.name}-id"}
        return {}

    def _stack_reference(self, name: str) -> dict[str, Any]:
        run = referenced_run(self.references, name)
        return {"name": name, "outputs": run.exports, "secretOutputNames": sorted(run.secret_exports)}


def referenced_run(references: Mapping[str, StackRun], name: str) -> StackRun:
    """The earlier run of the stack a StackReference names (``<org>/<project>/<stack>``)."""
    stack = name.rsplit("/", 1)[-1]
    if stack not in references:
        raise LookupError(f"a StackReference reads {name}: run stack {stack!r} first and pass it as a reference")
    return references[stack]


def run_stack(
    stack: str,
    overrides: Mapping[str, Any] | None = None,
    references: Mapping[str, StackRun] | None = None,
) -> StackRun:
    """Run the program for ``stack`` under mocks and return what it registered and exported."""
    config, secret_keys = load_stack_config(stack, overrides)
    primary = config.get(qualified("primaryStack"))
    if primary:
        # Checked before the program starts, so a missing run fails with one clear error.
        referenced_run(references or {}, primary)
    region = config.get("aws:region", "eu-central-1")
    mocks = PlatformMocks(region, references or {})
    monitor = _RecordingMonitor(mocks)

    SETTINGS.rpc_manager.clear()
    SETTINGS.outputs.clear()
    set_root_resource(None)  # type: ignore[arg-type]
    pulumi.runtime.set_mocks(monitor.mocks, project=PROJECT, stack=stack, preview=False, monitor=monitor)
    pulumi.runtime.set_all_config(config, secret_keys)
    if str(PROJECT_DIR) not in sys.path:
        sys.path.insert(0, str(PROJECT_DIR))

    program_globals: dict[str, Any] = {}

    def program() -> None:
        program_globals.update(runpy.run_path(str(PROJECT_DIR / "__main__.py"), run_name="__main__"))

    try:
        _sync_await(run_pulumi_func(program))
    except Exception as error:
        error.add_note(f"resources registered before the failure: {len(monitor.registered)}")
        raise
    exports, secret_exports = _sync_await(_resolve_exports())
    applications = tuple(getattr(program_globals.get("platform"), "applications", ()))
    flows = tuple(getattr(program_globals.get("platform"), "flows", ()))
    application_runs = _sync_await(_resolve_applications(list(applications)))
    return StackRun(
        stack=stack,
        resources=monitor.registered,
        exports=exports,
        secret_exports=secret_exports,
        applications=applications,
        flows=flows,
        invokes=tuple(mocks.invokes),
        application_values={app.name: resolve(app.values) for app in applications},
        application_runs=application_runs,
    )


def resolve(value: Any) -> Any:
    """The value of an Input after a run (the mocks answer synchronously)."""
    return _sync_await(pulumi.Output.from_input(value).future())


async def _resolve(value: Any) -> tuple[Any, bool]:
    output = pulumi.Output.from_input(value)
    return await output.future(), await output.is_secret()


async def _resolve_applications(applications: list[ChildApplication]) -> dict[str, ApplicationRun]:
    runs: dict[str, ApplicationRun] = {}
    for application in applications:
        values, secret = await _resolve(application.values)
        seeds = {
            seed.path: {key: await _resolve(value) for key, value in seed.data.items()} for seed in application.seeds
        }
        runs[application.name] = ApplicationRun(application, values, secret, seeds)
    return runs


async def _resolve_exports() -> tuple[dict[str, Any], set[str]]:
    root = pulumi.runtime.get_root_resource()
    outputs: dict[str, Any] = getattr(root, "outputs", {})
    exports: dict[str, Any] = {}
    secrets: set[str] = set()
    for key, value in outputs.items():
        output = pulumi.Output.from_input(value)
        exports[key] = await output.future()
        if await output.is_secret():
            secrets.add(key)
    return exports, secrets


def run_stacks(stacks: tuple[str, ...] = STACKS) -> dict[str, StackRun]:
    """Run stacks in order; a dr stack reads the exports of the runs before it."""
    runs: dict[str, StackRun] = {}
    for stack in stacks:
        runs[stack] = run_stack(stack, references=runs)
    return runs
