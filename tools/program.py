"""Run the real Pulumi program (`__main__.py`) under Pulumi mocks and record what it registers.

Shared by the unit tests and the offline render (`tools/render.py`): one harness, so the render shows
exactly what the tests check. Needs no Pulumi CLI, no Docker and no cloud credentials.
"""

from __future__ import annotations

import asyncio
import json
import runpy
import threading
import unittest.mock
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from google.protobuf import struct_pb2

import pulumi
from pulumi.runtime import mocks, rpc, settings
from pulumi.runtime import resource as resource_runtime
from pulumi.runtime.proto import source_pb2
from tools import yaml_text

ROOT = Path(__file__).resolve().parent.parent
PROJECT = "brain"
SECRET_SIG = rpc._special_secret_sig  # noqa: SLF001  the marker the SDK wraps secret values in
SECRET_PLACEHOLDER = "[secret]"


@dataclass
class RegisteredResource:
    """One resource as the engine would receive it."""

    type: str
    name: str
    urn: str
    parent: str | None
    inputs: dict[str, Any]
    """Inputs as registered; secret values stay wrapped (see `is_secret`)."""
    protect: bool = False
    retain_on_delete: bool = False
    delete_before_replace: bool = False
    ignore_changes: list[str] = field(default_factory=list)
    """Input paths whose changes the engine ignores after creation."""
    depends_on: list[str] = field(default_factory=list)
    """URNs of explicit and property dependencies."""
    input_dependencies: list[str] = field(default_factory=list)
    """URNs some input value comes from (property dependencies): a delete-before-replace of one of them
    makes the engine delete this resource first when its provider says the new input forces a replacement."""
    custom: bool = True
    """False for component resources (local or provider-implemented), which Kubernetes never sees."""
    provider: str | None = None
    """The explicit provider reference (`<provider urn>::<id>`), if any."""


@dataclass
class ProgramRun:
    """Everything one run of the program registered, in registration order, and the stack outputs."""

    resources: list[RegisteredResource]
    outputs: dict[str, Any]

    def of_type(self, type_: str) -> list[RegisteredResource]:
        return [resource for resource in self.resources if resource.type == type_]

    def named(self, name: str) -> RegisteredResource:
        matches = [resource for resource in self.resources if resource.name == name]
        if len(matches) != 1:
            raise KeyError(f"expected one resource named {name!r}, found {len(matches)}")
        return matches[0]


def is_secret(value: Any) -> bool:
    """Whether a recorded value is a secret as the engine sees it."""
    return isinstance(value, dict) and value.get(rpc._special_sig_key) == SECRET_SIG  # noqa: SLF001


def reveal(value: Any) -> Any:
    """The plain value inside (nested) secret wrappers, for assertions on content."""
    if is_secret(value):
        return reveal(value["value"])
    if isinstance(value, dict):
        return {key: reveal(item) for key, item in value.items()}
    if isinstance(value, list):
        return [reveal(item) for item in value]
    return value


