"""Custom resources checked against the real CRDs of the pinned charts, and keyed lists
checked the way server-side apply checks them.

Validation follows what the API server does with a custom resource
(kubernetes/kubernetes, staging/src/k8s.io/apiextensions-apiserver/pkg/apiserver/):

- ``schema/pruning/algorithm.go``: a field that is neither in the node's ``properties``
  nor covered by its ``additionalProperties`` is pruned, unless the node has
  ``x-kubernetes-preserve-unknown-fields: true``; ``apiVersion``, ``kind`` and
  ``metadata`` are kept at the root and in ``x-kubernetes-embedded-resource`` nodes. Only
  the structural part counts: ``allOf``/``anyOf``/``oneOf``/``not`` never keep a field
  (``schema/convert.go`` turns them into value validations only). A pruned value would be
  lost without a word, so here it is a finding ("unknown field").
- ``schema/objectmeta/validation.go``: an embedded resource needs ``apiVersion`` and
  ``kind``; its ``metadata`` (and the root's) is ObjectMeta. ``objectmeta/coerce.go``
  round-trips it through ``metav1.ObjectMeta``, which loses unknown fields, so they are
  findings too. The ObjectMeta fields and their types come from the OpenAPI schema
  kubernetes-validate ships.
- ``schema/defaulting/prunenulls.go``, ``schema/defaulting/algorithm.go`` and
  ``customresource_handler.go``: before validation a ``null`` of a non-nullable field
  without a default is dropped, and defaults are filled in.
- ``validation/validation.go`` and ``schema/kubeopenapi.go``: the remaining value
  validations are OpenAPI v3 (JSON Schema draft 4 with ``nullable``,
  ``x-kubernetes-int-or-string``); here they run on ``jsonschema``'s Draft 7 validator after
  translation (boolean ``exclusiveMinimum``/``exclusiveMaximum`` become draft 7 numbers,
  ``nullable`` an ``if null`` branch).
- ``validation/formats.go``: only the formats the API server knows are checked, with the
  format name's dashes removed, and (kube-openapi ``pkg/validation/validate/formats.go``)
  only on string values. Checked here: byte, date, date-time,
  duration, uuid/uuid3/uuid4/uuid5, ipv4, ipv6, cidr (as kube-openapi's fork of go-openapi
  strfmt, ``pkg/validation/strfmt``, and go-openapi/strfmt ``time.go`` define them); the
  others it knows (uri, email, hostname, mac, isbn, creditcard, ssn, hexcolor, rgbcolor,
  bsonobjectid, password, k8s-short-name, k8s-long-name) are not checked.
- Patterns are Go RE2; an inline flag group such as ``(?i)`` in mid-pattern is scoped for
  Python's ``re``. A pattern Python still cannot compile is not checked and is reported by
  ``CrdIndex.unchecked_patterns``.
- ``x-kubernetes-validations`` (CEL) rules cannot be evaluated here; ``CrdIndex``
  counts them (``cel_rule_count``) and lists those that applied to an object
  (``unchecked_cel_rules``).

Keyed lists (``duplicate_list_key_findings``): Argo CD syncs with server-side apply
(argoproj/argo-cd docs/user-guide/sync-options.md, "Server-Side Apply"), and server-side
apply turns the applied object into a typed value with structured-merge-diff, which
refuses a list of ``x-kubernetes-list-type: map`` with two items of the same key tuple or
a ``set`` with the same item twice (kubernetes-sigs/structured-merge-diff
``typed/validate.go``: "duplicate entries for key"; ``typed/helpers.go``: a missing key
field takes the field's schema default, else the element is refused). Since
structured-merge-diff v4.4.0 (kubernetes/kubernetes#121575) create and update tolerate
duplicates already stored, but an applied object still may not have any
(kubernetes-sigs/structured-merge-diff#249); argoproj/argo-cd#18402 shows the error on an
Argo CD sync. For custom resources the API server also refuses such lists on create
(``schema/listtype/validation.go``). The list types of the
built-in kinds come from the OpenAPI schemas kubernetes-validate ships
(``kubernetes-json-schema/v<version>-local/_definitions.json``), which carry
``x-kubernetes-list-type`` and ``x-kubernetes-list-map-keys`` themselves (so no table of
patch-merge keys is needed); those files omit the ``default`` of key fields, so the three
defaulted key fields of the core types are listed here from their ``+default`` markers in
k8s.io/api ``core/v1/types.go``. Custom resources use their CRD's markers and defaults.
"""

