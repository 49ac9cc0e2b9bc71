"""Value keys the platform sets that a pinned upstream chart never reads.

Helm ignores a value key no template reads: a misspelt or renamed key (``service.enabled``
on a chart with no such switch, ``iatp.sts.div.url`` on a connector chart that reads
``iatp.sts.dim.url``) silently does nothing. :func:`unread_values` lists such keys, as
dotted paths of the leaves of the values, in two stages:

1. Static: :func:`referenced_paths` reads the templates of the chart and its subcharts
   out of the package and collects every ``.Values`` path they reference, following
   ``with``/``range``/variable scopes so relative references (``.port`` inside
   ``with .Values.service``) resolve to value paths. A leaf no reference covers is a
   *candidate*. This is cheap, but only approximate: it cannot know what a helper does
   with a subtree handed to it, what a dynamic ``index`` looks up, or whether a
   reference sits in a branch the values switch off.
2. Dynamic: each candidate is confirmed with the real helm, through ``render``. The leaf
   is changed (same type, different value; the zero value; removed) and each rendering
   is compared to the baseline. Any difference, or a render error, means the chart
   reads the leaf. Only a candidate no change makes any difference to is reported, so a
   report is helm's word, not the scanner's guess.

Why both: the static stage alone is approximate, in both directions (a helper may ignore
part of a subtree it is handed; a reference may sit in a branch no values reach), and
cannot prove a key does nothing. The dynamic stage alone is exact but slow: three or
four renders for each of hundreds of leaves: over 20 s for 100 leaves of
kube-prometheus-stack, against about 4 s when the scanner leaves only the few
candidates. Where the scanner cannot know it counts the key as read, so a report can
be missed but not made up: a key is reported only once helm shows that no change to it
changes the output (lines that differ between two renders of the same values, such as
generated passwords and their checksums, aside).

Keys that are read only in a branch the values switch off (``serviceMonitor.interval``
with ``serviceMonitor.enabled: false``, a disabled subchart's keys, a dependency's
``condition``) are not reported: the chart reads them, the setting is correct and takes
effect once the branch is on. The check is for keys the chart has no use for at all.

Leniency, where the templates leave it open: a subtree handed to a template, ``tpl``,
``toYaml``, ``dict`` or a ``range`` counts as read whole; a key known only at render
time (``index $.Values $plane "endpoints"``) is a wildcard segment (any key there counts
as read, the literal keys after it still matter; treating the whole prefix as read
would, there, cover every value of the chart); a library chart's ``.Values`` are its
includer's.

Out of scope: values read by files the templates load (``.Files.Get`` and ``tpl`` over
them): the scanner reads ``templates/`` only.
"""

from __future__ import annotations

import copy
import functools
import io
import itertools
import json
import re
import tarfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import yaml

ValuePath = tuple[str, ...]
Render = Callable[[Mapping[str, Any]], str]

# A path segment standing for any key: the elements a `range` iterates over.
ANY = "*"


# ---------------------------------------------------------------------------------------
# Leaves of the values
# ---------------------------------------------------------------------------------------


def value_leaves(values: Mapping[str, Any]) -> list[tuple[str, ...]]:
    """The paths of the leaves of nested values: scalars, lists and empty maps.

    A list is a leaf because templates read lists whole (``range``, ``toYaml``); an
    empty map is one because it is something the values set (``podAnnotations: {}``).
    """
    leaves: list[ValuePath] = []
    for key, value in values.items():
        path = (str(key),)
        if isinstance(value, Mapping) and value:
            leaves.extend(path + leaf for leaf in value_leaves(value))
        else:
            leaves.append(path)
    return leaves


def dotted(path: ValuePath) -> str:
    """``a.b.c``; a key with a dot in it (an annotation) is bracketed: ``a["x.io/y"]``."""
    text = ""
    for segment in path:
        if "." in segment:
            text += f"[{json.dumps(segment)}]"
        else:
            text += f".{segment}" if text else segment
    return text


# ---------------------------------------------------------------------------------------
# What the templates reference
# ---------------------------------------------------------------------------------------


