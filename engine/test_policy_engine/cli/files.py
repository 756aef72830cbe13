"""Writing generated files: atomically, so nothing is ever left half-written."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from test_policy_engine.policy.errors import UserError
from test_policy_engine.policy.reading import check_writable_target


def _file_mode(target: Path) -> int:
    """The mode the new file gets: the old file's, else what the umask allows (as `open`)."""
    try:
        return target.stat().st_mode & 0o777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def stage(target: Path, text: str) -> str:
    """Write `text` to a temporary file beside `target` and return its name.

    The caller renames it over `target` (`os.replace`) or removes it. Raises OSError.
    """
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        os.chmod(tmp, _file_mode(target))
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return tmp


def write_atomic(path: str | Path, text: str) -> None:
    """Write `text` to `path` through a temporary file in the same directory and a rename.

    A file that cannot be written is the user's input error: one line, exit code 2.
    """
    target = Path(path)
    refused = check_writable_target(target)
    if refused is not None:
        raise UserError(f"{path}: {refused}")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = stage(target, text)
        try:
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise UserError(f"{path}: cannot write ({exc.strerror or exc})") from None
