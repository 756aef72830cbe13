"""Path globs as the policy writes them: `**` crosses directories, `*` and `?` do not.

A glob that contains a `/` is anchored at the project root (the pytest rootdir, or
the repository root for the linter). A glob without a `/` matches a file name at
any depth, as in `.gitignore`: `test_*.py` matches `tests/unit/test_x.py`.
"""

from __future__ import annotations

import re
from functools import lru_cache


def glob_problem(glob: str) -> str | None:
    """Why `glob` cannot match a sensible relative path, or None when it is fine."""
    if not glob.strip():
        return "a glob must not be empty"
    if glob != glob.strip():
        return "a glob must not start or end with spaces"
    if "\\" in glob:
        return "use '/' between directories, not '\\'"
    if glob.startswith("/") or re.match(r"^[A-Za-z]:", glob):
        return "a glob is relative to the project root, not an absolute path"
    if glob.startswith("./"):
        return "write the glob without a leading './'"
    if glob.endswith("/"):
        return "a glob that ends with '/' matches no file; add '**' to match everything below it"
    parts = glob.split("/")
    if any(part == "" for part in parts):
        return "a glob must not contain an empty directory ('//')"
    if any(part in (".", "..") for part in parts):
        return "a glob must not contain '.' or '..' directories"
    if any("**" in part and part != "**" for part in parts):
        return "'**' must be a whole path segment, as in 'tests/**' or '**/test_*.py'"
    if glob.count("[") != glob.count("]"):
        return "unbalanced '[' ... ']' in glob"
    return None


@lru_cache(maxsize=4096)
def compile_glob(glob: str) -> re.Pattern[str]:
    """The regular expression matching exactly the relative paths `glob` matches."""
    parts = glob.split("/")
    if len(parts) == 1:
        parts = ["**", *parts]
    out: list[str] = []
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        if part == "**":
            out.append(".*" if last else "(?:[^/]+/)*")
            continue
        out.append(_segment(part))
        if not last:
            out.append("/")
    return re.compile("".join(out) + r"\Z")


def _segment(part: str) -> str:
    text = []
    i = 0
    while i < len(part):
        char = part[i]
        if char == "*":
            text.append("[^/]*")
        elif char == "?":
            text.append("[^/]")
        elif char == "[":
            end = part.find("]", i + 1)
            body = part[i + 1 : end]
            if body.startswith("!"):
                body = "^" + body[1:]
            text.append("[" + body.replace("\\", "\\\\") + "]")
            i = end
        else:
            text.append(re.escape(char))
        i += 1
    return "".join(text)


def matches(glob: str, relpath: str) -> bool:
    """Whether the '/'-separated relative path matches `glob`."""
    return compile_glob(glob).match(relpath) is not None


def first_match(globs: tuple[str, ...], relpath: str) -> str | None:
    """The first of `globs` that matches `relpath`, or None."""
    for glob in globs:
        if matches(glob, relpath):
            return glob
    return None