def _matches(pattern: ValuePath, path: ValuePath) -> bool:
    return len(pattern) == len(path) and all(p in (ANY, s) for p, s in zip(pattern, path, strict=True))


@dataclass(frozen=True)
class ChartReferences:
    """The value paths a chart's templates reference, in the top chart's value space.

    ``read`` paths are looked up (and their ancestors traversed on the way);
    ``wholesale`` paths are subtrees used as a whole (``toYaml``, ``range``, handed to
    ``include``), so everything under them counts as read. A segment may be :data:`ANY`.
    """

    read: frozenset[ValuePath] = frozenset()
    wholesale: frozenset[ValuePath] = frozenset()

    def covers(self, leaf: ValuePath) -> bool:
        """Whether some reference reads ``leaf``: the leaf itself, a path below it, or a
        subtree above it read wholesale."""
        size = len(leaf)
        looked_up = itertools.chain(self.read, self.wholesale)  # a subtree's ancestors are traversed too
        if any(len(path) >= size and _matches(path[:size], leaf) for path in looked_up):
            return True
        return any(len(path) <= size and _matches(path, leaf[: len(path)]) for path in self.wholesale)

    def __or__(self, other: ChartReferences) -> ChartReferences:
        return ChartReferences(self.read | other.read, self.wholesale | other.wholesale)

    def relocated(self, prefix: ValuePath) -> ChartReferences:
        """A subchart's references as the parent's: under ``prefix``, ``global`` shared."""
        if not prefix:
            return self
        return ChartReferences(
            frozenset(p for path in self.read for p in _relocate(path, prefix)),
            frozenset(p for path in self.wholesale for p in _relocate(path, prefix)),
        )


def _relocate(path: ValuePath, prefix: ValuePath) -> list[ValuePath]:
    # Helm hands a subchart its parent's `<alias>` subtree plus the parent's `global`.
    if path[:1] == ("global",):
        return [path]
    if not path:  # the subchart's whole .Values: its subtree and the globals
        return [prefix, ("global",)]
    if path[0] == ANY:  # any key of the subchart's .Values, `global` being one of them
        return [prefix + path, ("global", *path[1:])]
    return [prefix + path]


# --- Template actions ------------------------------------------------------------------


def _action_end(source: str, index: int) -> int:
    """Where the action starting at ``index`` ends (its ``}}``), skipping quoted text."""
    while index < len(source):
        char = source[index]
        if char in "\"'`":
            index = _quoted_end(source, index)
        elif source.startswith("}}", index):
            return index
        else:
            index += 1
    return len(source)


def _quoted_end(source: str, index: int) -> int:
    quote, index = source[index], index + 1
    while index < len(source) and source[index] != quote:
        # Raw (backquoted) strings have no escapes.
        index += 2 if source[index] == "\\" and quote != "`" else 1
    return index + 1


_TRIM_LEFT = re.compile(r"-\s+")


def template_actions(source: str) -> Iterator[str]:
    """The text inside each ``{{ }}`` of a Go template, trim markers and comments gone."""
    position = 0
    while (start := source.find("{{", position)) != -1:
        inner_start = start + 2
        trim = _TRIM_LEFT.match(source, inner_start)
        if source.startswith("/*", trim.end() if trim else inner_start):
            # A comment may hold quotes that are not strings: skip to its `*/` first.
            close = source.find("*/", inner_start)
            end = source.find("}}", close) if close != -1 else -1
            position = len(source) if end == -1 else end + 2
            continue
        end = _action_end(source, inner_start)
        position = end + 2
        inner = source[trim.end() if trim else inner_start : end]
        if re.search(r"\s-$", inner):
            inner = inner[:-1]
        yield inner.strip()


class _Token(NamedTuple):
    kind: str
    text: str
    # A field chain written right after `)`: `(index .Values "a").b`.
    attached: bool = False


