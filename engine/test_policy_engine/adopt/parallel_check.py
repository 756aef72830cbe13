"""Which tests fail only in parallel, and the policy edit that keeps them apart: pure.

`test-policy init --check-parallel` runs the suite serially and in parallel
(`adopt.parallel_run`); here the two sets of outcomes are compared and the policy text is
edited, as text, so the user's comments, order and values stay byte for byte:

- `parallel_only`: tests that passed serially and failed, errored or did not run in parallel;
- `add_group`: their files added to one `parallel.groups` group (`GROUP`), so they run on one
  worker, one after the other, with a comment saying why;
- `switch_off`: `parallel.enabled: false`, with a comment saying why, for what a group does
  not cure.

Each edit is parsed back and must change only what it means to; otherwise it returns None
and the caller shows the lines to add by hand.
"""

from __future__ import annotations

import json
import re
import textwrap
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from test_policy_engine.policy.globs import glob_problem

#: The group `--check-parallel` puts the files in (one group: a shared resource such as a
#: fixed port is shared by all of them, so they must all run on the same worker).
GROUP = "not_parallel_safe"
#: How many failing tests the policy comment names.
NAMED_IN_COMMENT = 3

_TOP_KEY = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*):[ \t]*(#.*)?$")
_CHILD = re.compile(r"^( +)([A-Za-z_][A-Za-z0-9_]*):(.*)$")


@dataclass(frozen=True)
class Outcome:
    """One test as `adopt.outcomes` recorded it."""

    nodeid: str
    file: str
    outcome: str  # passed, failed, error, skipped
    message: str = ""


@dataclass(frozen=True)
class Failure:
    """A test that passed serially and did not pass in parallel."""

    nodeid: str
    file: str
    outcome: str  # failed, error, or "not run" (its worker crashed or the run stopped)
    message: str

    def describe(self) -> str:
        return f"{self.nodeid}: {self.outcome}" + (f" ({self.message})" if self.message else "")


def read_outcomes(text: str) -> dict[str, Outcome]:
    """The JSON lines `adopt.outcomes` writes, by node id (unreadable lines are skipped)."""
    found: dict[str, Outcome] = {}
    for line in text.splitlines():
        try:
            data: Any = json.loads(line)
        except ValueError:
            continue
        if isinstance(data, dict) and all(isinstance(data.get(k), str)
                                          for k in ("nodeid", "file", "outcome")):
            found[data["nodeid"]] = Outcome(data["nodeid"], data["file"], data["outcome"],
                                            str(data.get("message", "")))
    return found


def parallel_only(serial: Mapping[str, Outcome],
                  parallel: Mapping[str, Outcome]) -> list[Failure]:
    """Tests that passed in the serial run and failed, errored or were missing in the
    parallel one, sorted by node id."""
    out = []
    for nodeid, before in sorted(serial.items()):
        if before.outcome != "passed":
            continue
        after = parallel.get(nodeid)
        if after is None:
            out.append(Failure(nodeid, before.file, "not run", ""))
        elif after.outcome in ("failed", "error"):
            out.append(Failure(nodeid, before.file, after.outcome, after.message))
    return out


def files_of(failures: Iterable[Failure]) -> list[str]:
    """The test files of `failures` that a glob can name, sorted."""
    return sorted({f.file for f in failures if glob_problem(f.file) is None})


def _why(failures: Sequence[Failure], what: str) -> list[str]:
    """Comment lines (without `#`) saying what the check saw."""
    named = [f.describe() for f in failures[:NAMED_IN_COMMENT]]
    more = len(failures) - len(named)
    lines = [f"`test-policy init --check-parallel`: {len(failures)} test"
             f"{'s' * (len(failures) != 1)} passed in a serial run and failed in a",
             *textwrap.wrap(f"parallel one; {what}. For example:", 84)]
    lines += [f"  {text}" for text in named]
    if more:
        lines.append(f"  ... and {more} more")
    return lines


def _comment(lines: Iterable[str], indent: str) -> list[str]:
    return [f"{indent}# {line}".rstrip() + "\n" for line in lines]


def _load(text: str) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return None


def _block(lines: list[str], key: str) -> tuple[int, int] | None:
    """(index of the top-level `key:` line, one past its block) when `key` is a block mapping."""
    start = next((i for i, line in enumerate(lines)
                  if (m := _TOP_KEY.match(line.rstrip("\r\n"))) and m.group(1) == key), None)
    if start is None:
        return None
    end = start + 1
    while end < len(lines) and (not lines[end].strip() or lines[end].startswith((" ", "\t"))
                                or lines[end].startswith("#")):
        end += 1
    return start, end


def _last_content(lines: list[str], start: int, end: int) -> int:
    """The last line of a block that is neither blank nor a comment at column 0."""
    last = start
    for i in range(start + 1, end):
        if lines[i].strip() and not lines[i].startswith("#"):
            last = i
    return last


def _children(lines: list[str], start: int, end: int) -> dict[str, tuple[int, str]]:
    """The block's direct keys: name -> (line index, indent)."""
    found: dict[str, tuple[int, str]] = {}
    indent: str | None = None
    for i in range(start + 1, end):
        m = _CHILD.match(lines[i].rstrip("\r\n"))
        if m and not lines[i].lstrip().startswith("#"):
            if indent is None:
                indent = m.group(1)
            if m.group(1) == indent:
                found.setdefault(m.group(2), (i, indent))
    return found


def flow(items: Iterable[str]) -> str:
    return "[" + ", ".join(json.dumps(item) for item in items) + "]"


def _ensure_newline(lines: list[str], index: int) -> None:
    if index >= 0 and not lines[index].endswith("\n"):
        lines[index] += "\n"


def _groups(config: Any) -> dict[str, list[str]]:
    parallel = config.get("parallel") if isinstance(config, dict) else None
    groups = parallel.get("groups") if isinstance(parallel, dict) else None
    return {k: list(v) for k, v in groups.items()} if isinstance(groups, dict) else {}


def add_group(text: str, files: Sequence[str], failures: Sequence[Failure]) -> str | None:
    """`text` with `files` added to the `GROUP` group of `parallel.groups` (created with a
    comment saying why); None when the file's shape does not allow a text edit."""
    config = _load(text)
    if not isinstance(config, dict):
        return None
    before = _groups(config)
    wanted_files = sorted(set(before.get(GROUP, [])) | set(files))
    if wanted_files == sorted(before.get(GROUP, [])):
        return text
    why = _why(failures, "in one group they run on one worker, one after the other")
    lines = text.splitlines(keepends=True)
    block = _block(lines, "parallel")
    if block is None:
        if "parallel" in config:
            return None
        _ensure_newline(lines, len(lines) - 1)
        added = ["\n", "parallel:\n", "  groups:\n", *_comment(why, "    "),
                 f"    {GROUP}: {flow(wanted_files)}\n"]
        result = "".join(lines + added)
    else:
        start, end = block
        children = _children(lines, start, end)
        indent = next(iter(children.values()))[1] if children else "  "
        if "groups" not in children:
            last = _last_content(lines, start, end)
            _ensure_newline(lines, last)
            added = [f"{indent}groups:\n", *_comment(why, indent * 2),
                     f"{indent * 2}{GROUP}: {flow(wanted_files)}\n"]
            result = "".join(lines[:last + 1] + added + lines[last + 1:])
        else:
            at, _ = children["groups"]
            rest = lines[at].rstrip("\r\n").split(":", 1)[1].strip()
            if rest and not rest.startswith("#") and rest != "{}":
                return None  # a flow mapping: not edited as text
            group_end = at + 1
            while group_end < end and (not lines[group_end].strip()
                                       or lines[group_end].startswith("#")
                                       or len(lines[group_end]) - len(lines[group_end].lstrip())
                                       > len(indent)):
                group_end += 1
            inner = _children(lines, at, group_end)
            inner_indent = next(iter(inner.values()))[1] if inner else indent * 2
            if GROUP in inner:
                line_at, _ = inner[GROUP]
                m = re.match(r"^( *[A-Za-z_0-9]+:)\s*\[[^\]#]*\](\s*#.*)?(\r?\n)?$", lines[line_at])
                if m is None:
                    return None  # a block list or a list over several lines
                lines[line_at] = (f"{m.group(1)} {flow(wanted_files)}{m.group(2) or ''}"
                                  f"{m.group(3) or ''}")
                result = "".join(lines)
            else:
                head = lines[at] if rest != "{}" else lines[at].replace("{}", "", 1).rstrip() + "\n"
                last = _last_content(lines, at, group_end) if inner else at
                lines[at] = head
                _ensure_newline(lines, last)
                added = [*_comment(why, inner_indent),
                         f"{inner_indent}{GROUP}: {flow(wanted_files)}\n"]
                result = "".join(lines[:last + 1] + added + lines[last + 1:])
    after = _load(result)
    expected = dict(before, **{GROUP: wanted_files})
    if not isinstance(after, dict) or _groups(after) != expected or _without_parallel(
            after) != _without_parallel(config):
        return None
    return result


def _without_parallel(config: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    parallel = config.get("parallel")
    rest = {k: v for k, v in (parallel or {}).items() if k != "groups"} if isinstance(
        parallel, dict) else {}
    return {k: v for k, v in config.items() if k != "parallel"}, rest


def switch_off(text: str, failures: Sequence[Failure]) -> str | None:
    """`text` with `parallel.enabled: false` and a comment saying why; None when the file's
    shape does not allow a text edit."""
    config = _load(text)
    if not isinstance(config, dict):
        return None
    why = _why(failures, "a group of their files did not make them pass, so the suite runs "
               "serially (pytest -n 2 to try again)")
    lines = text.splitlines(keepends=True)
    block = _block(lines, "parallel")
    if block is None:
        if "parallel" in config:
            return None
        _ensure_newline(lines, len(lines) - 1)
        result = "".join(lines + ["\n", *_comment(why, ""), "parallel:\n", "  enabled: false\n"])
    else:
        start, end = block
        children = _children(lines, start, end)
        indent = next(iter(children.values()))[1] if children else "  "
        if "enabled" in children:
            at, _ = children["enabled"]
            newline = "\r\n" if lines[at].endswith("\r\n") else "\n"
            lines[at:at + 1] = [*_comment(why, indent), f"{indent}enabled: false{newline}"]
        else:
            lines[start + 1:start + 1] = [*_comment(why, indent), f"{indent}enabled: false\n"]
        result = "".join(lines)
    after = _load(result)
    if not isinstance(after, dict) or not isinstance(after.get("parallel"), dict):
        return None
    expected = dict(config, parallel=dict(config.get("parallel") or {}, enabled=False))
    return result if after == expected else None

#: Workers of the parallel run: two are enough for two tests to meet on one resource.
WORKERS = 2
#: How long one run of the suite may take, in seconds, before the check gives up.
RUN_TIMEOUT = 1800.0
#: Parallel runs at most: each one after the first checks the group found so far (a test
#: that shares the resource but passed because it ran on the first worker fails next time).
MAX_ROUNDS = 4
