"""`test-policy explain NODEID_OR_PATH`: each test's category, limit and the reason.

By default the target is collected by pytest in this process (`--collect-only`),
so the markers are the real ones (class, module `pytestmark`, `pytest.param`,
conftest hooks) and the answer comes from the very code that sets the limits in a
run: the plugin's JUnit properties. With `--marker NAME` (or for a file that does
not exist yet) nothing is collected: the path and the given markers are resolved
by the same pure function, which answers "what would a test here get?".
"""

from __future__ import annotations

import argparse
import contextlib
import io
import math
from dataclasses import dataclass
from pathlib import Path

import pytest

from test_policy_engine.policy.categories import Classifier, Resolution
from test_policy_engine.policy.errors import UserError
from test_policy_engine.policy.loader import load_policy
from test_policy_engine.policy.model import Policy
from test_policy_engine.policy.timeouts import (
    CATEGORY_PROPERTY,
    LIMIT_PROPERTY,
    REASON_PROPERTY,
    format_limit,
    read_properties,
)

HELP = "show the category, time limit and reason pytest gives each test"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "target",
        metavar="NODEID_OR_PATH",
        help="a test file, directory or node id (tests/unit/test_x.py::test_y)",
    )
    parser.add_argument(
        "--marker",
        "-m",
        dest="markers",
        action="append",
        default=[],
        metavar="NAME",
        help="resolve the path with these markers instead of collecting it (repeatable)",
    )
    parser.add_argument(
        "--timeout",
        type=_seconds,
        default=None,
        metavar="SECONDS",
        help="as if pytest were run with --timeout=SECONDS",
    )


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0 <= value < math.inf:
        raise argparse.ArgumentTypeError(f"must be a number of seconds, 0 or more (got {text!r})")
    return value


@dataclass(frozen=True)
class Row:
    nodeid: str
    resolution: Resolution


def run(args: argparse.Namespace) -> int:
    policy = load_policy(args.policy)
    path = args.target.split("::", 1)[0]
    if args.markers or not Path(path).exists():
        rows = [static(policy, args.policy, args.target, args.markers, args.timeout)]
        how = "markers " + ", ".join(args.markers) if args.markers else "no markers"
        note = f"not collected: path and {how}"
    else:
        rows = collect(args.target, args.policy, args.timeout)
        note = "collected by pytest"
    print(f"{args.policy}: timeout method {policy.timeout_method} ({note})")
    print(render(rows))
    return 0


def static(policy: Policy, policy_path: str, target: str, markers: list[str],
           timeout: float | None) -> Row:
    """Resolve without pytest: the path relative to the policy's directory (the rootdir)."""
    path, sep, rest = target.partition("::")
    rel = Path(path).as_posix()
    with contextlib.suppress(ValueError, OSError):
        rel = Path(path).resolve().relative_to(Path(policy_path).resolve().parent).as_posix()
    resolution = Classifier(policy).resolve(rel, markers, cli_timeout=timeout)
    return Row(rel + sep + rest, resolution)


class _Recorder:
    """A plugin object that keeps the properties the test_policy plugin gave each item."""

    def __init__(self) -> None:
        self.rows: list[Row] = []

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        for item in session.items:
            props = read_properties(item.user_properties)
            if CATEGORY_PROPERTY in props:
                resolution = Resolution(props[CATEGORY_PROPERTY],
                                        float(props[LIMIT_PROPERTY]), props[REASON_PROPERTY])
                self.rows.append(Row(item.nodeid, resolution))


#: The start of the warning pytest gives for a plugin imported before it started.
_ALREADY_IMPORTED = "Module already imported so cannot be rewritten; test_policy_engine"


def collect(target: str, policy_path: str, timeout: float | None) -> list[Row]:
    """Collect `target` with pytest in this process and read each test's resolution."""
    recorder = _Recorder()
    argv = [target, "--collect-only", "-q", "-p", "no:cacheprovider",
            f"--policy={policy_path}",
            # This command imported the engine before pytest starts, so pytest cannot
            # rewrite the plugin's asserts (it has none) and would warn: an error under
            # a project's `filterwarnings = error`. The command line outranks the ini.
            "-W", f"ignore:{_ALREADY_IMPORTED}:pytest.PytestAssertRewriteWarning"]
    if timeout is not None:
        argv.append(f"--timeout={timeout}")
    output = io.StringIO()
    with contextlib.redirect_stdout(output), contextlib.redirect_stderr(output):
        code = pytest.main(argv, plugins=[recorder])
    if code == pytest.ExitCode.NO_TESTS_COLLECTED:
        raise UserError(f"{target}: pytest collected no tests")
    if code != pytest.ExitCode.OK:
        tail = "\n".join(output.getvalue().strip().splitlines()[-15:])
        raise UserError(f"{target}: pytest could not collect it (exit code {int(code)}):\n{tail}")
    if not recorder.rows:
        raise UserError(f"{target}: the test_policy pytest plugin did not run "
                        "(is it disabled with -p no:test_policy?)")
    return recorder.rows


def render(rows: list[Row]) -> str:
    """One line per test: node id, category, limit, reason; columns aligned."""
    table = [(r.nodeid, r.resolution.category,
              f"{format_limit(r.resolution.limit)} s" if r.resolution.limit else "off",
              r.resolution.reason) for r in rows]
    widths = [max(len(row[i]) for row in table) for i in range(3)]
    return "\n".join(
        f"{a:<{widths[0]}}  {b:<{widths[1]}}  {c:>{widths[2]}}  {d}" for a, b, c, d in table
    )