def reviewable(value: Any) -> Any:
    """A recorded value as a reviewer may see it: every secret replaced by `SECRET_PLACEHOLDER`, dict keys
    sorted, and integral numbers as ints (the wire format turns every number into a float)."""
    if is_secret(value):
        return SECRET_PLACEHOLDER
    if isinstance(value, dict):
        return {key: reviewable(value[key]) for key in sorted(value)}
    if isinstance(value, list):
        return [reviewable(item) for item in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def mock_secret_value(name: str) -> str:
    """What a generated password is under mocks: recognisable, so tests can grep outputs for leaks."""
    return f"MOCK-SECRET-{name}"


_MOCK_ACCOUNT = "123456789012"
_COMPUTED_OUTPUTS: dict[str, Callable[[str], dict[str, Any]]] = {
    "random:index/randomPassword:RandomPassword": lambda name: {"result": mock_secret_value(name)},
    "docker:index/remoteImage:RemoteImage": lambda name: {"imageId": f"sha256:mock-{name}"},
    "eks:index:Cluster": lambda name: {
        "kubeconfigJson": json.dumps({"apiVersion": "v1", "kind": "Config", "current-context": name}),
        "oidcProviderArn": f"arn:aws:iam::{_MOCK_ACCOUNT}:oidc-provider/oidc.eks.mock.amazonaws.com/id/{name}",
        "oidcIssuer": f"oidc.eks.mock.amazonaws.com/id/{name}",
    },
    "aws:iam/role:Role": lambda name: {"arn": f"arn:aws:iam::{_MOCK_ACCOUNT}:role/{name}", "name": name},
    "aws:rds/subnetGroup:SubnetGroup": lambda name: {"name": name},
    "aws:elasticache/subnetGroup:SubnetGroup": lambda name: {"name": name},
    "aws:rds/instance:Instance": lambda name: {"address": f"{name}.mock.rds.amazonaws.com"},
    "aws:elasticache/replicationGroup:ReplicationGroup": lambda name: {
        "primaryEndpointAddress": f"master.{name}.mock.cache.amazonaws.com"
    },
}
"""Outputs a provider computes (the program reads them), by resource type; inputs are echoed besides."""

_NESTED_RESOURCES: dict[str, dict[str, tuple[str, Callable[[str], dict[str, Any]]]]] = {
    "eks:index:Cluster": {
        "eksCluster": (
            "aws:eks/cluster:Cluster",
            lambda name: {"name": name, "vpcConfig": {"clusterSecurityGroupId": f"sg-{name}"}},
        )
    },
}
"""Outputs that are resources a provider-side component made inside itself (pulumi-eks's `eks_cluster`):
mocked as registered, and returned as a reference, so `cluster.eks_cluster.name` resolves."""

_CALL_RESULTS: dict[str, dict[str, Any]] = {
    "aws:index/getAvailabilityZones:getAvailabilityZones": {"names": ["mock-1a", "mock-1b", "mock-1c"]},
}
"""Results of the invokes the program makes, by token."""


class _Mocks(pulumi.runtime.Mocks):
    """Providers' outputs: inputs echoed back, plus the computed outputs the program reads."""

    def __init__(self, monitor: mocks.MockMonitor) -> None:
        self._monitor = monitor
        self.inputs_seen = threading.local()
        """`.value`: the inputs of the resource this thread's monitor call is registering, as the mock monitor
        deserialized them; the recording reuses them rather than deserializing the request a second time."""

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        self.inputs_seen.value = args.inputs
        state = dict(args.inputs)
        state.update(_COMPUTED_OUTPUTS.get(args.typ, lambda _: {})(args.name))
        for key, (type_, outputs) in _NESTED_RESOURCES.get(args.typ, {}).items():
            state[key] = self._nested(type_, f"{args.name}-{key}", outputs(args.name))
        return f"{args.name}-id", state

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        return _CALL_RESULTS.get(args.token, {}), []

    def _nested(self, type_: str, name: str, state: dict[str, Any]) -> dict[str, Any]:
        urn = self._monitor.make_urn("", type_, name)
        self._monitor.resources[urn] = mocks.MockMonitor.ResourceRegistration(urn=urn, id=f"{name}-id", state=state)
        return {rpc._special_sig_key: rpc._special_resource_sig, "urn": urn, "id": f"{name}-id"}  # noqa: SLF001


class _RecordingMonitor(mocks.MockMonitor):
    """The mock monitor, also keeping the resource options the plain mocks drop (protect, parent, ...)."""

    def __init__(self, registered: list[RegisteredResource]) -> None:
        self._recording_mocks = _Mocks(self)
        super().__init__(self._recording_mocks)
        self.registered = registered
        self._thread_loops: dict[int, asyncio.AbstractEventLoop] = {}

    def Invoke(self, request: Any) -> Any:  # noqa: N802  the gRPC method name
        return self._on_thread_loop(super().Invoke, request)

    def ReadResource(self, request: Any) -> Any:  # noqa: N802  the gRPC method name
        return self._on_thread_loop(super().ReadResource, request)

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802  the gRPC method name
        for value in request.object.fields.values():
            _replace_references_with_urns(value)
        response = self._on_thread_loop(super().RegisterResource, request)
        if request.type != "pulumi:pulumi:Stack":
            input_dependencies = {urn for urns in request.propertyDependencies.values() for urn in urns.urns}
            self.registered.append(
                RegisteredResource(
                    type=request.type,
                    name=request.name,
                    urn=response.urn,
                    parent=request.parent or None,
                    inputs=self._recording_mocks.inputs_seen.value,
                    protect=bool(request.protect),
                    retain_on_delete=bool(request.retainOnDelete),
                    delete_before_replace=bool(request.deleteBeforeReplace),
                    ignore_changes=list(request.ignoreChanges),
                    depends_on=sorted({*request.dependencies, *input_dependencies}),
                    input_dependencies=sorted(input_dependencies),
                    custom=bool(request.custom),
                    provider=request.provider or None,
                )
            )
        return response

    def _on_thread_loop(self, call: Callable[[Any], Any], request: Any) -> Any:
        """`call(request)` with this run's event loop for the calling thread as the thread's current loop.

        The SDK runs these monitor calls on executor threads, where the mock monitor would make an event loop for
        the thread and never close it; at interpreter exit Python then reports each one on stderr ("Exception
        ignored in BaseEventLoop.__del__"), so a successful render would not be quiet. One loop per thread and
        run, closed by `close`: a loop per call (a selector and a socket pair each) was a tenth of a run.
        """
        if threading.current_thread() is threading.main_thread():
            return call(request)
        loop = self._thread_loops.get(threading.get_ident())
        if loop is None:
            loop = self._thread_loops[threading.get_ident()] = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)  # the thread may still hold an earlier run's closed loop
        return call(request)

    def close(self) -> None:
        """Close the threads' loops once the run has made its last call."""
        for loop in self._thread_loops.values():
            loop.close()
        self._thread_loops.clear()


