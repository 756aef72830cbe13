"""Leaving out of a run the clearing forms that no file of it can match (`lint.prune`)."""

from __future__ import annotations

import json
from pathlib import Path

from test_policy_engine.lint import plan
from test_policy_engine.lint.prune import prune, strip, tag, tags

ROOT = Path(__file__).resolve().parents[3]

RULE = {
    "id": "r",
    "patterns": [
        {"pattern": "net.get(...)"},
        {"pattern-not-inside": {"patterns": [
            {"pattern-either": [
                {"pattern": "with $PATCH(...):\n  ...\n"},
                tag({"pattern": "@pytest.fixture(autouse=True)\ndef $F(): ..."},
                    (("autouse",),)),
            ]},
            {"metavariable-regex": {"metavariable": "$PATCH", "regex": "^patch$"}},
        ]}},
        {"pattern-not-inside": tag("def $F(..., fake_net, ...):\n  ...\n", (("fake_net",),))},
    ],
}


def test_a_form_whose_needs_are_met_is_kept_unwrapped_and_the_others_are_left_out():
    assert tags(RULE) == {(("autouse",),), (("fake_net",),)}
    kept = prune(RULE, lambda needs: needs == (("autouse",),))
    text = json.dumps(kept)
    assert "autouse" in text and "fake_net" not in text and "x-test-policy" not in text
    assert len(kept["patterns"]) == 2  # the fixture's pattern-not-inside is gone
    assert strip(RULE)["patterns"][2] == {
        "pattern-not-inside": "def $F(..., fake_net, ...):\n  ...\n"}


def test_an_either_left_with_no_branch_matches_nothing_and_its_negative_goes():
    only_tagged = {"patterns": [
        {"pattern": "net.get(...)"},
        {"pattern-not-inside": {"pattern-either": [tag("a", (("x",),)), tag("b", (("y",),))]}},
    ]}
    assert prune(only_tagged, lambda needs: False) == {"patterns": [{"pattern": "net.get(...)"}]}
    # a positive term that can match nothing makes its conjunction match nothing
    positive = {"patterns": [{"pattern-inside": tag("def $F(): ...", (("x",),))},
                             {"pattern": "net.get(...)"}]}
    assert prune(positive, lambda needs: False) is None
    branch = {"pattern-either": [{"pattern": "net.get(...)"}, positive]}
    assert prune(branch, lambda needs: False) == {"pattern-either": [{"pattern": "net.get(...)"}]}


def test_a_run_passes_the_un_clearing_branch_only_where_a_file_lets_real_calls_through(
        tmp_path: Path):
    built = plan.load(ROOT / "policy.yaml", tmp_path / "cache").plan
    plain = b"import subprocess\n\ndef test_a(fp):\n    subprocess.run(['git'])\n"
    passing = plain + b"\ndef test_b(fp):\n    fp.allow_unregistered(True)\n"

    def patterns(config: str) -> str:
        (only,) = json.loads(config)["rules"]
        assert only["id"] == "subprocess-run.test-policy.real-subprocess"
        return json.dumps(only["patterns"])

    lean = patterns(built.config(built.met([plain])))
    full = patterns(built.config(built.met([passing])))
    assert "allow_unregistered" not in lean and "autouse" not in lean
    assert "def $FUNC(..., fp, ...)" in lean  # the fixture the file names
    assert "allow_unregistered" in full
    assert "x-test-policy" not in lean + full + built.config()