_TOKEN = re.compile(
    r"""
      (?P<space>\s+)
    | (?P<string>"(?:\\.|[^"\\])*"|`[^`]*`)
    | (?P<char>'(?:\\.|[^'\\])+')
    | (?P<declare>:=)
    | (?P<assign>=)
    | (?P<punct>[|(),])
    | (?P<variable>\$[A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)
    | (?P<field>(?:\.[A-Za-z_][A-Za-z0-9_]*)+|\.)
    | (?P<number>[-+]?[0-9.][0-9a-fA-FxXoObB_.]*(?:[eEpP][-+]?[0-9_]+)?i?)
    | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
    """,
    re.VERBOSE,
)


class _ParseError(Exception):
    pass


def _tokens(action: str) -> list[_Token]:
    tokens: list[_Token] = []
    position, previous_end = 0, -1
    while position < len(action):
        match = _TOKEN.match(action, position)
        if match is None or match.lastgroup is None:
            raise _ParseError(f"cannot read {action[position:]!r}")
        kind, text = match.lastgroup, match.group()
        if kind != "space":
            kind = text if kind == "punct" else kind
            attached = kind == "field" and previous_end == position and tokens[-1].kind == ")"
            tokens.append(_Token(kind, text, attached))
            previous_end = match.end()
        position = match.end()
    return tokens


# --- Parsing a pipeline ----------------------------------------------------------------


@dataclass(frozen=True)
class _Field:
    base: str  # ".", "$" or "$name"
    fields: tuple[str, ...]


@dataclass(frozen=True)
class _Ident:
    name: str


@dataclass(frozen=True)
class _Literal:
    text: str | None  # the string's value, None for numbers and characters


@dataclass(frozen=True)
class _Paren:
    pipeline: _Pipeline
    fields: tuple[str, ...]


_Node = _Field | _Ident | _Literal | _Paren


@dataclass(frozen=True)
class _Pipeline:
    variables: tuple[str, ...] = ()
    assigns: bool = False  # `$x = ...` rather than `$x := ...`
    commands: tuple[tuple[_Node, ...], ...] = ()


def _unquote(text: str) -> str:
    if text.startswith("`"):
        return text[1:-1]
    try:
        return str(json.loads(text))
    except ValueError:
        return text[1:-1]


class _Parser:
    def __init__(self, tokens: Sequence[_Token]) -> None:
        self.tokens = tokens
        self.position = 0

    def _peek(self, offset: int = 0) -> _Token | None:
        index = self.position + offset
        return self.tokens[index] if index < len(self.tokens) else None

    def take(self) -> _Token:
        token = self._peek()
        if token is None:
            raise _ParseError("unexpected end of action")
        self.position += 1
        return token

    def done(self) -> bool:
        return self.position >= len(self.tokens)

    def whole_pipeline(self) -> _Pipeline:
        """A pipeline that is all that is left of the action."""
        pipeline = self.pipeline()
        if not self.done():
            raise _ParseError(f"unexpected {self.tokens[self.position].text!r}")
        return pipeline

    def pipeline(self) -> _Pipeline:
        variables, assigns = self._declarations()
        commands = [self._command()]
        while (token := self._peek()) is not None and token.kind == "|":
            self.position += 1
            commands.append(self._command())
        return _Pipeline(variables, assigns, tuple(commands))

    def _declarations(self) -> tuple[tuple[str, ...], bool]:
        # `$a :=`, `$k, $v :=` or `$a =`; anything else is not a declaration.
        names: list[str] = []
        offset = 0
        while (token := self._peek(offset)) is not None and token.kind == "variable" and "." not in token.text:
            names.append(token.text)
            following = self._peek(offset + 1)
            if following is not None and following.kind in ("declare", "assign"):
                self.position += offset + 2
                return tuple(names), following.kind == "assign"
            if following is None or following.kind != ",":
                break
            offset += 2
        return (), False

    def _command(self) -> tuple[_Node, ...]:
        nodes: list[_Node] = []
        while (token := self._peek()) is not None and token.kind not in ("|", ")"):
            nodes.append(self._operand())
        return tuple(nodes)

    def _operand(self) -> _Node:
        token = self.take()
        if token.kind == "(":
            return self._paren()
        if token.kind == "variable":
            base, _, rest = token.text.partition(".")
            return _Field(base, _chain(rest))
        if token.kind == "field":
            return _Field(".", _chain(token.text))
        if token.kind in ("string", "char", "number"):
            return _Literal(_unquote(token.text) if token.kind == "string" else None)
        if token.kind == "ident":
            return _Ident(token.text)
        raise _ParseError(f"unexpected {token.text!r}")

    def _paren(self) -> _Paren:
        pipeline = self.pipeline()
        if self.take().kind != ")":
            raise _ParseError("unclosed parenthesis")
        following = self._peek()
        if following is not None and following.attached:
            self.position += 1
            return _Paren(pipeline, _chain(following.text))
        return _Paren(pipeline, ())