def _replace_references_with_urns(value: struct_pb2.Value) -> None:
    """Every resource reference inside `value` (e.g. an eks.ManagedNodeGroup's `cluster`) replaced by its URN, in
    place.

    The mock monitor deserializes inputs on a worker thread, where rebuilding a referenced resource would start
    a lookup on that thread's event loop, which the program's loop cannot await.
    """
    kind = value.WhichOneof("kind")
    if kind == "struct_value":
        fields = value.struct_value.fields
        signature = fields.get(rpc._special_sig_key)  # noqa: SLF001
        if signature is not None and signature.string_value == rpc._special_resource_sig:  # noqa: SLF001
            value.string_value = fields["urn"].string_value
            return
        for item in fields.values():
            _replace_references_with_urns(item)
    elif kind == "list_value":
        for item in value.list_value.values:
            _replace_references_with_urns(item)


def stack_config(stack: str, overrides: Iterable[str] = ()) -> dict[str, str]:
    """The stack's config as the CLI hands it to the program, with `KEY=VALUE` overrides inside `brain:`.

    KEY is a dotted path (`balancer.algorithm`); VALUE is parsed as YAML (`[3,2,1]`, `2s`, `true`).
    """
    path = ROOT / f"Pulumi.{stack}.yaml"
    if not path.is_file():
        raise FileNotFoundError(f"no stack config {path.name}; stacks: {', '.join(known_stacks())}")
    values = _stack_file_config(path)
    tree = {
        key.removeprefix(f"{PROJECT}:"): value
        for key, value in values.items()
        if isinstance(key, str) and key.startswith(f"{PROJECT}:")
    }
    for override in overrides:
        key, separator, raw = override.partition("=")
        if not separator or not key:
            raise ValueError(f"--set {override!r}: expected KEY=VALUE, e.g. balancer.algorithm=least_conn")
        *parents, leaf = key.split(".")
        node = tree
        for part in parents:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise ValueError(f"--set {override!r}: {part!r} is not an object")
            node = child
        try:
            node[leaf] = yaml_text.load(raw) if raw else ""  # `--set backend.image=` means the empty string
        except yaml.YAMLError as error:
            raise ValueError(f"--set {override!r}: the value is not valid YAML: {' '.join(str(error).split())}") from None
    return handed_over(tree)


