"""What the pytest plugin needs of a validated policy, as plain data, and the copy of it
kept in pytest's cache. Pure: nothing here imports pytest, YAML or pydantic.

Reading YAML and validating with pydantic costs every pytest process (and every
pytest-xdist worker) about 60 ms of start-up. So once a policy file has been
validated, the plugin stores this plain copy under the pytest cache key `CACHE_KEY`
(`pytest --cache-show test_policy/*` shows it), keyed by a SHA-256 of the file's bytes,
the engine's version and the source of the modules that validate it. A run whose file
hashes the same uses the copy; any other run is a miss and validates in full, so a
changed or broken policy is always reported. Only validated policies are stored.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import test_policy_engine
from test_policy_engine.policy import checks

if TYPE_CHECKING:
    from test_policy_engine.policy.model import Policy

#: The `config.cache` key of the stored copy ("v/" + key under the cache directory).
CACHE_KEY = "test_policy/policy"
#: Bumped whenever the stored shape changes.
FORMAT = 4
#: The modules that decide whether a policy is valid and what the plain copy holds.
_SOURCES = ("policy/model.py", "policy/checks.py", "policy/loader.py", "policy/globs.py",
            "plugin/cache.py")


@dataclass(frozen=True)
class PluginForbid:
    """A category's `forbid:` (the runtime guard), as plain data."""

    mode: str  # off | warn | strict
    network: bool
    loopback: bool
    allow_hosts: tuple[str, ...]
    subprocess: bool
    sleep: bool
    sleep_over: float

    @property
    def guards(self) -> bool:
        """Whether it forbids anything: the runtime guard is loaded only then."""
        return self.mode != "off" and (self.network or self.subprocess or self.sleep)


@dataclass(frozen=True)
class PluginCategory:
    limit: float
    default: bool
    paths: tuple[str, ...]
    markers: tuple[str, ...]
    description: str
    forbid: PluginForbid | None = None


@dataclass(frozen=True)
class PluginParallel:
    enabled: bool
    workers: int | str
    dist: str
    groups: Mapping[str, tuple[str, ...]]  # group name -> globs, in the policy's order


@dataclass(frozen=True)
class PluginPolicy:
    """The fields of a validated `Policy` that the pytest plugin reads."""

    timeout_method: str
    warn_ratio: float
    categories: Mapping[str, PluginCategory]  # in the policy's order
    parallel: PluginParallel
    kill_after: float = 10.0
    enforce: str = "fail"  # "warn": limits reported, never failing


def from_policy(policy: Policy) -> PluginPolicy:
    return PluginPolicy(
        timeout_method=policy.timeout_method,
        warn_ratio=policy.warn_ratio,
        categories={
            name: PluginCategory(c.limit, c.default, tuple(c.paths), tuple(c.markers),
                                 c.description,
                                 None if c.forbid is None else PluginForbid(
                                     c.forbid.mode, c.forbid.network, c.forbid.loopback,
                                     tuple(c.forbid.allow_hosts), c.forbid.subprocess,
                                     c.forbid.sleep, c.forbid.sleep_over))
            for name, c in policy.categories.items()
        },
        parallel=PluginParallel(
            enabled=policy.parallel.enabled,
            workers=policy.parallel.workers,
            dist=policy.parallel.dist,
            groups={name: tuple(globs) for name, globs in policy.parallel.groups.items()},
        ),
        kill_after=policy.kill_after,
        enforce=policy.enforce,
    )


def to_json(plain: PluginPolicy) -> dict[str, object]:
    """Data for `config.cache.set`. Mappings whose order matters (the first of equal
    limits, the first matching group) are lists of [name, value] pairs: the cache
    writes JSON objects with their keys sorted."""
    return {
        "timeout_method": plain.timeout_method,
        "warn_ratio": plain.warn_ratio,
        "kill_after": plain.kill_after,
        "enforce": plain.enforce,
        "categories": [[name, asdict(category)] for name, category in plain.categories.items()],
        "parallel": {
            "enabled": plain.parallel.enabled,
            "workers": plain.parallel.workers,
            "dist": plain.parallel.dist,
            "groups": [[name, list(globs)] for name, globs in plain.parallel.groups.items()],
        },
    }


def from_json(value: object) -> PluginPolicy:
    """The plain copy back from `to_json`'s output; ValueError on any other shape, and on
    any value `policy.yaml` itself could not hold (the same checks as the model's): the
    cache is a file anyone in the checkout can write, so it is only a hint."""
    data = _dict(value, {"timeout_method", "warn_ratio", "kill_after", "categories",
                        "parallel", "enforce"})
    categories: dict[str, PluginCategory] = {}
    for name, raw in _pairs(data["categories"]):
        cat = _dict(raw, {"limit", "default", "paths", "markers", "description", "forbid"})
        categories[checks.check_category_name(name)] = PluginCategory(
            checks.check_seconds(_number(cat["limit"])), _bool(cat["default"]),
            _globs(cat["paths"]), tuple(map(checks.check_marker, _strings(cat["markers"]))),
            _str(cat["description"]), _forbid(cat["forbid"]))
    par = _dict(data["parallel"], {"enabled", "workers", "dist", "groups"})
    raw = par["workers"]
    if isinstance(raw, bool) or not isinstance(raw, (int, str)):
        raise ValueError(f"expected 'auto' or a number of workers, got {raw!r}")
    workers = checks.check_workers(raw)
    if not categories or sum(c.default for c in categories.values()) != 1:
        raise ValueError("not exactly one default category")
    markers = [m for c in categories.values() for m in c.markers]
    if len(set(markers)) != len(markers):
        raise ValueError("a marker in two categories")
    warn_ratio = _number(data["warn_ratio"])
    if not 0 < warn_ratio <= 1:
        raise ValueError(f"expected a warn ratio in (0, 1], got {warn_ratio!r}")
    return PluginPolicy(
        timeout_method=_choice(data["timeout_method"], ("signal", "thread")),
        warn_ratio=warn_ratio,
        categories=categories,
        parallel=PluginParallel(
            enabled=_bool(par["enabled"]),
            workers=workers,
            dist=_choice(par["dist"], ("load", "loadscope", "loadfile", "loadgroup",
                                       "worksteal")),
            groups={name: _globs(globs) for name, globs in _pairs(par["groups"])},
        ),
        kill_after=_kill_after(data["kill_after"]),
        enforce=checks.check_enforce(data["enforce"]),
    )