def _chain(text: str) -> tuple[str, ...]:
    return tuple(part for part in text.split(".") if part)


# --- The scope tracker -----------------------------------------------------------------

_Paths = frozenset[ValuePath]
_NOTHING: _Paths = frozenset()

# Functions that only test or measure their arguments: the value is looked at, not used
# whole. A subtree they see stays a candidate for helm to judge.
# fmt: off
_TESTS = frozenset({
    "not", "eq", "ne", "lt", "le", "gt", "ge", "empty", "len", "kindIs", "kindOf", "typeIs", "typeIsLike", "typeOf",
    "contains", "hasPrefix", "hasSuffix", "has", "regexMatch", "semverCompare", "isAbs",
})
# fmt: on
# Functions that hand (one of) their arguments on: what happens to it is up to the caller.
_PASS_ON = frozenset({"default", "and", "or", "coalesce", "ternary", "required", "first", "last", "deepCopy"})
# Functions that hand a value on to another template, or into a map that is.
_TO_TEMPLATES = frozenset({"include", "tpl", "dict", "list", "set", "merge", "mergeOverwrite", "append"})
_OPENERS = frozenset({"if", "with", "range", "define", "block"})


@dataclass
class _Frame:
    kind: str
    outer_dot: _Paths  # the dot an `else` of a `with`/`range` gets back
    dot: _Paths
    variables: dict[str, _Paths] = field(default_factory=dict)

    @property
    def isolated(self) -> bool:
        # A template body sees no variables of the file it is defined in.
        return self.kind in ("root", "define", "block")


def _top_frame() -> _Frame:
    # At a file's top the dot is the root context: not a values subtree itself; its
    # `.Values` chains resolve on their own.
    return _Frame("root", _NOTHING, _NOTHING, {"$": _NOTHING})


