"""Adding the engine's hooks to a repository's own `.pre-commit-config.yaml`, as text.

The user's file is kept byte for byte: the engine's `repos:` entry is inserted after the
last line of the `repos:` block (indented as the user's entries are), and the result is
read back to prove it holds exactly the user's repositories plus ours and every other
setting unchanged. Where that cannot be shown (flow style, anchors, an unusual layout),
nothing is merged and the caller prints the lines to add by hand.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import yaml

#: Hook ids the engine's entry defines; any of them in a config means it is already there.
OUR_HOOK_IDS = frozenset({"test-policy-rules-in-sync", "test-policy-semgrep"})

_REPOS_LINE = re.compile(r"repos:[ \t]*(#.*)?\n?\Z")
_ITEM = re.compile(r"([ \t]*)- ")


@dataclass(frozen=True)
class Merged:
    """`text` is the merged file (None when it was left alone); `note` says why."""

    text: str | None
    note: str


def our_entry(template: str) -> str:
    """The `repos:` items of the engine's own config (its lines after `repos:`)."""
    lines = template.splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if _REPOS_LINE.match(line))
    return "".join(lines[start + 1:])


def hook_ids(config: Any) -> set[str]:
    if not isinstance(config, dict) or not isinstance(config.get("repos"), list):
        return set()
    return {str(hook.get("id")) for repo in config["repos"] if isinstance(repo, dict)
            for hook in repo.get("hooks") or [] if isinstance(hook, dict)}


def merge(existing: str, template: str) -> Merged:
    """The user's config with the engine's entry added, or why it was left alone."""
    try:
        config = yaml.safe_load(existing)
    except yaml.YAMLError:
        return Merged(None, "it is not valid YAML")
    if hook_ids(config) & OUR_HOOK_IDS:
        return Merged(None, "it already has the test-policy hooks")
    if not isinstance(config, dict) or not isinstance(config.get("repos"), list):
        return Merged(None, "it has no `repos:` list")
    lines = existing.splitlines(keepends=True)
    header = next((i for i, line in enumerate(lines) if _REPOS_LINE.match(line)), None)
    if header is None:
        return Merged(None, "its `repos:` is not a block list starting at column 0")
    last = header
    indent: str | None = None
    for index in range(header + 1, len(lines)):
        line = lines[index]
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if line[0] not in " \t-":
            break  # the next top-level key
        if indent is None and (item := _ITEM.match(line)):
            indent = item.group(1)
        last = index
    entry = _reindent(our_entry(template), indent if indent is not None else "  ")
    before = "".join(lines[: last + 1])
    if before and not before.endswith("\n"):
        before += "\n"
    merged = before + entry + "".join(lines[last + 1:])
    ours = yaml.safe_load("repos:\n" + entry)["repos"]
    try:
        reread = yaml.safe_load(merged)
    except yaml.YAMLError:
        reread = None
    expected = {**config, "repos": [*config["repos"], *ours]}
    if reread != expected:
        return Merged(None, "adding the entry would change how the file reads")
    return Merged(merged, "added the test-policy hooks to its `repos:`")


def _reindent(entry: str, indent: str) -> str:
    """Our entry is written with its items at two spaces; move them to `indent`."""
    out = []
    for line in entry.splitlines(keepends=True):
        if line.strip():
            line = indent + line[2:] if line.startswith("  ") else indent + line
        out.append(line)
    return "".join(out)
