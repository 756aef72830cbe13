"""PyYAML's libyaml loader, where it can be used (imports `yaml`: import this module only
where YAML is read)."""

from __future__ import annotations

import sys
from typing import Any

import yaml

#: (the `yaml` module it was looked at for, the loader or None); the module itself, not
#: its id, which a later module may reuse.
_FAST_LOADER: list[tuple[Any, Any]] = []


def fast_loader() -> Any:
    """libyaml, when PyYAML was built with it: the same nodes and marks, 5-10x faster.

    None unless its nodes are those of the `yaml` imported now: an extension module is
    never imported twice, so where `yaml` itself was imported again (pytest's pytester
    restores `sys.modules` after an in-process run) libyaml still builds the first
    import's node classes, which the policy's checks and PyYAML's own constructor would
    not recognise. Looked at once per `yaml` module: a caller imported after such a
    restore may hold this module from before it (`from package import libyaml` finds the
    package's stale attribute) while its own `yaml` is the new one."""
    current = sys.modules.get("yaml", yaml)
    if not _FAST_LOADER or _FAST_LOADER[0][0] is not current:
        loader = getattr(current, "CSafeLoader", None)
        if loader is not None and not isinstance(current.compose("{}", Loader=loader),
                                                 current.MappingNode):
            loader = None
        _FAST_LOADER[:] = [(current, loader)]  # only the module in use matters
    return _FAST_LOADER[0][1]