from __future__ import annotations

import copy
import functools
import importlib.resources
import ipaddress
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Final

import jsonschema

CRD_API_VERSION: Final = "apiextensions.k8s.io/v1"
CRD_KIND: Final = "CustomResourceDefinition"

_PRESERVE: Final = "x-kubernetes-preserve-unknown-fields"
_EMBEDDED: Final = "x-kubernetes-embedded-resource"
_INT_OR_STRING: Final = "x-kubernetes-int-or-string"
_VALIDATIONS: Final = "x-kubernetes-validations"
_LIST_TYPE: Final = "x-kubernetes-list-type"
_LIST_KEYS: Final = "x-kubernetes-list-map-keys"
_TYPE_META: Final = ("apiVersion", "kind")
_OBJECT_META: Final = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"

# Keywords copied as they are: OpenAPI v3 and JSON Schema draft 7 agree on them.
_VALUE_KEYWORDS: Final = (
    "enum",
    "required",
    "multipleOf",
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
    "uniqueItems",
    "minProperties",
    "maxProperties",
)
_JUNCTORS: Final = ("allOf", "anyOf", "oneOf")


def split_api_version(api_version: str) -> tuple[str, str]:
    """(group, version); the core group is ""."""
    group, _, version = api_version.rpartition("/")
    return group, version


# --- Go RE2 patterns in Python ------------------------------------------------------

_INLINE_FLAGS = re.compile(r"\(\?([a-zA-Z]+)\)")


def python_pattern(pattern: str) -> str:
    """The RE2 ``pattern`` as Python ``re`` syntax.

    RE2 allows ``(?i)`` anywhere; it sets the flag up to the end of the enclosing group,
    across ``|``. Python only allows global flags at the start, so a mid-pattern flag
    becomes a scoped group ``(?i:...)`` closed before each ``|`` and the group's end and
    reopened after each ``|``. RE2's ``\\z`` (end of text) is Python's ``\\Z``."""
    out: list[str] = []
    opened: list[list[str]] = [[]]  # per group level: the scoped flag groups still open
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern):
            out.append("\\Z" if pattern[i + 1] == "z" else pattern[i : i + 2])
            i += 2
            continue
        if char == "[":
            end = _class_end(pattern, i)
            out.append(pattern[i:end])
            i = end
            continue
        flags = _INLINE_FLAGS.match(pattern, i)
        if flags and i > 0:
            out.append(f"(?{flags.group(1)}:")
            opened[-1].append(flags.group(1))
            i = flags.end()
            continue
        if char == "|":
            out.append(")" * len(opened[-1]) + "|" + "".join(f"(?{f}:" for f in opened[-1]))
        elif char == "(":
            opened.append([])
            out.append(char)
        elif char == ")" and len(opened) > 1:
            out.append(")" * len(opened.pop()) + ")")
        else:
            out.append(char)
        i += 1
    out.append(")" * len(opened[0]))
    return "".join(out)


def _class_end(pattern: str, start: int) -> int:
    """Index after the character class opened at ``start`` (a ``]`` first is literal)."""
    i = start + 1
    if i < len(pattern) and pattern[i] == "^":
        i += 1
    if i < len(pattern) and pattern[i] == "]":
        i += 1
    while i < len(pattern) and pattern[i] != "]":
        i += 2 if pattern[i] == "\\" else 1
    return min(i + 1, len(pattern))


# --- formats ------------------------------------------------------------------------

