"""The project's own pytest settings that the policy replaces or that override it.

`init` reads the file pytest itself would take (the first of `pytest.ini`, `.pytest.ini`,
`pyproject.toml` with a `[tool.pytest.ini_options]` or `[tool.pytest]` table, `tox.ini`
with `[pytest]`, `setup.cfg` with `[tool:pytest]`) and says, for each timeout or xdist
setting in it, which one holds once the plugin runs. The precedence is the plugin's (see
docs/limits.md): a command-line `--timeout`, also from `addopts`, beats the policy; the ini
`timeout` does not; an `-n`/`--dist` in `addopts` makes the plugin leave xdist alone.
"""

from __future__ import annotations

import configparser
import shlex
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

#: (file, section) in the order pytest looks for its configuration.
CANDIDATES = (
    ("pytest.ini", "pytest"),
    (".pytest.ini", "pytest"),
    ("pyproject.toml", "tool.pytest.ini_options"),
    ("pyproject.toml", "tool.pytest"),
    ("tox.ini", "pytest"),
    ("setup.cfg", "tool:pytest"),
)


@dataclass(frozen=True)
class Found:
    """The pytest settings read, and where from (`pyproject.toml [tool.pytest.ini_options]`)."""

    where: str
    options: Mapping[str, str]


def _ini(text: str, section: str) -> dict[str, str] | None:
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(text)
    except configparser.Error:
        return None
    if not parser.has_section(section):
        return None
    return {key: value for key, value in parser.items(section)}


def _toml(text: str, section: str) -> dict[str, str] | None:
    try:
        table: Any = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return None
    for key in section.split("."):
        table = table.get(key) if isinstance(table, dict) else None
    if not isinstance(table, dict):
        return None
    return {key: " ".join(map(str, value)) if isinstance(value, list) else str(value)
            for key, value in table.items() if not isinstance(value, dict)}


def find(read: Callable[[str], str | None]) -> Found | None:
    """The first pytest configuration among `CANDIDATES`; `read(name)` gives a file's text."""
    for name, section in CANDIDATES:
        text = read(name)
        if text is None:
            continue
        options = (_toml if name.endswith(".toml") else _ini)(text, section)
        if options is not None:
            return Found(f"{name} [{section}]", options)
    return None


def _addopts(value: str) -> list[str]:
    try:
        return shlex.split(value)
    except ValueError:
        return value.split()


def notes(found: Found) -> list[str]:
    """One line per setting the policy replaces or that overrides the policy."""
    out: list[str] = []
    options = found.options
    if "timeout" in options:
        out.append(f"timeout = {options['timeout']}: replaced by the policy's category limits "
                   "(a test's own @pytest.mark.timeout still wins)")
    if "timeout_method" in options:
        out.append(f"timeout_method = {options['timeout_method']}: replaced by the policy's "
                   "timeout_method")
    args = _addopts(options.get("addopts", ""))
    for i, arg in enumerate(args):
        value = args[i + 1] if i + 1 < len(args) else ""
        if arg == "--timeout" or arg.startswith("--timeout="):
            shown = arg if "=" in arg else f"{arg} {value}"
            out.append(f"addopts {shown}: overrides every category limit of the policy; "
                       "remove it to let the policy decide")
        elif arg in ("-n", "--numprocesses") or arg.startswith("--numprocesses=") or (
                arg.startswith("-n") and arg[2:3].isalnum()):
            shown = arg if arg not in ("-n", "--numprocesses") else f"{arg} {value}"
            out.append(f"addopts {shown}: pytest-xdist keeps it and the policy's `parallel:` "
                       "is not used; remove it to let the policy decide")
        elif arg == "--dist" or arg.startswith("--dist="):
            shown = arg if "=" in arg else f"{arg} {value}"
            out.append(f"addopts {shown}: pytest-xdist keeps it and the policy's `parallel:` "
                       "is not used; remove it to let the policy decide")
        elif (arg == "-p" and value == "no:xdist") or arg == "-pno:xdist":
            out.append("addopts -p no:xdist: the run stays serial whatever `parallel:` says")
    return out