def _forbid(value: object) -> PluginForbid | None:
    if value is None:
        return None
    f = _dict(value, {"mode", "network", "loopback", "allow_hosts", "subprocess", "sleep",
                      "sleep_over"})
    return PluginForbid(
        _choice(f["mode"], ("off", "warn", "strict")), _bool(f["network"]),
        _bool(f["loopback"]), _strings(f["allow_hosts"]), _bool(f["subprocess"]),
        _bool(f["sleep"]), _number(f["sleep_over"]))


def _pairs(value: object) -> list[tuple[str, object]]:
    """[[name, value], ...] with distinct names."""
    if not isinstance(value, list):
        raise ValueError(f"expected a list of pairs, got {type(value).__name__}")
    pairs: list[tuple[str, object]] = []
    for pair in value:
        if not (isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], str)):
            raise ValueError(f"expected a [name, value] pair, got {pair!r}")
        pairs.append((pair[0], pair[1]))
    if len({name for name, _ in pairs}) != len(pairs):
        raise ValueError("expected distinct names")
    return pairs


def _dict(value: object, keys: set[str] | None = None) -> dict[str, object]:
    if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
        raise ValueError(f"expected a mapping, got {type(value).__name__}")
    if keys is not None and set(value) != keys:
        raise ValueError(f"expected the keys {sorted(keys)}, got {sorted(value)}")
    return value


def _number(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(
            value):
        raise ValueError(f"expected a number, got {value!r}")
    return float(value)


def _bool(value: object) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"expected true or false, got {value!r}")
    return value


def _str(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected a string, got {value!r}")
    return value


def _choice(value: object, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise ValueError(f"expected one of {allowed}, got {value!r}")
    return str(value)


def _kill_after(value: object) -> float:
    ratio = _number(value)
    if not 1 <= ratio <= 1000:
        raise ValueError(f"expected a kill_after from 1 to 1000, got {ratio!r}")
    return ratio


def _globs(value: object) -> tuple[str, ...]:
    return tuple(map(checks.check_glob, _strings(value)))


def _strings(value: object) -> tuple[str, ...]:
    if not isinstance(value, (list, tuple)):
        raise ValueError(f"expected a list, got {value!r}")
    return tuple(_str(item) for item in value)


# --- the stored copy ----------------------------------------------------------------


def cache_key(data: bytes) -> str | None:
    """The key of a policy file's bytes: None where the engine's own source cannot be
    read (then nothing is cached)."""
    engine_digest = _engine_digest()
    if engine_digest is None:
        return None
    return hashlib.sha256(engine_digest.encode() + b"\0" + data).hexdigest()


@functools.cache
def _engine_digest() -> str | None:
    version = test_policy_engine.__version__
    digest = hashlib.sha256(f"test-policy-engine {version} format {FORMAT}".encode())
    here = Path(__file__).parent.parent  # the package root: _SOURCES are relative to it
    try:
        for name in _SOURCES:
            digest.update(b"\0" + (here / name).read_bytes())
    except OSError:
        return None
    return digest.hexdigest()


def entry(key: str, plain: PluginPolicy) -> dict[str, object]:
    """The value stored under `CACHE_KEY`."""
    return {"key": key, "policy": to_json(plain)}


def lookup(cache_dir: Path, data: bytes) -> tuple[str | None, PluginPolicy | None]:
    """(key of the policy file's bytes, the stored copy made from exactly those bytes or
    None). `cache_dir` is pytest's cache directory (ini `cache_dir`)."""
    key = cache_key(data)
    return key, None if key is None else read_cached(value_path(cache_dir), key)


def value_path(cache_dir: Path) -> Path:
    """Where `config.cache.set(CACHE_KEY, ...)` writes, under pytest's cache directory."""
    return cache_dir.joinpath("v", *CACHE_KEY.split("/"))


def read_cached(path: Path, key: str) -> PluginPolicy | None:
    """The stored copy when it was made from exactly the bytes `key` was computed from;
    None for anything else (no file, another key, unreadable or malformed data)."""
    try:
        stored = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return None
    if not isinstance(stored, dict) or stored.get("key") != key:
        return None
    try:
        return from_json(stored.get("policy"))
    except ValueError:
        return None
