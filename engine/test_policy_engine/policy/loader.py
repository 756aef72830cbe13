"""Reading policy.yaml: YAML nodes with their marks -> validated Policy, or located errors."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from test_policy_engine.policy import libyaml
from test_policy_engine.policy.errors import Problem, UserError, show
from test_policy_engine.policy.model import Policy, PolicyConstraintError
from test_policy_engine.policy.reading import POLICY_MAX_BYTES, NotRegular, TooLarge, read_regular

DEFAULT_POLICY = "policy.yaml"

PathKey = tuple[str | int, ...]


@dataclass
class _Marks:
    """Where each dotted path of the document is: its value's and its key's (line, col)."""

    values: dict[PathKey, tuple[int, int]] = field(default_factory=dict)
    keys: dict[PathKey, tuple[int, int]] = field(default_factory=dict)
    raw: dict[PathKey, Any] = field(default_factory=dict)

    def key_or_value(self, path: PathKey) -> tuple[int | None, int | None]:
        """Where the key of `path` is written, else where its value starts."""
        return self.keys.get(path) or self.values.get(path) or (None, None)

    def value(self, path: PathKey) -> tuple[int | None, int | None]:
        return self.values.get(path) or (None, None)


def load_policy(path: str | Path, shown_as: str | None = None) -> Policy:
    """Load and validate a policy file. Raises UserError with one located line per problem."""
    name = shown_as if shown_as is not None else str(path)
    try:
        data = read_regular(path, POLICY_MAX_BYTES)
    except FileNotFoundError:
        raise UserError(
            [Problem(name, None, None, "", "policy file not found",
                     "create one with 'test-policy init' or pass --policy PATH")]
        ) from None
    except (NotRegular, TooLarge) as exc:
        raise UserError([Problem(name, None, None, "", f"the policy {exc.strerror}",
                                 "pass the policy file with --policy PATH")]) from None
    except OSError as exc:
        raise UserError([Problem(name, None, None, "", f"cannot read ({exc.strerror})")]) from None
    return parse_policy(data, name)


def parse_policy(data: bytes, name: str) -> Policy:
    """Validate policy text; `name` is how messages refer to the file."""
    text = _decode(data, name)
    marks = _Marks()
    problems: list[Problem] = []  # duplicate keys and unreadable scalars, found while reading
    try:
        value = _compose(text, name, marks, problems)
    except RecursionError:
        raise UserError([_too_deep(text, name)]) from None
    try:
        policy = Policy.model_validate(value)
    except ValidationError as exc:
        problems.extend(_translate(exc, name, marks))
    else:
        if not problems:
            return policy
    unique = dict.fromkeys(problems)
    raise UserError(sorted(unique, key=lambda p: (p.line or 0, p.col or 0, p.where)))


def _decode(data: bytes, name: str) -> str:
    if b"\x00" in data:
        raise UserError([Problem(name, 1, 1, "", "not a text file (it contains NUL bytes)",
                                 "a policy is a YAML text file")])
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]  # a byte order mark is not part of the text, nor a column
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line, col = _located(data, exc.start)
        raise UserError([Problem(name, line, col, "",
                                 f"not UTF-8 text (bad byte 0x{data[exc.start]:02x})",
                                 "save the file as UTF-8")]) from None
    return text


def _located(data: bytes, offset: int) -> tuple[int, int]:
    """LINE:COL (1-based, COL in characters) of the byte at `offset` of UTF-8 `data`."""
    start = data.rfind(b"\n", 0, offset) + 1
    before = data[start:offset]
    return data.count(b"\n", 0, offset) + 1, len(before.decode("utf-8", "replace")) + 1


#: Nesting a policy never needs (its deepest key is 4 levels down); reported where a
#: file nests so deep that reading it exhausted Python's stack.
MAX_DEPTH = 64


def _too_deep(text: str, name: str) -> Problem:
    """Where `text` first nests deeper than MAX_DEPTH. PyYAML's event parser keeps its
    own stack (no recursion), so it can walk what the composer could not."""
    depth = 0
    line = col = None
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                depth += 1
                if depth > MAX_DEPTH:
                    mark = event.start_mark
                    if mark is not None:
                        line, col = mark.line + 1, mark.column + 1
                    break
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                depth -= 1
    except yaml.YAMLError:
        pass
    return Problem(name, line, col, "", f"nested deeper than {MAX_DEPTH} levels",
                   "a policy needs at most a few levels of nesting")


def _compose(text: str, name: str, marks: _Marks, problems: list[Problem]) -> Any:
    node = None
    fast = False
    fast_loader = libyaml.fast_loader()  # a text it refuses is read again by the
    # pure-Python parser, whose messages are the ones reported (the two word errors apart)
    if fast_loader is not None:
        try:
            _refuse_aliases(text, name, fast_loader)
            node = yaml.compose(text, Loader=fast_loader)
            fast = True
        except yaml.YAMLError:
            pass
    try:
        if not fast:
            _refuse_aliases(text, name)
            node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (None, None)
        what = exc.problem or "invalid YAML"
        if exc.context:
            what = f"{exc.context}, {what}"
        raise UserError([Problem(name, line, col, "", f"YAML syntax error: {what}")]) from None
    except yaml.reader.ReaderError as exc:
        before = text[: exc.position]
        line, col = before.count("\n") + 1, len(before) - (before.rfind("\n") + 1) + 1
        raise UserError([Problem(name, line, col, "",
                                 f"control character {exc.character!r} is not allowed in YAML",
                                 "a policy is a plain text file")]) from None
    except yaml.YAMLError as exc:  # pragma: no cover - every YAMLError pyyaml raises is above
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise UserError([Problem(name, None, None, "", f"YAML error: {first}")]) from None
    if node is None:
        raise UserError([Problem(name, 1, 1, "", "the policy is empty",
                                 "start from 'test-policy init' or the README's example")])
    if not isinstance(node, yaml.MappingNode):
        line, col = node.start_mark.line + 1, node.start_mark.column + 1
        raise UserError([Problem(name, line, col, "",
                                 "the policy must be a mapping of settings "
                                 f"(got {_kind(node)})")])
    constructor = yaml.SafeLoader("")
    value = _build(node, (), constructor, marks, name, problems)
    return value


def _refuse_aliases(text: str, name: str, loader: Any = yaml.SafeLoader) -> None:
    """Aliases can repeat a subtree exponentially or make it contain itself: refuse them."""
    for event in yaml.parse(text, Loader=loader):
        if isinstance(event, yaml.AliasEvent):
            mark = event.start_mark
            line, col = (mark.line + 1, mark.column + 1) if mark else (None, None)
            raise UserError([Problem(name, line, col, "",
                                     f"YAML aliases are not supported (got *{event.anchor})",
                                     "write the value out in full")])


def _kind(node: yaml.Node) -> str:
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    return f"the scalar {node.value!r}"


def _build(node: yaml.Node, path: PathKey, constructor: yaml.SafeLoader, marks: _Marks,
           name: str, problems: list[Problem]) -> Any:
    marks.values[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = _build(key_node, path + ("<key>",), constructor, marks, name, problems)
            where = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            if not isinstance(key, (str, int)) or isinstance(key, bool):
                problems.append(Problem(name, *where, _dotted(path),
                                        f"keys must be names (got {show(key)})"))
                continue
            key = str(key)
            if key in result:
                first = marks.keys[path + (key,)]
                problems.append(Problem(name, *where, _dotted(path + (key,)),
                                        f"duplicate key (first set at line {first[0]})",
                                        "YAML keeps only one of them; remove the other"))
                continue
            marks.keys[path + (key,)] = where
            result[key] = _build(value_node, path + (key,), constructor, marks, name, problems)
        marks.raw[path] = result
        return result
    if isinstance(node, yaml.SequenceNode):
        items = tuple(
            _build(item, path + (index,), constructor, marks, name, problems)
            for index, item in enumerate(node.value)
        )
        marks.raw[path] = items
        return items
    try:
        scalar = constructor.construct_object(node, deep=True)
    except yaml.YAMLError as exc:
        problems.append(Problem(name, *marks.values[path], _dotted(path),
                                f"cannot read this value ({getattr(exc, 'problem', exc)})"))
        scalar = None
    marks.raw[path] = scalar
    return scalar


def _dotted(path: PathKey) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + part
    return out


def _translate(exc: ValidationError, name: str, marks: _Marks) -> list[Problem]:
    problems: list[Problem] = []
    errors = exc.errors(include_url=False)
    deeper = {tuple(e["loc"])[:-1] for e in errors if e["loc"]}
    for error in errors:
        loc = tuple(error["loc"])
        if error["type"] == "too_short" and loc in deeper:
            continue  # an item failed: 'must not be empty' would only repeat it
        ctx = error.get("ctx") or {}
        original = ctx.get("error")
        if isinstance(original, PolicyConstraintError):
            for path, message, hint in original.problems:
                path = _real_path(path, marks)
                line, col = marks.key_or_value(path)
                problems.append(Problem(name, line, col, _dotted(path), message, hint))
            continue
        problems.append(_one(error, loc, name, marks))
    return problems


def _real_path(loc: PathKey, marks: _Marks) -> PathKey:
    """The longest prefix of a pydantic loc that exists in the document.

    Union branches add parts such as 'int' or "literal['auto']" that are not keys.
    """
    path: PathKey = ()
    for part in loc:
        candidate = path + (part,)
        if candidate in marks.values:
            path = candidate
        else:
            break
    return path


def _one(error: Any, loc: PathKey, name: str, marks: _Marks) -> Problem:
    kind = error["type"]
    if kind == "extra_forbidden":
        path = _real_path(loc, marks)
        key = str(loc[-1])
        known = _known_fields(loc[:-1])
        hint = ""
        close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
        if close:
            hint = f"did you mean '{close[0]}'?"
        elif known:
            hint = "known keys: " + ", ".join(known)
        line, col = marks.key_or_value(path)
        return Problem(name, line, col, _dotted(path), f"unknown key (got {key!r})", hint)
    if kind == "missing":
        parent = _real_path(loc[:-1], marks)
        line, col = marks.key_or_value(parent)
        return Problem(name, line, col, _dotted(loc), "required setting is missing",
                       _missing_hint(loc))
    path = _real_path(loc, marks)
    line, col = marks.value(path)
    got = marks.raw.get(path, error.get("input"))
    message = _message(error)
    return Problem(name, line, col, _dotted(path), f"{message} (got {show(got)})",
                   _hint_for(path, kind))


_TYPE_WORDS = {
    "float_type": "must be a number",
    "int_type": "must be a whole number",
    "bool_type": "must be true or false",
    "string_type": "must be a string",
    "dict_type": "must be a mapping of keys to values",
    "tuple_type": "must be a list",
    "model_type": "must be a mapping of settings",
    "model_attributes_type": "must be a mapping of settings",
    "finite_number": "must be a finite number",
}


def _message(error: Any) -> str:
    kind = error["type"]
    if kind in _TYPE_WORDS:
        return str(_TYPE_WORDS[kind])
    if kind in ("literal_error", "enum"):
        expected = error.get("ctx", {}).get("expected", "")
        return f"must be one of {expected}"
    if kind == "value_error":
        return str(error["ctx"]["error"])
    if kind == "too_short":
        return "must not be empty"
    bounds = {"greater_than": "must be greater than {gt}",
              "greater_than_equal": "must be at least {ge}",
              "less_than": "must be less than {lt}",
              "less_than_equal": "must be at most {le}"}
    if kind in bounds:
        return bounds[kind].format(**error.get("ctx", {}))
    msg = str(error["msg"])
    return msg[0].lower() + msg[1:]


def _hint_for(path: PathKey, kind: str) -> str:
    if path and path[-1] in ("limit", "audit_limit"):
        return "a limit is a number of seconds greater than 0, e.g. 1 or 0.5"
    if path and path[-1] == "workers":
        return "use 'auto' or a number of workers such as 4"
    if path == ("version",):
        return "this engine reads policy version 1"
    if path and path[-1] == "warn_ratio":
        return "a fraction of the limit, e.g. 0.8 for 80 %"
    return ""


def _missing_hint(loc: PathKey) -> str:
    if loc == ("version",):
        return "add 'version: 1' at the top"
    return ""


def _known_fields(loc: PathKey) -> list[str]:
    """Field names of the model at `loc` (for did-you-mean)."""
    model: type[BaseModel] | None = Policy
    for part in loc:
        if model is None:
            return []
        info = model.model_fields.get(str(part)) if isinstance(part, str) else None
        if info is None:
            # dict values and list items: step into the annotation's model
            continue
        model = _model_in(info.annotation)
    return sorted(model.model_fields) if model is not None else []


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _model_in(arg)
        if found is not None:
            return found
    return None