class _Scanner:
    """Follows template files' actions, recording the value paths they reference.

    The dot and each variable stand for the value paths they may hold (empty: not a
    values subtree, e.g. the root context, whose ``.Values`` chains resolve anyway).
    """

    def __init__(self) -> None:
        self.read: set[ValuePath] = set()
        self.wholesale: set[ValuePath] = set()
        self.frames = [_top_frame()]

    def references(self) -> ChartReferences:
        return ChartReferences(frozenset(self.read), frozenset(self.wholesale))

    def scan(self, source: str) -> None:
        """Reads one template file; each file starts at the top scope."""
        self.frames = [_top_frame()]
        for action in template_actions(source):
            try:
                self._action(_tokens(action))
            except _ParseError:
                self._unparsed(action)

    # Recording

    def _use_whole(self, paths: Iterable[ValuePath]) -> None:
        for path in paths:
            self.read.add(path)
            self.wholesale.add(path)

    def _hand_on(self, paths: _Paths) -> None:
        # A subtree handed to another template is read there under another name (`.`,
        # `.image`): all of it counts. The whole .Values handed on (`dict "context" $`,
        # `dict "Values" .Values`) is read there through `.Values` chains again, which
        # the scanner resolves wherever they are, so it need not count whole.
        self._use_whole(paths - {()})

    def _unparsed(self, action: str) -> None:
        # Syntax the parser does not know: count every .Values chain in it as read
        # whole (lenient), and keep the block structure so `end`s still pair up.
        for chain in re.findall(r"Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)", action):
            self._use_whole([_chain(chain)])
        keyword = action.split(None, 1)[0] if action.split() else ""
        if keyword in _OPENERS:
            self._push(keyword, self._dot())
        elif keyword == "end":
            self._pop()

    # Scopes

    def _dot(self) -> _Paths:
        return self.frames[-1].dot

    def _push(self, kind: str, dot: _Paths) -> _Frame:
        frame = _Frame(kind, self._dot(), dot)
        if frame.isolated:
            frame.variables["$"] = dot
        self.frames.append(frame)
        return frame

    def _pop(self) -> None:
        if len(self.frames) > 1:  # an unbalanced `end` (a parse slip) is ignored
            self.frames.pop()

    def _variable(self, name: str) -> _Paths:
        for frame in reversed(self.frames):
            if name in frame.variables:
                return frame.variables[name]
            if frame.isolated:
                break
        return _NOTHING

    def _assign(self, name: str, paths: _Paths) -> None:
        for frame in reversed(self.frames):
            if name in frame.variables:
                # The assignment may sit in a branch: the variable holds either value.
                frame.variables[name] = frame.variables[name] | paths
                return
            if frame.isolated:
                break
        self.frames[-1].variables[name] = paths

    def _bind(self, pipeline: _Pipeline, paths: _Paths, frame: _Frame | None = None) -> None:
        if pipeline.assigns:
            for name in pipeline.variables:
                self._assign(name, paths)
            return
        for name in pipeline.variables:
            (frame or self.frames[-1]).variables[name] = paths

    # Actions

    def _action(self, tokens: list[_Token]) -> None:
        # Each action is parsed in full before it changes a scope, so one that does not
        # parse falls back (see _unparsed) without leaving a scope half opened.
        if not tokens:
            return
        head = tokens[0].text if tokens[0].kind == "ident" else ""
        parser = _Parser(tokens[1:])
        if head == "end":
            self._pop()
        elif head in ("if", "with", "range"):
            self._open(head, parser.whole_pipeline())
        elif head == "else":
            self._else(parser)
        elif head in ("define", "block", "template"):
            parser.take()  # the template's name
            self._named(head, parser.whole_pipeline() if not parser.done() else None)
        elif head not in ("break", "continue"):
            self._output(_Parser(tokens).whole_pipeline())

    def _output(self, pipeline: _Pipeline) -> None:
        paths = self._pipeline(pipeline)
        if pipeline.variables:
            self._bind(pipeline, paths)
        else:
            # Printed: a map prints in full, so every key under it shows.
            self._use_whole(paths)

    def _open(self, keyword: str, pipeline: _Pipeline) -> None:
        paths = self._pipeline(pipeline)
        if keyword == "if":
            self._bind(pipeline, paths, self._push("if", self._dot()))
        elif keyword == "with":
            self._bind(pipeline, paths, self._push("with", paths))
        else:
            self._range(pipeline, paths)

    def _range(self, pipeline: _Pipeline, paths: _Paths) -> None:
        # Iterating shows every key and element: the subtree is read whole.
        self._use_whole(paths)
        element = frozenset((*path, ANY) for path in paths)
        frame = self._push("range", element)
        if len(pipeline.variables) == 2:
            frame.variables[pipeline.variables[0]] = _NOTHING  # the key or index
            frame.variables[pipeline.variables[1]] = element
        elif pipeline.variables:
            frame.variables[pipeline.variables[0]] = element

    def _else(self, parser: _Parser) -> None:
        keyword = "" if parser.done() else parser.take().text  # `else if` / `else with`
        pipeline = parser.whole_pipeline() if keyword else None
        frame = self.frames[-1]
        # The next branch sees the dot outside a `with`/`range`, and none of the
        # variables the previous branch declared.
        frame.dot = frame.outer_dot
        frame.variables = {"$": frame.variables["$"]} if "$" in frame.variables else {}
        if pipeline is None:
            return
        paths = self._pipeline(pipeline)
        if keyword == "with":
            frame.dot = paths
        self._bind(pipeline, paths, frame)

    def _named(self, keyword: str, pipeline: _Pipeline | None) -> None:
        if keyword == "define":
            self._push("define", _NOTHING)
            return
        # `template`/`block` hand the value to a template body we do not follow.
        paths = self._pipeline(pipeline) if pipeline is not None else _NOTHING
        self._hand_on(paths)
        if keyword == "block":
            self._push("block", paths)

    # Expressions

    def _pipeline(self, pipeline: _Pipeline) -> _Paths:
        result: _Paths | None = None
        for command in pipeline.commands:
            result = self._command(command, result)
        return result or _NOTHING

    def _command(self, command: tuple[_Node, ...], piped: _Paths | None) -> _Paths:
        if not command:
            return _NOTHING
        head, arguments = command[0], command[1:]
        if not isinstance(head, _Ident):
            for argument in arguments:  # a method's arguments: not followed
                self._use_whole(self._node(argument))
            return self._node(head)
        values = [self._node(argument) for argument in arguments]
        literals = [argument.text if isinstance(argument, _Literal) else None for argument in arguments]
        if piped is not None:  # a pipe passes its value as the last argument
            values.append(piped)
            literals.append(None)
        return self._call(head.name, values, literals)

    def _node(self, node: _Node) -> _Paths:
        if isinstance(node, _Field):
            base = self._dot() if node.base == "." else self._variable(node.base)
            return self._fields(base, node.fields)
        if isinstance(node, _Paren):
            return self._fields(self._pipeline(node.pipeline), node.fields)
        return _NOTHING

    def _fields(self, base: _Paths, fields: tuple[str, ...]) -> _Paths:
        if "Values" in fields:
            # Whatever holds it ($, $root, .context, ...), a `.Values` chain starts at
            # the values' top.
            path = fields[fields.index("Values") + 1 :]
            return self._keys(frozenset({()}), path[1:] if path[:1] == ("AsMap",) else path)
        return self._keys(base, fields)

    def _keys(self, base: _Paths, keys: Sequence[str]) -> _Paths:
        if not keys:
            return base
        paths = frozenset(path + tuple(keys) for path in base)
        self.read.update(paths)
        return paths

    def _call(self, name: str, values: list[_Paths], literals: list[str | None]) -> _Paths:
        if name in ("index", "get", "hasKey") and values:
            return self._lookup(name, values, literals)
        if name == "pluck" and values:
            return self._pluck(values, literals)
        if name == "dig" and len(values) >= 3:
            return self._dig(values, literals)
        if name in _TESTS:
            return _NOTHING
        if name in _PASS_ON:
            return frozenset().union(*values)
        for paths in values:
            # toYaml, printf, quote, a subtree handed to a template, ...: used whole.
            if name in _TO_TEMPLATES:
                self._hand_on(paths)
            else:
                self._use_whole(paths)
        return _NOTHING

    def _lookup(self, name: str, values: list[_Paths], literals: list[str | None]) -> _Paths:
        # A key known only at render time (`index $.Values $plane "endpoints"`) is a
        # wildcard: whatever key it turns out to be counts as read.
        found = self._keys(values[0], [ANY if key is None else key for key in literals[1:]])
        return _NOTHING if name == "hasKey" else found

    def _pluck(self, values: list[_Paths], literals: list[str | None]) -> _Paths:
        key = ANY if literals[0] is None else literals[0]
        return frozenset().union(_NOTHING, *(self._keys(paths, [key]) for paths in values[1:]))

    def _dig(self, values: list[_Paths], literals: list[str | None]) -> _Paths:
        keys, default, base = literals[:-2], values[-2], values[-1]
        return self._keys(base, [ANY if key is None else key for key in keys]) | default