_FORMAT_CHECKER = jsonschema.FormatChecker(formats=())
# go-openapi/strfmt time.go DateTimePattern, applied to the part after the date and "t".
_TIME = re.compile(r"^([0-9]{2}):([0-9]{2}):([0-9]{2})(.[0-9]+)?(z|([+-][0-9]{2}:[0-9]{2}))$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# govalidator rxBase64, which strfmt's "byte" uses.
_BASE64 = re.compile(r"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{4})$")
_UUID = {
    "uuid": re.compile(r"(?i)^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$"),
    "uuid3": re.compile(r"(?i)^[0-9a-f]{8}-?[0-9a-f]{4}-?3[0-9a-f]{3}-?[0-9a-f]{4}-?[0-9a-f]{12}$"),
    "uuid4": re.compile(r"(?i)^[0-9a-f]{8}-?[0-9a-f]{4}-?4[0-9a-f]{3}-?[89ab][0-9a-f]{3}-?[0-9a-f]{12}$"),
    "uuid5": re.compile(r"(?i)^[0-9a-f]{8}-?[0-9a-f]{4}-?5[0-9a-f]{3}-?[89ab][0-9a-f]{3}-?[0-9a-f]{12}$"),
}
# strfmt duration.go: Go's time.ParseDuration, or Scala-like "<n> <unit>" sequences.
_GO_DURATION = re.compile(r"^[-+]?(0|(([0-9]+(\.[0-9]*)?|\.[0-9]+)(ns|us|µs|μs|ms|s|m|h))+)$")
_SCALA_DURATION = re.compile(r"^\s*(?:\d+\s*[A-Za-zµ]+\s*)+$")
_DURATION_PART = re.compile(r"(\d+)\s*([A-Za-zµ]+)")
_DURATION_UNITS: Final = (
    ("ns", "nano"),
    ("us", "µs", "micro"),
    ("ms", "milli"),
    ("s", "sec"),
    ("m", "min"),
    ("h", "hr", "hour"),
    ("d", "day"),
    ("w", "wk", "week"),
)


_Check = Callable[[str], object]


def _string_format(name: str) -> Callable[[_Check], _Check]:
    """Register a check for ``name``; like kube-openapi it applies to strings only."""

    def register(check: _Check) -> _Check:
        def checked(value: object) -> bool:
            return not isinstance(value, str) or bool(check(value))

        _FORMAT_CHECKER.checks(name)(checked)
        return check

    return register


@_string_format("date")
def _is_date(value: str) -> bool:
    if not _DATE.match(value):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


@_string_format("datetime")
def _is_date_time(value: str) -> bool:
    parts = value.lower().split("t")
    if len(value) < 4 or len(parts) < 2 or not _is_date(parts[0]):
        return False
    match = _TIME.match(parts[1])
    if match is None:
        return False
    return match.group(1) <= "23" and match.group(2) <= "59" and match.group(3) <= "59"


@_string_format("byte")
def _is_base64(value: str) -> bool:
    return bool(_BASE64.match(value))


@_string_format("duration")
def _is_duration(value: str) -> bool:
    if _GO_DURATION.match(value):
        return True
    if not _SCALA_DURATION.match(value):
        return False
    return any(_duration_unit(unit.strip().lower()) for _, unit in _DURATION_PART.findall(value))


def _duration_unit(unit: str) -> bool:
    # strfmt accepts a unit equal to a variant or starting with the last (longest) one.
    return any(unit in variants or unit.startswith(variants[-1]) for variants in _DURATION_UNITS)


@_string_format("ipv4")
def _is_ipv4(value: str) -> bool:
    return "." in value and _is_ip(value)


@_string_format("ipv6")
def _is_ipv6(value: str) -> bool:
    return ":" in value and _is_ip(value)


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


@_string_format("cidr")
def _is_cidr(value: str) -> bool:
    try:
        ipaddress.ip_network(value, strict=False)
    except ValueError:
        return False
    return "/" in value


for _name, _regex in _UUID.items():
    _string_format(_name)(_regex.match)

_CHECKED_FORMATS: Final = frozenset(_FORMAT_CHECKER.checkers)


# --- the OpenAPI schemas of the built-in kinds ----------------------------------------


def _schema_root() -> Any:
    return importlib.resources.files("kubernetes_validate") / "kubernetes-json-schema"


def _minor(version: str) -> tuple[int, int]:
    major, minor = version.lstrip("v").split(".")[:2]
    return int(major), int(minor)


@functools.cache
def builtin_definitions(kubernetes_version: str) -> Mapping[str, Any]:
    """The ``$defs`` of the newest kubernetes-validate schema not newer than the version."""
    wanted = _minor(kubernetes_version)
    names = [entry.name for entry in _schema_root().iterdir() if re.fullmatch(r"v\d+\.\d+\.\d+-local", entry.name)]
    usable = sorted((_minor(name), name) for name in names if _minor(name) <= wanted)
    if not usable:
        raise ValueError(f"kubernetes-validate has no schemas for Kubernetes {kubernetes_version} or older")
    text = (_schema_root() / usable[-1][1] / "_definitions.json").read_text()
    definitions: Mapping[str, Any] = json.loads(text)["$defs"]
    return definitions


@functools.cache
def _builtin_kinds(kubernetes_version: str) -> Mapping[tuple[str, str, str], str]:
    """(group, version, kind) -> the definition of that built-in kind."""
    kinds: dict[tuple[str, str, str], str] = {}
    for name, definition in builtin_definitions(kubernetes_version).items():
        for gvk in definition.get("x-kubernetes-group-version-kind", ()):
            key = (gvk["group"], gvk["version"], gvk["kind"])
            # DeleteOptions, WatchEvent etc. name every kind; the kind's own type wins.
            if key not in kinds or name.endswith("." + gvk["kind"]):
                kinds[key] = name
    return kinds


def _without_refs(node: Any) -> Any:
    """``node`` without descriptions and with every ``$ref`` accepting anything."""
    if isinstance(node, Mapping):
        if "$ref" in node:
            return {}
        return {k: _without_refs(v) for k, v in node.items() if k != "description" and not k.startswith("x-")}
    if isinstance(node, list):
        return [_without_refs(v) for v in node]
    return node


@functools.cache
def object_meta_schema(kubernetes_version: str) -> Mapping[str, Any]:
    """ObjectMeta as a closed object: its own fields, typed as the OpenAPI schema says
    (nested types such as OwnerReference and Time are not checked further)."""
    meta = builtin_definitions(kubernetes_version)[_OBJECT_META]
    return {"type": "object", "properties": _without_refs(meta["properties"]), "additionalProperties": False}


# --- CRD schema -> JSON Schema draft 7 ------------------------------------------------


@dataclass
class _Converter:
    """Translates one CRD version's openAPIV3Schema (see the module docstring)."""

    object_meta: Mapping[str, Any]
    dropped_patterns: list[str]

    def root(self, node: Mapping[str, Any]) -> dict[str, Any]:
        return self.structural(node, root=True)

    def structural(self, node: Mapping[str, Any], *, root: bool = False) -> dict[str, Any]:
        out = self.values(node)
        properties = {name: self.structural(child) for name, child in node.get("properties", {}).items()}
        embedded = node.get(_EMBEDDED) is True
        if root or embedded:
            properties.update(self.type_meta(node.get("properties", {})))
        if embedded:
            out["required"] = sorted({*out.get("required", ()), *_TYPE_META})
        if properties:
            out["properties"] = properties
        if "items" in node:
            out["items"] = self.structural(node["items"])
        additional = node.get("additionalProperties")
        if isinstance(additional, Mapping):
            out["additionalProperties"] = self.structural(additional)
        elif additional is None and node.get(_PRESERVE) is not True and _is_object(node):
            out["additionalProperties"] = False
        return _nullable(node, out)

    def type_meta(self, declared: Mapping[str, Any]) -> dict[str, Any]:
        """apiVersion, kind and metadata, which pruning always keeps, with whatever the
        CRD adds to them (at the root it may constrain metadata.name)."""
        schemas = {"apiVersion": {"type": "string"}, "kind": {"type": "string"}, "metadata": self.object_meta}
        return {
            name: {"allOf": [base, self.nested(declared[name])]} if name in declared else dict(base)
            for name, base in schemas.items()
        }

    def nested(self, node: Mapping[str, Any]) -> dict[str, Any]:
        """A junctor or declared meta field: value validations only, never closing."""
        out = self.values(node)
        if "properties" in node:
            out["properties"] = {name: self.nested(child) for name, child in node["properties"].items()}
        if "items" in node:
            out["items"] = self.nested(node["items"])
        return out

    def values(self, node: Mapping[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {k: node[k] for k in _VALUE_KEYWORDS if k in node}
        out.update(_type(node))
        out.update(_bounds(node))
        out.update(self.format_and_pattern(node))
        for junctor in _JUNCTORS:
            if junctor in node:
                out[junctor] = [self.nested(clause) for clause in node[junctor]]
        if "not" in node:
            out["not"] = self.nested(node["not"])
        return out

    def format_and_pattern(self, node: Mapping[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        name = str(node.get("format", "")).replace("-", "")
        if name in _CHECKED_FORMATS and node.get("type") in (None, "string"):
            out["format"] = name
        if "pattern" in node:
            translated = python_pattern(node["pattern"])
            try:
                re.compile(translated)
            except re.error:
                self.dropped_patterns.append(node["pattern"])
            else:
                out["pattern"] = translated
        return out


def _is_object(node: Mapping[str, Any]) -> bool:
    return node.get("type") == "object" or "properties" in node


def _type(node: Mapping[str, Any]) -> dict[str, Any]:
    if node.get(_INT_OR_STRING) is True:
        # controller-gen adds anyOf [integer, string]; without it, say so directly.
        return {} if "anyOf" in node or "oneOf" in node else {"type": ["integer", "string"]}
    return {"type": node["type"]} if node.get("type") else {}


def _bounds(node: Mapping[str, Any]) -> dict[str, Any]:
    """OpenAPI v3's boolean exclusive bounds as draft 7's numeric ones."""
    out: dict[str, Any] = {}
    for bound, exclusive in (("minimum", "exclusiveMinimum"), ("maximum", "exclusiveMaximum")):
        if bound in node:
            out[exclusive if node.get(exclusive) is True else bound] = node[bound]
    return out


def _nullable(node: Mapping[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    # go-openapi validate (schema.go, forked by kube-openapi) checks a null only for its
    # type, which nullable allows, and for the enum.
    if node.get("nullable") is True:
        when_null: Any = {"enum": schema["enum"]} if "enum" in schema else True
        return {"if": {"type": "null"}, "then": when_null, "else": schema}
    return schema


# --- the API server's preparation of the object ---------------------------------------


def _child_schema(node: Mapping[str, Any] | None, key: str) -> Mapping[str, Any] | None:
    if node is None:
        return None
    properties = node.get("properties", {})
    if key in properties:
        child: Mapping[str, Any] = properties[key]
        return child
    additional = node.get("additionalProperties")
    return additional if isinstance(additional, Mapping) else None


def _prepared(value: Any, node: Mapping[str, Any] | None, *, root: bool = False) -> Any:
    """A plain copy of ``value`` with non-nullable nulls dropped and defaults filled in,
    as the API server does before validating. Type meta of the root and of embedded
    resources is left alone (pruning and defaulting skip it too)."""
    if isinstance(value, Mapping):
        meta = root or (node is not None and node.get(_EMBEDDED) is True)
        return _prepared_object(value, node, meta)
    if isinstance(value, Sequence) and not isinstance(value, str):
        items = node.get("items") if node is not None else None
        return [_prepared(item, items) for item in value]
    return value


def _prepared_object(value: Mapping[str, Any], node: Mapping[str, Any] | None, meta: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, child_value in value.items():
        child = None if meta and key in (*_TYPE_META, "metadata") else _child_schema(node, key)
        if child_value is None and child is not None and child.get("nullable") is not True:
            if "default" in child:
                out[key] = copy.deepcopy(child["default"])
            continue
        out[key] = _prepared(child_value, child) if child is not None else _plain(child_value)
    for key, child in (node or {}).get("properties", {}).items():
        if key not in out and "default" in child:
            out[key] = copy.deepcopy(child["default"])
    return out


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, Sequence) and not isinstance(value, str):
        return [_plain(v) for v in value]
    return value


# --- findings -------------------------------------------------------------------------

_PLAIN_FIELD = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


def field_path(parts: Iterable[str | int]) -> str:
    """A Kubernetes field path (``spec.rules[0].match``); odd map keys go in brackets."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _PLAIN_FIELD.match(part):
            out += f".{part}" if out else part
        else:
            out += f"[{part}]"
    return out or "(root)"


def _error_lines(error: Any) -> Iterator[str]:
    path = list(error.absolute_path)
    if error.validator == "required":
        for name in error.validator_value:
            if isinstance(error.instance, Mapping) and name not in error.instance:
                yield f"{field_path([*path, name])}: Required value"
    elif error.validator == "additionalProperties" and error.validator_value is False:
        declared = error.schema.get("properties", {})
        for name in error.instance:
            if name not in declared:
                yield f"{field_path([*path, name])}: unknown field"
    else:
        yield f"{field_path(path)}: {error.message}"


def _cel_rules(node: Any) -> int:
    """The CEL rules anywhere in a schema node."""
    if isinstance(node, Mapping):
        return len(node.get(_VALIDATIONS, ())) + sum(_cel_rules(v) for k, v in node.items() if k != _VALIDATIONS)
    if isinstance(node, list):
        return sum(_cel_rules(v) for v in node)
    return 0


def _applied_cel_rules(value: Any, node: Mapping[str, Any] | None, path: list[str | int]) -> Iterator[str]:
    """'<path>: <rule>' for each CEL rule of a schema node the object has a value at."""
    if node is None:
        return
    for rule in node.get(_VALIDATIONS, ()):
        yield f"{field_path(path)}: {rule.get('rule')}"
    if isinstance(value, Mapping):
        for key, child_value in value.items():
            yield from _applied_cel_rules(child_value, _child_schema(node, key), [*path, key])
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _applied_cel_rules(item, node.get("items"), [*path, index])


# --- the index ------------------------------------------------------------------------


@dataclass(frozen=True)
class IndexedCrd:
    """One CRD of the index: its name and the versions it serves."""

    name: str
    group: str
    kind: str
    served_versions: tuple[str, ...]


@dataclass(frozen=True)
class ListType:
    """A keyed list of a schema: ``map`` with its key fields, or ``set``."""

    list_type: str
    keys: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Version:
    crd: str
    served: bool
    schema: Mapping[str, Any]


@dataclass
class _Compiled:
    validator: Any
    dropped_patterns: tuple[str, ...]


class CrdIndex:
    """The CRDs among rendered objects, by (group, version, kind).

    ``crds`` holds one entry per CRD name (a later copy of a CRD replaces an earlier
    one, as a later apply would). Validators are built on first use of a kind."""

    def __init__(self, crds: Iterable[Mapping[str, Any]], kubernetes_version: str = "1.35") -> None:
        by_name = {str(crd["metadata"]["name"]): crd for crd in crds}
        self.kubernetes_version = kubernetes_version
        self.crds: tuple[IndexedCrd, ...] = tuple(_indexed(crd) for crd in by_name.values())
        self._versions: dict[tuple[str, str, str], _Version] = {
            (crd["spec"]["group"], version["name"], crd["spec"]["names"]["kind"]): _Version(
                name, version.get("served") is True, version.get("schema", {}).get("openAPIV3Schema", {})
            )
            for name, crd in by_name.items()
            for version in crd["spec"]["versions"]
        }
        self._compiled: dict[tuple[str, str, str], _Compiled] = {}

    @classmethod
    def from_objects(cls, objects: Iterable[Mapping[str, Any]], kubernetes_version: str = "1.35") -> CrdIndex:
        """The index of the apiextensions.k8s.io/v1 CRDs among ``objects``."""
        return cls(
            (o for o in objects if o.get("apiVersion") == CRD_API_VERSION and o.get("kind") == CRD_KIND),
            kubernetes_version,
        )

    def knows(self, api_version: str, kind: str) -> bool:
        """Whether a CRD defines the kind in that group (served at this version or not:
        ``findings`` says which)."""
        group, _ = split_api_version(api_version)
        return any(crd.group == group and crd.kind == kind for crd in self.crds)

    def schema(self, api_version: str, kind: str) -> Mapping[str, Any] | None:
        """The openAPIV3Schema of the served version, or None."""
        version = self._served(api_version, kind)
        return version.schema if version is not None else None

    def findings(self, manifest: Mapping[str, Any]) -> list[str]:
        """[] when the API server would take the object as it is; otherwise one line per
        problem, '<field path>: <message>'."""
        api_version, kind = str(manifest.get("apiVersion", "")), str(manifest.get("kind", ""))
        version = self._served(api_version, kind)
        if version is None:
            return [f"no CRD serves {api_version} {kind}"]
        compiled = self._compile(api_version, kind, version)
        instance = _prepared(manifest, version.schema, root=True)
        return sorted({line for error in compiled.validator.iter_errors(instance) for line in _error_lines(error)})

    def cel_rule_count(self, api_version: str, kind: str) -> int:
        """How many CEL rules the served version's schema has (none is evaluated here)."""
        version = self._served(api_version, kind)
        return _cel_rules(version.schema) if version is not None else 0

    def unchecked_cel_rules(self, manifest: Mapping[str, Any]) -> list[str]:
        """'<field path>: <rule>' for every CEL rule that applies to a value the object
        has, none of which was evaluated."""
        version = self._served(str(manifest.get("apiVersion", "")), str(manifest.get("kind", "")))
        if version is None:
            return []
        return list(_applied_cel_rules(_plain(manifest), version.schema, []))

    def unchecked_patterns(self, api_version: str, kind: str) -> tuple[str, ...]:
        """The schema's patterns Python's ``re`` cannot compile, which are not checked."""
        version = self._served(api_version, kind)
        if version is None:
            return ()
        return self._compile(api_version, kind, version).dropped_patterns

    def list_map_keys(self, api_version: str, kind: str) -> dict[str, ListType]:
        """The served schema's keyed lists by path (``[*]``: any item, ``.*``: any map value)."""
        schema = self.schema(api_version, kind)
        return dict(_list_types(schema, "")) if schema is not None else {}

    def _served(self, api_version: str, kind: str) -> _Version | None:
        group, version = split_api_version(api_version)
        found = self._versions.get((group, version, kind))
        return found if found is not None and found.served else None

    def _compile(self, api_version: str, kind: str, version: _Version) -> _Compiled:
        key = (*split_api_version(api_version), kind)
        if key not in self._compiled:
            converter = _Converter(object_meta_schema(self.kubernetes_version), [])
            validator = jsonschema.Draft7Validator(converter.root(version.schema), format_checker=_FORMAT_CHECKER)
            self._compiled[key] = _Compiled(validator, tuple(converter.dropped_patterns))
        return self._compiled[key]


def _indexed(crd: Mapping[str, Any]) -> IndexedCrd:
    spec = crd["spec"]
    served = tuple(v["name"] for v in spec["versions"] if v.get("served") is True)
    return IndexedCrd(str(crd["metadata"]["name"]), spec["group"], spec["names"]["kind"], served)


def _list_types(node: Mapping[str, Any], path: str) -> Iterator[tuple[str, ListType]]:
    if node.get(_LIST_TYPE) in ("map", "set"):
        yield path, ListType(node[_LIST_TYPE], tuple(node.get(_LIST_KEYS, ())))
    for name, child in node.get("properties", {}).items():
        yield from _list_types(child, f"{path}.{name}")
    if isinstance(node.get("additionalProperties"), Mapping):
        yield from _list_types(node["additionalProperties"], f"{path}.*")
    if "items" in node:
        yield from _list_types(node["items"], f"{path}[*]")


# --- server-side apply: keyed lists ---------------------------------------------------

# Key fields the kubernetes-validate schemas leave without their default. From the
# `+default` markers in k8s.io/api core/v1/types.go (ContainerPort.Protocol and
# ServicePort.Protocol: "TCP"; LocalObjectReference.Name: "").
BUILTIN_KEY_DEFAULTS: Final[Mapping[str, Mapping[str, Any]]] = {
    "io.k8s.api.core.v1.ContainerPort": {"protocol": "TCP"},
    "io.k8s.api.core.v1.ServicePort": {"protocol": "TCP"},
    "io.k8s.api.core.v1.LocalObjectReference": {"name": ""},
}
_MISSING: Final = object()
_OMITS_KEY: Final = "associative list with keys has an element that omits key field"


@dataclass(frozen=True)
class _TypedSchema:
    """Resolves the ``$ref`` of the built-in definitions (CRD schemas have none)."""

    definitions: Mapping[str, Any]

    def resolve(self, node: Mapping[str, Any]) -> tuple[Mapping[str, Any], str | None]:
        ref = node.get("$ref")
        if ref is None and len(node.get("allOf", ())) == 1:
            ref = node["allOf"][0].get("$ref")
        if isinstance(ref, str):
            name = ref.rsplit("/", 1)[-1]
            resolved: Mapping[str, Any] = self.definitions[name]
            return resolved, name
        return node, None

    def child(self, node: Mapping[str, Any], key: str, *, root: bool) -> Mapping[str, Any] | None:
        # A CRD's schema leaves the root's metadata untyped; the API server types it as
        # ObjectMeta (whose finalizers are a set and ownerReferences a map by uid).
        if root and key == "metadata":
            return {"$ref": _OBJECT_META}
        return _child_schema(node, key)


def _key_text(fields: Mapping[str, Any]) -> str:
    """structured-merge-diff's rendering of a key: [containerPort=80,protocol="TCP"]."""
    return "[" + ",".join(f"{name}={json.dumps(fields[name])}" for name in sorted(fields)) + "]"


def _item_key(
    item: Mapping[str, Any], keys: Sequence[str], item_node: Mapping[str, Any] | None, typed: _TypedSchema
) -> dict[str, Any] | str:
    """The item's key fields (a missing one takes its default), or why it has no key."""
    resolved, name = typed.resolve(item_node) if item_node is not None else ({}, None)
    properties = resolved.get("properties", {})
    fields: dict[str, Any] = {}
    for key in keys:
        value = item.get(key, properties.get(key, {}).get("default", _MISSING))
        if value is _MISSING:
            value = BUILTIN_KEY_DEFAULTS.get(name or "", {}).get(key, _MISSING)
        if value is _MISSING:
            return f'{_OMITS_KEY} "{key}" (and doesn\'t have default value)'
        fields[key] = value
    return fields


def _element(index: int, item: Any, node: Mapping[str, Any], typed: _TypedSchema) -> tuple[str, bool, str | None]:
    """The item's path element, whether that is a key, and why the item has no key."""
    list_type = node.get(_LIST_TYPE)
    if list_type == "map" and isinstance(item, Mapping):
        key = _item_key(item, node.get(_LIST_KEYS, ()), node.get("items"), typed)
        if isinstance(key, str):
            return f"[{index}]", False, key
        return _key_text(key), True, None
    if list_type == "set" and not isinstance(item, Mapping | list):
        return f"[={json.dumps(item)}]", True, None
    # Atomic lists, and items the schema validation refuses anyway, go by index.
    return f"[{index}]", False, None


def _list_elements(value: Sequence[Any], node: Mapping[str, Any], typed: _TypedSchema) -> tuple[list[str], list[str]]:
    """The path element of each item and the list's problems: each duplicated key once,
    and each item of a keyed list without its key."""
    elements: list[str] = []
    problems: list[str] = []
    keys: set[str] = set()
    for index, item in enumerate(value):
        element, keyed, missing = _element(index, item, node, typed)
        if missing is not None:
            problems.append(f"element {index}: {missing}")
        elif keyed and element in keys:
            problems.append(f"duplicate entries for key {element}")
        keys.add(element)
        elements.append(element)
    return elements, list(dict.fromkeys(problems))


def _keyed_list_problems(
    value: Any, node: Mapping[str, Any], typed: _TypedSchema, path: str, *, root: bool = False
) -> Iterator[str]:
    node, _ = typed.resolve(node)
    if isinstance(value, Mapping):
        for key, child_value in value.items():
            child = typed.child(node, key, root=root)
            if child is not None:
                yield from _keyed_list_problems(child_value, child, typed, f"{path}.{key}")
    elif isinstance(value, Sequence) and not isinstance(value, str):
        elements, problems = _list_elements(value, node, typed)
        yield from (f"{path}: {problem}" for problem in problems)
        items = node.get("items")
        if items is not None:
            for element, item in zip(elements, value, strict=True):
                yield from _keyed_list_problems(item, items, typed, path + element)


def duplicate_list_key_findings(
    manifest: Mapping[str, Any], crds: CrdIndex | None = None, kubernetes_version: str = "1.35"
) -> list[str]:
    """'<Kind>/<name>: <path of the list>: duplicate entries for key <key>' for each key
    server-side apply would refuse (and items of a keyed list without their key), with
    structured-merge-diff's path and key notation. A kind with neither a built-in schema
    nor a served CRD in ``crds`` has nothing to check."""
    api_version, kind = str(manifest.get("apiVersion", "")), str(manifest.get("kind", ""))
    definitions = builtin_definitions(kubernetes_version)
    builtin = _builtin_kinds(kubernetes_version).get((*split_api_version(api_version), kind))
    if builtin is not None:
        root: Mapping[str, Any] = definitions[builtin]
    else:
        crd_schema = crds.schema(api_version, kind) if crds is not None else None
        if crd_schema is None:
            return []
        root = crd_schema
    name = (manifest.get("metadata") or {}).get("name", "<unnamed>")
    typed = _TypedSchema(definitions)
    return [f"{kind}/{name}: {problem}" for problem in _keyed_list_problems(manifest, root, typed, "", root=True)]