def handed_over(tree: Mapping[str, Any]) -> dict[str, str]:
    """`brain:` keys with their values as the CLI hands them to the program: top-level text as is, anything else
    as JSON (a YAML date becomes its text)."""
    return {
        f"{PROJECT}:{key}": value if isinstance(value, str) else json.dumps(value, default=str)
        for key, value in tree.items()
    }


def _stack_file_config(path: Path) -> dict[Any, Any]:
    """The `config:` mapping of a stack file; ValueError with one line when the file is not YAML of that shape."""
    try:
        document = yaml_text.load(path.read_text())
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ValueError(f"{path.name} is not valid YAML{where}: {error.problem or error.context}") from None
    except yaml.YAMLError as error:
        raise ValueError(f"{path.name} is not valid YAML: {' '.join(str(error).split())}") from None
    document = document or {}
    values = document.get("config") if isinstance(document, dict) else None
    if not isinstance(document, dict) or not isinstance(values or {}, dict):
        raise ValueError(f"{path.name}: expected a mapping with a `config:` mapping such as `brain:target: docker`")
    return values or {}


def known_stacks() -> list[str]:
    return sorted(path.name.split(".")[1] for path in ROOT.glob("Pulumi.*.yaml"))


def run_program(
    stack: str,
    overrides: Iterable[str] = (),
    config: Mapping[str, str] | None = None,
    registered: list[RegisteredResource] | None = None,
) -> ProgramRun:
    """A fresh run of `__main__.py` for `stack`; raises what the program raises (e.g. ConfigError).

    `registered` receives every resource as it is registered, so a caller can see what a failed run created.
    """
    # A fresh event loop per run: async work of one run never lands in the next, and a caller that used
    # asyncio.run() (which leaves no current loop) does not break the SDK's synchronous waits.
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        return _run(stack, overrides, config, registered)
    finally:
        loop.close()
        asyncio.set_event_loop(None)


def _run(
    stack: str,
    overrides: Iterable[str],
    config: Mapping[str, str] | None,
    registered: list[RegisteredResource] | None,
) -> ProgramRun:
    monitor = _RecordingMonitor(registered if registered is not None else [])
    pulumi.runtime.set_all_config(dict(config) if config is not None else stack_config(stack, overrides))
    settings.ROOT.set(None)  # a fresh root stack, so no output of an earlier run leaks into this one
    pulumi.runtime.set_mocks(monitor.mocks, project=PROJECT, stack=stack, preview=False, monitor=monitor)
    outputs: dict[str, Any] = {}

    @pulumi.runtime.test
    def program() -> pulumi.Output[Any]:
        runpy.run_path(str(ROOT / "__main__.py"), run_name="__main__")
        exported = settings.get_root_resource().outputs  # type: ignore[union-attr]
        return pulumi.Output.all(
            **{name: _keep_secret(value) for name, value in exported.items()}
        ).apply(outputs.update)

    # The SDK walks the Python stack for every resource to tell the engine which line created it; the mock monitor
    # drops that, and the walk is a tenth of a run. (patch.object fails loudly if the SDK renames the function.)
    with unittest.mock.patch.object(resource_runtime, "_get_stack_trace", source_pb2.StackTrace):
        try:
            program()
        finally:
            monitor.close()
    return ProgramRun(resources=monitor.registered, outputs=outputs)


def _keep_secret(value: Any) -> pulumi.Output[Any]:
    """An exported Output resolved to its value, wrapped like the engine wraps secrets."""
    output = pulumi.Output.from_input(value)
    return pulumi.Output.all(output, output.is_secret()).apply(
        lambda pair: {rpc._special_sig_key: SECRET_SIG, "value": pair[0]} if pair[1] else pair[0]  # noqa: SLF001
    )