def template_references(source: str) -> ChartReferences:
    """The value paths one template file references, relative to its chart's values."""
    scanner = _Scanner()
    scanner.scan(source)
    return scanner.references()


# --- Charts and subcharts --------------------------------------------------------------


@dataclass(frozen=True)
class _Dependency:
    name: str
    alias: str | None
    conditions: tuple[str, ...]
    tags: tuple[str, ...]


@dataclass(frozen=True)
class _Chart:
    name: str
    library: bool
    dependencies: tuple[_Dependency, ...]
    templates: Mapping[str, str]
    subcharts: tuple[_Chart, ...]


def _wanted(path: str) -> bool:
    parts = path.split("/")
    return parts[-1] in ("Chart.yaml", "requirements.yaml") or "templates" in parts or path.endswith(".tgz")


def _archive_files(archive: bytes) -> dict[str, bytes]:
    """The chart files in a package, by path inside the chart's directory."""
    files: dict[str, bytes] = {}
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as package:
        for member in package:
            _, _, path = member.name.partition("/")
            if member.isfile() and _wanted(path) and (content := package.extractfile(member)) is not None:
                files[path] = content.read()
    return files


def _dependencies(files: Mapping[str, bytes], metadata: Mapping[str, Any]) -> tuple[_Dependency, ...]:
    entries = metadata.get("dependencies") or []
    if not entries and "requirements.yaml" in files:  # apiVersion v1 charts
        entries = (yaml.safe_load(files["requirements.yaml"]) or {}).get("dependencies") or []
    return tuple(
        _Dependency(
            name=str(entry["name"]),
            alias=entry.get("alias"),
            conditions=tuple(c.strip() for c in str(entry.get("condition") or "").split(",") if c.strip()),
            tags=tuple(str(tag) for tag in entry.get("tags") or ()),
        )
        for entry in entries
    )


