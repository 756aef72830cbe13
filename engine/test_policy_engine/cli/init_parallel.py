"""`test-policy init --check-parallel`: is the suite safe to run in parallel?

It runs the suite serially once, then in parallel (`--workers`, 2 by default, with the
policy's `dist`); tests that passed serially and fail in parallel are named, and their files
go into one `parallel.groups` group, checked by another parallel run with that group
(a test sharing the resource can pass the first time because it happened to run on the same
worker), up to `MAX_ROUNDS` parallel runs. If the group does not make them pass, the change
is `parallel.enabled: false`. The change is shown as a diff of the policy and written only
with `--write`, as a text edit that keeps every other byte. Exit 0: nothing to change, or
written; 1: a change to write; 2: the runs could not be made.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from test_policy_engine.adopt import parallel_check as pc
from test_policy_engine.adopt.parallel_run import Run, command, run_copy, run_suite
from test_policy_engine.cli.files import write_atomic
from test_policy_engine.policy.errors import UserError
from test_policy_engine.policy.loader import parse_policy


def _read_policy(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(f"{path}: no policy to check against; hint: run `test-policy init` "
                        "first, then `test-policy init --check-parallel`") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: cannot read ({getattr(exc, 'strerror', None) or exc})") from None


def _count(n: int, what: str) -> str:
    return f"{n} {what}{'s' * (n != 1)}"


def check_parallel(args: argparse.Namespace, root: Path, roots: tuple[str, ...]) -> int:
    if args.workers < 2:
        raise UserError(f"--workers: a parallel run needs 2 or more (got {args.workers})")
    if not args.run_timeout > 0:
        raise UserError(f"--run-timeout: must be more than 0 seconds (got {args.run_timeout:g})")
    policy_path = root / args.policy
    text = _read_policy(policy_path)
    policy = parse_policy(text.encode(), str(policy_path))
    dist = policy.parallel.dist
    with tempfile.TemporaryDirectory(prefix="test-policy-check-") as tmp:
        scratch = Path(tmp)
        outcomes = scratch / "outcomes.jsonl"
        candidate_path = scratch / "policy.yaml"
        candidate_path.write_text(run_copy(text), encoding="utf-8")

        def suite(workers: int) -> Run:
            return run_suite(root, command(roots, candidate_path, workers, dist), outcomes,
                             args.run_timeout)

        serial = suite(0)
        passed = sum(o.outcome == "passed" for o in serial.outcomes.values())
        failed = sum(o.outcome in ("failed", "error") for o in serial.outcomes.values())
        print(f"serial run: {_count(len(serial.outcomes), 'test')}, {passed} passed"
              + (f", {failed} failed (not counted: they fail serially too)" if failed else "")
              + f", {serial.seconds:.1f} s")
        if not passed:
            raise UserError(f"{root}: no test passed in the serial run, so there is nothing "
                            "to compare; hint: make `python -m pytest` pass serially first")
        seen: dict[str, pc.Failure] = {}
        files: list[str] = []
        proposal = text
        verdict = "safe"
        for round_ in range(1, pc.MAX_ROUNDS + 1):
            candidate_path.write_text(run_copy(proposal), encoding="utf-8")
            parallel = suite(args.workers)
            failures = pc.parallel_only(serial.outcomes, parallel.outcomes)
            grouped = f", with {_count(len(files), 'file')} in group {pc.GROUP}" if files else ""
            print(f"parallel run {round_} ({args.workers} workers, --dist {dist}{grouped}): "
                  f"{_count(len(failures), 'test')} failed only in parallel, "
                  f"{parallel.seconds:.1f} s")
            for failure in failures:
                print(f"  {failure.describe()}")
            if not failures:
                break
            for failure in failures:
                seen.setdefault(failure.nodeid, failure)
            new = sorted(set(pc.files_of(failures)) - set(files))
            if not new:  # the group did not cure them: the suite stays serial
                verdict = "off"
                break
            files = sorted(set(files) | set(new))
            grouped_text = pc.add_group(text, files, list(seen.values()))
            if grouped_text is None:
                verdict = "by hand"
                break
            proposal = grouped_text
            verdict = "group"
        else:
            verdict = "off"
    failures_seen = sorted(seen.values(), key=lambda f: f.nodeid)
    if verdict == "safe" and not files:
        print("parallel-safe: every test that passed serially passed in parallel; "
              "nothing to change")
        return 0
    if verdict == "off":
        switched = pc.switch_off(text, failures_seen)
        if switched is None:
            raise UserError(f"{policy_path}: cannot edit its `parallel:` section as text; "
                            "hint: set `parallel: {enabled: false}` by hand")
        proposal = switched
        print(f"a group of their files did not make them pass: the change is "
              f"parallel.enabled: false in {policy_path}")
    elif verdict == "by hand":
        raise UserError(f"{policy_path}: cannot add a group to its `parallel.groups` as text; "
                        f"hint: add by hand, under parallel: groups:\n    {pc.GROUP}: "
                        f"{pc.flow(files)}")
    else:
        print(f"the change: their {_count(len(files), 'file')} in one group of parallel.groups "
              f"({pc.GROUP}), run on one worker")
    if proposal == text:
        print("nothing to change: the policy already says so")
        return 0
    from test_policy_engine.cli.init import diff

    print(diff(args.policy, text, proposal), end="")
    parse_policy(proposal.encode(), str(policy_path))  # the change is a valid policy
    if not args.write:
        print("not written: run again with --write to apply it")
        return 1
    write_atomic(policy_path, proposal)
    print(f"wrote {policy_path}")
    return 0
