"""Where the pytest plugin finds the policy: `--policy`, then ini `test_policy`, then
`policy.yaml` in the rootdir. Pure apart from reading the candidate files."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from test_policy_engine.policy.reading import POLICY_MAX_BYTES, read_regular

DEFAULT_POLICY = "policy.yaml"


@dataclass(frozen=True)
class Found:
    path: Path
    shown_as: str  # how messages name the file
    source: str  # "--policy", "ini test_policy", "rootdir"


def find_policy(
    option: str | None,
    ini: str,
    inidir: Path | None,
    invocation_dir: Path,
    rootdir: Path,
    known: Callable[[bytes], bool] | None = None,
) -> Found | None:
    """The policy file to use, or None when the plugin should stay inert.

    A path given by `--policy` (relative to the invocation directory) or by the ini
    option (relative to the ini file) must exist; the loader reports it if not. A
    `policy.yaml` in the rootdir is used only when it looks like a test policy, so
    an unrelated file of that name (an OPA or Kubernetes policy) leaves the run alone;
    `known(bytes)` true (the plugin's cache holds a validated copy of exactly these
    bytes) saves parsing the YAML to tell.
    """
    if option:
        return Found(invocation_dir / option, option, "--policy")
    if ini.strip():
        base = inidir if inidir is not None else rootdir
        return Found(base / ini.strip(), ini.strip(), "ini test_policy")
    candidate = rootdir / DEFAULT_POLICY
    if candidate.is_file() and looks_like_test_policy(candidate, known):
        return Found(candidate, _shown(candidate, invocation_dir), "rootdir")
    return None


def _shown(path: Path, invocation_dir: Path) -> str:
    try:
        return path.relative_to(invocation_dir).as_posix()
    except ValueError:
        return str(path)


def looks_like_test_policy(path: Path, known: Callable[[bytes], bool] | None = None) -> bool:
    """True unless the file is a YAML mapping whose top level has no `categories` key.

    A file that does not parse counts as ours, so a broken policy is reported, not
    silently ignored.
    """
    try:
        text = read_regular(path, POLICY_MAX_BYTES)
    except OSError:
        return True  # load_policy says what is wrong with it
    if known is not None and known(text):
        return True

    import yaml  # here: an inert run (no policy.yaml) never imports it

    from test_policy_engine.policy.libyaml import fast_loader

    try:
        data = yaml.load(text, Loader=fast_loader() or yaml.SafeLoader)
    except (yaml.YAMLError, UnicodeDecodeError):
        return True
    # An empty file (or one that is not a mapping) is a broken policy, not someone else's.
    return not isinstance(data, dict) or "categories" in data
