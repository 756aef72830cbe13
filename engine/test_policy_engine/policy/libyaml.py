"""PyYAML's libyaml loader, where it can be used (imports `yaml`: import this module only
where YAML is read)."""

from __future__ import annotations

from typing import Any

import yaml

_FAST_LOADER: list[Any] = []  # [the loader or None], once looked at


def fast_loader() -> Any:
    """libyaml, when PyYAML was built with it: the same nodes and marks, 5-10x faster.

    None unless its nodes are this `yaml`'s: an extension module is never imported twice,
    so where `yaml` itself was imported again (pytest's pytester restores `sys.modules`
    after an in-process run) libyaml still builds the first import's node classes, which
    the policy's checks and PyYAML's own constructor would not recognise."""
    if not _FAST_LOADER:
        loader = getattr(yaml, "CSafeLoader", None)
        if loader is not None and not isinstance(yaml.compose("{}", Loader=loader),
                                                 yaml.MappingNode):
            loader = None
        _FAST_LOADER.append(loader)
    return _FAST_LOADER[0]
