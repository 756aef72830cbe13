"""What a lint run needs from the policy, and a cache of it keyed by the policy's bytes.

Validating a policy imports pydantic and the whole model: 0.25-0.6 s of a commit's 0.5 s
budget on a shared 2-core machine (measured, `python -X importtime`). The plan (the lint
globs, each rule's id, severity, message and allowed paths, and the Semgrep config text) is
a pure function of the policy's bytes and of the engine's code, so it is written once to
the user's cache directory, keyed by both, and read back as JSON on the next run. A missing,
unreadable or corrupt cache entry only costs the validation again; the cache is never the
user's content and is never needed.

A run passes Semgrep only the rules, and the clearing forms, its files can trigger: the
names each needs (`rules.semgrep.needs`, `lint.prune`) are looked up in the files' bytes, a
few milliseconds for a 2 MB suite, where Semgrep's own prefilter costs up to 0.2 s per large
rule on 80 files (the requests and httpx rules, measured) and a form that cannot match costs
as much as one that can; a file that cannot be read keeps every rule, so Semgrep reports it.

The rules carry no `paths:`: the engine selects the files (`lint.paths`, `lint.exclude`,
matched relative to the policy's directory) and drops a finding in a rule's `allowed_paths`
itself, so every Semgrep front end sees the same rules and the same files (the OCaml front
end ignores `paths.exclude`: FIELD-NOTES).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from test_policy_engine import __version__
from test_policy_engine.lint.prune import Needs, needs_of, prune, tags

if TYPE_CHECKING:
    from test_policy_engine.policy.model import Policy

#: Bumped when the plan's shape changes (old cache entries are then ignored).
FORMAT = 5
#: How many plans the cache keeps (one per policy version and engine build); oldest go first.
KEEP = 32
PACKAGE = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class RuleInfo:
    """One generated rule, as the reports show it."""

    id: str  # test-policy.real-sleep
    pattern: str  # real-sleep
    severity: str  # error | warning
    why: str
    fix: str
    message: str
    calls: tuple[str, ...]
    allowed_paths: tuple[str, ...] = ()


@dataclass(frozen=True)
class Part:
    """One rule of the Semgrep config (as data, its clearing forms wrapped with what they
    need: `lint.prune`) and what a file must spell for it to flag anything there (every
    name of one of the alternatives)."""

    needs: Needs
    rule: dict[str, Any]


def met_by(needs: Needs, spelled: frozenset[str]) -> bool:
    return not needs or any(all(name in spelled for name in names) for names in needs)


@dataclass(frozen=True)
class Plan:
    """The lint globs, the rules and the Semgrep config (JSON, which is YAML) of a policy."""

    paths: tuple[str, ...]
    exclude: tuple[str, ...]
    rules: tuple[RuleInfo, ...]
    parts: tuple[Part, ...]

    def rule(self, check_id: str) -> RuleInfo | None:
        """The rule Semgrep reported as `check_id`: a part of it (`lint_rules`:
        `subprocess-run.test-policy.real-subprocess`), or with the config's directory the
        standard CLI prefixes (`tmp.x.test-policy.real-sleep`)."""
        for info in self.rules:
            if check_id == info.id or check_id.endswith("." + info.id):
                return info
        return None

    def met(self, texts: Iterable[bytes | None]) -> frozenset[Needs] | None:
        """The needs of the parts and of their forms that one of `texts` (the files'
        bytes) meets; None, every need, when a file could not be read (Semgrep says)."""
        pending = {needs for part in self.parts for needs in (part.needs, *tags(part.rule))}
        encoded = {name: name.encode() for needs in pending for names in needs
                   for name in names}
        found: set[Needs] = set()
        for text in texts:
            if text is None:
                return None
            # only the names of needs not met yet: most are met by the first few files
            names = {name for needs in pending for names in needs for name in names}
            spelled = frozenset(name for name in names if encoded[name] in text)
            now = {needs for needs in pending if met_by(needs, spelled)}
            found |= now
            pending -= now
            if not pending:
                break
        return frozenset(found)

    def chosen(self, met: frozenset[Needs] | None = None) -> list[Part]:
        """The parts whose needs are `met` (default: every part), in the config's order."""
        return [part for part in self.parts if met is None or part.needs in met]

    def config(self, met: frozenset[Needs] | None = None) -> str:
        """The Semgrep config of the parts whose needs are `met`, without the forms whose
        needs are not (default: every rule, whole)."""
        def keep(needs: Needs) -> bool:
            return met is None or needs in met

        rules = []
        for part in self.chosen(met):
            pruned = prune(part.rule, keep)
            if pruned is not None:
                rules.append(json.dumps(pruned, sort_keys=True))
        return '{"rules": [\n' + ",\n".join(rules) + "\n]}\n"