def _chart(files: Mapping[str, bytes]) -> _Chart:
    metadata = yaml.safe_load(files["Chart.yaml"]) or {}
    directories: dict[str, dict[str, bytes]] = {}
    packages: list[dict[str, bytes]] = []
    for path, content in files.items():
        parts = path.split("/")
        if parts[0] != "charts" or len(parts) < 2:
            continue
        if len(parts) == 2 and path.endswith(".tgz"):
            packages.append(_archive_files(content))
        elif len(parts) > 2:
            directories.setdefault(parts[1], {})["/".join(parts[2:])] = content
    subcharts = [_chart(sub) for sub in (*directories.values(), *packages) if "Chart.yaml" in sub]
    return _Chart(
        name=str(metadata.get("name", "")),
        library=metadata.get("type") == "library",
        dependencies=_dependencies(files, metadata),
        templates={
            path: content.decode("utf-8", errors="replace")
            for path, content in files.items()
            if path.startswith("templates/")
        },
        subcharts=tuple(subcharts),
    )


def _subchart_prefixes(parent: _Chart, subchart: _Chart, prefix: ValuePath) -> list[ValuePath]:
    if subchart.library:
        # A library's helpers run with the including chart's context: its values.
        return [prefix]
    keys = [dep.alias or dep.name for dep in parent.dependencies if dep.name == subchart.name]
    return [(*prefix, key) for key in keys or [subchart.name]]


def _chart_references(chart: _Chart, prefix: ValuePath) -> ChartReferences:
    scanner = _Scanner()
    for source in chart.templates.values():
        scanner.scan(source)
    # Helm itself reads each dependency's condition and tags to enable the subchart.
    conditions = {path for dep in chart.dependencies for c in dep.conditions for path in _relocate(_chain(c), prefix)}
    tags = {("tags", tag) for dep in chart.dependencies for tag in dep.tags}
    references = scanner.references().relocated(prefix) | ChartReferences(frozenset(conditions | tags))
    for subchart in chart.subcharts:
        for sub_prefix in _subchart_prefixes(chart, subchart, prefix):
            references |= _chart_references(subchart, sub_prefix)
    return references


def referenced_paths(chart_archive: Path) -> ChartReferences:
    """Every value path the templates of a packaged chart and its subcharts reference,
    as paths of the top chart's values (a subchart's under its name or alias)."""
    path = Path(chart_archive).resolve()
    status = path.stat()
    return _package_references(path, status.st_mtime_ns, status.st_size)


