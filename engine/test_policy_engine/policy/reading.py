"""Bounded reads of the user's files: a regular file, never more than a cap.

A FIFO, a device or a directory named as a policy or a result file would hang a read
(a FIFO without a writer) or never end (`/dev/zero`); each is refused with one line.
Opening uses O_NONBLOCK, so even opening a FIFO returns at once.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import BinaryIO

#: A policy larger than this is refused: the shipped one is 4 KiB.
POLICY_MAX_BYTES = 1 << 20


class NotRegular(OSError):
    """The path exists but is not a regular file; `strerror` says what it is."""


class TooLarge(OSError):
    """The file is larger than the cap it is read with."""


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def open_regular(path: str | Path) -> BinaryIO:
    """`path` opened for binary reading; raises NotRegular for anything but a regular
    file, OSError as `open` does."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise NotRegular(0, f"is {_kind(mode)}, not a file")
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_regular(path: str | Path, limit: int) -> bytes:
    """The bytes of the regular file `path`, at most `limit` of them (TooLarge past it)."""
    with open_regular(path) as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise TooLarge(0, f"is larger than {limit >> 10:,} KiB")
    return data


def check_writable_target(path: str | Path) -> str | None:
    """Why a file written by rename must not replace `path` (it exists and is not a
    regular file: a device such as /dev/null, a FIFO, a directory), or None."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return None
    if stat.S_ISREG(mode):
        return None
    return f"is {_kind(mode)}; refusing to replace it with a regular file"