def build(policy: Policy) -> Plan:
    """The plan of a validated policy (pure)."""
    from test_policy_engine.rules.semgrep import lint_rules, rule_id

    parts = []
    infos = []
    for pattern in policy.banned:
        split = lint_rules(pattern, policy.lint)
        for needs, data in split:
            data.pop("paths", None)
            parts.append(Part(needs, data))
        infos.append(RuleInfo(
            id=rule_id(pattern), pattern=pattern.id, severity=pattern.severity,
            why=pattern.why, fix=pattern.fix, message=str(split[0].data["message"]),
            calls=tuple(pattern.calls), allowed_paths=tuple(pattern.allowed_paths)))
    return Plan(paths=tuple(policy.lint.paths), exclude=tuple(policy.lint.exclude),
                rules=tuple(infos), parts=tuple(parts))


def _from_json(data: Any) -> Plan:
    rules = tuple(RuleInfo(**{**item, "calls": tuple(item["calls"]),
                              "allowed_paths": tuple(item["allowed_paths"])})
                  for item in data["rules"])
    parts = tuple(Part(needs_of(item["needs"]), item["rule"]) for item in data["parts"])
    return Plan(paths=tuple(data["paths"]), exclude=tuple(data["exclude"]), rules=rules,
                parts=parts)


def _to_json(plan: Plan) -> str:
    return json.dumps({"format": FORMAT, **asdict(plan)}, sort_keys=True)


def cache_dir(environ: dict[str, str] | os._Environ[str] = os.environ) -> Path:
    """`$TEST_POLICY_CACHE_DIR`, else `$XDG_CACHE_HOME/test-policy-engine`, else
    `~/.cache/test-policy-engine`."""
    explicit = environ.get("TEST_POLICY_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base, "test-policy-engine")


def engine_stamp() -> bytes:
    """The engine's version and the size and mtime of each of its modules: an edited engine
    (a development checkout) never reuses a plan an older one wrote."""
    parts = [__version__]
    for directory, dirs, names in os.walk(PACKAGE):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(names):
            if name.endswith((".py", ".json")):
                info = os.stat(os.path.join(directory, name))
                parts.append(f"{name}:{info.st_size}:{info.st_mtime_ns}")
    return "\n".join(parts).encode()


def key(policy_bytes: bytes, stamp: bytes) -> str:
    digest = hashlib.sha256(b"%d\0" % FORMAT)
    digest.update(stamp + b"\0" + policy_bytes)
    return digest.hexdigest()[:32]


def _read_cached(where: Path) -> Plan | None:
    try:
        data = json.loads(where.read_text(encoding="utf-8"))
        if data.get("format") != FORMAT:
            return None
        return _from_json(data)
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _write_atomic(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _evict(directory: Path, keep: int) -> None:
    """Drop the oldest plans beyond `keep` (and the config file that plans of format 2
    kept beside each)."""
    try:
        plans = sorted(directory.glob("lint-*.json"), key=lambda p: p.stat().st_mtime)
    except OSError:
        return
    for old in plans[:-keep] if len(plans) > keep else []:
        old.unlink(missing_ok=True)
        old.with_suffix(".rules.yaml").unlink(missing_ok=True)


@dataclass(frozen=True)
class Loaded:
    plan: Plan
    cached: bool  # whether the plan came from the cache


def load(policy_path: str | Path, directory: Path | None = None) -> Loaded:
    """The plan of the policy at `policy_path`, from the cache when it holds it; a policy
    the cache does not hold is validated (`load_policy`: UserError on a mistake) and cached."""
    from test_policy_engine.policy.reading import POLICY_MAX_BYTES, read_regular

    where = directory if directory is not None else cache_dir()
    try:
        name = "lint-" + key(read_regular(policy_path, POLICY_MAX_BYTES), engine_stamp())
    except OSError:
        name = None  # load_policy says what is wrong with the file
    if name is not None:
        plan = _read_cached(where / f"{name}.json")
        if plan is not None:
            return Loaded(plan, cached=True)
    from test_policy_engine.policy.loader import load_policy

    plan = build(load_policy(policy_path))
    if name is not None:
        try:
            where.mkdir(parents=True, exist_ok=True)
            _write_atomic(where / f"{name}.json", _to_json(plan))
            _evict(where, KEEP)
        except OSError:
            pass  # the cache is never needed
    return Loaded(plan, cached=False)


@contextmanager
def config_file(text: str) -> Iterator[Path]:
    """A temporary file holding the Semgrep config `text`, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="test-policy-rules-") as tmp:
        path = Path(tmp, "rules.yaml")
        path.write_text(text, encoding="utf-8")
        yield path