@functools.lru_cache(maxsize=32)
def _package_references(path: Path, mtime_ns: int, size: int) -> ChartReferences:
    # Modification time and size are only part of the cache key: a package that changed
    # is read again. Reading kube-prometheus-stack takes about half a second.
    del mtime_ns, size
    return _chart_references(_chart(_archive_files(path.read_bytes())), ())


# ---------------------------------------------------------------------------------------
# Confirmation with helm
# ---------------------------------------------------------------------------------------


class _Removed:
    """The leaf taken out of the values."""


_REMOVED = _Removed()
_SUFFIX = "-unread-check"


def _changes(value: Any) -> list[Any]:
    """Values to put in a leaf's place: same type and different, the type's zero value
    (a chart may only test a value's truth), and the leaf removed."""
    if isinstance(value, bool):
        changes: list[Any] = [not value]
    elif isinstance(value, int | float):
        changes = [value + 1] + ([0] if value else [])
    elif isinstance(value, str):
        changes = [value + _SUFFIX] + ([""] if value else [])
    elif isinstance(value, list):
        extra = copy.deepcopy(value[-1]) if value else _SUFFIX
        changes = [[*value, extra]] + ([[]] if value else []) + ([value[:-1]] if len(value) > 1 else [])
    elif isinstance(value, Mapping):  # an empty map
        changes = [{_SUFFIX: _SUFFIX}]
    else:  # null, dates: a string is different
        changes = [_SUFFIX]
    return [*changes, _REMOVED]


def _key(mapping: Mapping[str, Any], segment: str) -> Any:
    # Paths hold keys as text; YAML may have given a number or a bool.
    return next(key for key in mapping if str(key) == segment)


def _with_leaf(values: Mapping[str, Any], path: ValuePath, replacement: Any) -> dict[str, Any]:
    """A copy of ``values`` with the leaf at ``path`` replaced (or removed); the maps on
    the way are copied, the rest is shared."""
    copied = dict(values)
    key = _key(copied, path[0])
    if len(path) > 1:
        copied[key] = _with_leaf(copied[key], path[1:], replacement)
    elif replacement is _REMOVED:
        del copied[key]
    else:
        copied[key] = replacement
    return copied


@dataclass(frozen=True)
class _Baseline:
    """The rendering of the unchanged values, and the lines that differ between two
    renderings of them (random passwords, certificates, their checksums)."""

    lines: tuple[str, ...]
    volatile: frozenset[int]

    @classmethod
    def of(cls, render: Render, values: Mapping[str, Any]) -> _Baseline:
        first, second = render(values).splitlines(), render(values).splitlines()
        if len(first) != len(second):
            raise ValueError("the chart renders the same values to different numbers of lines; cannot compare")
        volatile = frozenset(i for i, (a, b) in enumerate(zip(first, second, strict=True)) if a != b)
        return cls(tuple(first), volatile)

    def differs(self, output: str) -> bool:
        lines = output.splitlines()
        if len(lines) != len(self.lines):
            return True
        return any(a != b and i not in self.volatile for i, (a, b) in enumerate(zip(lines, self.lines, strict=True)))


def _is_read(leaf: ValuePath, values: Mapping[str, Any], render: Render, baseline: _Baseline) -> bool:
    current: Any = values
    for segment in leaf:
        current = current[_key(current, segment)]
    for replacement in _changes(current):
        try:
            output = render(_with_leaf(values, leaf, replacement))
        except Exception:  # any render failure: the chart looked at the value
            return True
        if baseline.differs(output):
            return True
    return False


def unread_values(chart_archive: Path, values: Mapping[str, Any], render: Render) -> list[str]:
    """Dotted paths of the leaves of ``values`` the chart does not read, in order.

    ``render(values)`` renders the chart (``helm template``) with the given values and
    raises if helm fails; :func:`helm_renderer` makes one.
    """
    references = referenced_paths(chart_archive)
    candidates = [leaf for leaf in value_leaves(values) if not references.covers(leaf)]
    if not candidates:
        return []
    baseline = _Baseline.of(render, values)
    return [dotted(leaf) for leaf in candidates if not _is_read(leaf, values, render, baseline)]
