"""Adding the engine's hooks to a `.pre-commit-config.yaml` that already exists, as text.

The user's file is never re-serialised: the engine's `repos:` entry is inserted after the
last line of the existing `repos:` block, indented like its items, so every other byte
(comments, order, quoting, blank lines) stays as it was. The result is parsed again and
must equal the old config plus the one new entry; where the file's shape does not allow
that (flow style `repos: [...]`, anchors spanning the block, ...), nothing is changed and
the caller shows the entry to paste by hand.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import yaml

#: The hook ids the engine's entry defines; any one of them present means "already there".
HOOK_IDS = frozenset({"test-policy-rules-in-sync", "test-policy-semgrep"})

_REPOS_KEY = re.compile(r"^repos:[ \t]*(#.*)?$")
_ITEM = re.compile(r"^( *)- ")


@dataclass(frozen=True)
class Merged:
    """The outcome: `text` is the new file (None when unchanged); `reason` says why."""

    text: str | None
    reason: str


def hook_ids(config: Any) -> set[str]:
    """Every hook id in a parsed pre-commit config (an unexpected shape gives none)."""
    found: set[str] = set()
    repos = config.get("repos") if isinstance(config, dict) else None
    for repo in repos if isinstance(repos, list) else ():
        hooks = repo.get("hooks") if isinstance(repo, dict) else None
        for hook in hooks if isinstance(hooks, list) else ():
            if isinstance(hook, dict) and isinstance(hook.get("id"), str):
                found.add(hook["id"])
    return found


def _load(text: str) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return None


def add_entry(existing: str, entry: str) -> Merged:
    """`existing` with `entry` (one `- repo: ...` item, written at column 0) appended to its
    `repos:` list."""
    config = _load(existing)
    if not isinstance(config, dict) or not isinstance(config.get("repos"), list):
        return Merged(None, "not a pre-commit config with a `repos:` list")
    present = sorted(hook_ids(config) & HOOK_IDS)
    if present:
        return Merged(None, f"already has the engine's hooks ({', '.join(present)})")
    lines = existing.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if _REPOS_KEY.match(line.rstrip("\r\n"))),
                 None)
    if start is None:
        return Merged(None, "its `repos:` key is not a block on a line of its own")
    end = start + 1  # one past the block: the next top-level key
    while end < len(lines):
        line = lines[end]
        if line.strip() and not line.startswith((" ", "\t", "#", "-")):
            break
        end += 1
    last = start  # the block's last line of content (a comment at column 0 may open the next key)
    indent = None
    for i in range(start + 1, end):
        line = lines[i]
        if line.strip() and not line.startswith("#"):
            last = i
            item = _ITEM.match(line)
            if indent is None and item:
                indent = item.group(1)
    if indent is None:
        return Merged(None, "its `repos:` list has no block items")
    newline = "\r\n" if lines[start].endswith("\r\n") else "\n"
    added = [f"{indent}{line}" if line.strip() else line
             for line in entry.replace("\n", newline).splitlines(keepends=True)]
    head = lines[:last + 1]
    if not head[-1].endswith(("\n", "\r")):
        head[-1] += newline
    if any(not lines[i].strip() for i in range(start + 1, last)):
        added.insert(0, newline)  # the file's items are set apart by blank lines: this too
    text = "".join(head + added + lines[last + 1:])
    wanted = dict(config, repos=[*config["repos"], *(_load(entry) or [])])
    if _load(text) != wanted:
        return Merged(None, "the entry could not be added without changing what the rest means")
    return Merged(text, "the engine's hooks appended to `repos:`")
