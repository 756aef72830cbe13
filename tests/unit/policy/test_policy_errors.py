"""Every mistake in policy.yaml is one located line, exit code 2, never a traceback."""

from __future__ import annotations

import textwrap

import pytest
from test_policy_engine.cli.main import main
from test_policy_engine.policy.errors import UserError
from test_policy_engine.policy.loader import parse_policy

VALID = """\
version: 1
categories:
  unit: {limit: 1, default: true, paths: ["tests/unit/**"]}
  slow: {limit: 30, markers: [slow]}
"""


def errors_of(text: str) -> list[str]:
    with pytest.raises(UserError) as info:
        parse_policy(textwrap.dedent(text).encode(), "policy.yaml")
    return str(info.value).splitlines()


CASES = [
    pytest.param(
        "version: 1\ncategories: [1\n",
        "policy.yaml:3:1: YAML syntax error: while parsing a flow sequence, "
        "expected ',' or ']', but got '<stream end>'",
        id="yaml-syntax",
    ),
    pytest.param(
        "version: 1\ncategories: &x [*x]\n",
        "policy.yaml:2:17: YAML aliases are not supported (got *x); "
        "hint: write the value out in full",
        id="recursive-alias",
    ),
    pytest.param(
        "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
        "c: [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nversion: 1\n",
        "policy.yaml:2:8: YAML aliases are not supported (got *a); "
        "hint: write the value out in full",
        id="alias-bomb",
    ),
    pytest.param(
        "",
        "policy.yaml:1:1: the policy is empty; hint: start from 'test-policy init' "
        "or the README's example",
        id="empty",
    ),
    pytest.param(
        "# only a comment\n",
        "policy.yaml:1:1: the policy is empty; hint: start from 'test-policy init' "
        "or the README's example",
        id="only-comments",
    ),
    pytest.param(
        "- a\n- b\n",
        "policy.yaml:1:1: the policy must be a mapping of settings (got a list)",
        id="not-a-mapping",
    ),
    pytest.param(
        VALID + "warn_ration: 0.5\n",
        "policy.yaml:5:1: warn_ration: unknown key (got 'warn_ration'); "
        "hint: did you mean 'warn_ratio'?",
        id="unknown-top-level-key",
    ),
    pytest.param(
        VALID + "parallel: {wrokers: 2}\n",
        "policy.yaml:5:12: parallel.wrokers: unknown key (got 'wrokers'); "
        "hint: did you mean 'workers'?",
        id="unknown-nested-key",
    ),
    pytest.param(
        VALID.replace("markers: [slow]", "markers: [slow], colour: red"),
        "policy.yaml:4:38: categories.slow.colour: unknown key (got 'colour'); "
        "hint: known keys: audit_limit, default, description, forbid, limit, markers, paths",
        id="unknown-key-far-from-any",
    ),
    pytest.param(
        VALID + "categories: {}\n",
        "policy.yaml:5:1: categories: duplicate key (first set at line 2); "
        "hint: YAML keeps only one of them; remove the other",
        id="duplicate-key",
    ),
    pytest.param(
        VALID.replace("limit: 1,", "limit: fast,"),
        "policy.yaml:3:17: categories.unit.limit: must be a number (got 'fast'); "
        "hint: a limit is a number of seconds greater than 0, e.g. 1 or 0.5",
        id="wrong-type",
    ),
    pytest.param(
        VALID.replace("limit: 1,", "limit: 0,"),
        "policy.yaml:3:17: categories.unit.limit: must be greater than 0 seconds (got 0); "
        "hint: a limit is a number of seconds greater than 0, e.g. 1 or 0.5",
        id="zero-limit",
    ),
    pytest.param(
        VALID.replace("limit: 1,", "limit: -2.5,"),
        "policy.yaml:3:17: categories.unit.limit: must be greater than 0 seconds (got -2.5); "
        "hint: a limit is a number of seconds greater than 0, e.g. 1 or 0.5",
        id="negative-limit",
    ),
    pytest.param(
        VALID.replace("limit: 1,", "limit: .nan,"),
        "policy.yaml:3:17: categories.unit.limit: must be a finite number of seconds "
        "(got nan); hint: a limit is a number of seconds greater than 0, e.g. 1 or 0.5",
        id="nan-limit",
    ),
    pytest.param(
        VALID.replace("limit: 30", "limit: .inf"),
        "policy.yaml:4:17: categories.slow.limit: must be a finite number of seconds "
        "(got inf); hint: a limit is a number of seconds greater than 0, e.g. 1 or 0.5",
        id="infinite-limit",
    ),
    pytest.param(
        VALID.replace(" default: true,", ""),
        "policy.yaml:2:1: categories: no category is the default (got none with "
        "'default: true'); hint: mark the category for tests that match no path or "
        "marker with 'default: true'",
        id="no-default",
    ),
    pytest.param(
        VALID.replace("limit: 30,", "limit: 30, default: true,"),
        "policy.yaml:4:21: categories.slow.default: only one category may be the default "
        "(got 'unit' and 'slow'); hint: remove 'default: true' from all but one category",
        id="two-defaults",
    ),
    pytest.param(
        VALID.replace('"tests/unit/**"', '"/abs/tests/**"'),
        "policy.yaml:3:43: categories.unit.paths[0]: a glob is relative to the project "
        "root, not an absolute path (got '/abs/tests/**')",
        id="absolute-glob",
    ),
    pytest.param(
        VALID + "banned:\n  - {id: real-sleep, calls: [time.sleep], why: w, fix: f, "
        "min_seconds: 0}\n",
        "policy.yaml:6:72: banned[0].min_seconds: must be greater than 0.0 (got 0)",
        id="min-seconds-zero-would-fail-the-generated-rule-tests",
    ),
    pytest.param(
        VALID.replace('"tests/unit/**"', '"tests/][/**"'),
        "policy.yaml:3:43: categories.unit.paths[0]: a ']' without its '[' "
        "(got 'tests/][/**')",
        id="bracket-glob-that-once-looped",
    ),
    pytest.param(
        VALID.replace('"tests/unit/**"', '"tests/[z-a]/**"'),
        "policy.yaml:3:43: categories.unit.paths[0]: the range 'z-a' is reversed; write "
        "'a-z' (got 'tests/[z-a]/**')",
        id="reversed-range-glob",
    ),
    pytest.param(
        VALID.replace('"tests/unit/**"', '"tests/unit/"'),
        "policy.yaml:3:43: categories.unit.paths[0]: a glob that ends with '/' matches no "
        "file; add '**' to match everything below it (got 'tests/unit/')",
        id="directory-glob",
    ),
    pytest.param(
        VALID.replace('"tests/unit/**"', '"../tests/**"'),
        "policy.yaml:3:43: categories.unit.paths[0]: a glob must not contain '.' or '..' "
        "directories (got '../tests/**')",
        id="parent-glob",
    ),
    pytest.param(
        VALID.replace('"tests/unit/**"', '"tests\\\\unit\\\\**"'),
        "policy.yaml:3:43: categories.unit.paths[0]: use '/' between directories, not '\\' "
        "(got 'tests\\\\unit\\\\**')",
        id="backslash-glob",
    ),
    pytest.param(
        VALID.replace("markers: [slow]", "markers: [skip]"),
        "policy.yaml:4:31: categories.slow.markers[0]: 'skip' is a marker pytest or one of "
        "its plugins already defines (got 'skip')",
        id="builtin-marker",
    ),
    pytest.param(
        VALID.replace("markers: [slow]", "markers: [timeout]"),
        "policy.yaml:4:31: categories.slow.markers[0]: 'timeout' is a marker pytest or one "
        "of its plugins already defines (got 'timeout')",
        id="plugin-marker",
    ),
    pytest.param(
        VALID + "banned:\n  - {id: real-sleep, calls: [sleep], why: w, fix: f}\n",
        "policy.yaml:6:30: banned[0].calls[0]: must be a dotted name such as 'time.sleep' "
        "or 'requests.get' (got 'sleep')",
        id="banned-call-not-dotted",
    ),
    pytest.param(
        VALID + "banned:\n  - {id: real-sleep, calls: [time.sleep()], why: w, fix: f}\n",
        "policy.yaml:6:30: banned[0].calls[0]: must be a dotted name such as 'time.sleep' "
        "or 'requests.get' (got 'time.sleep()')",
        id="banned-call-with-parentheses",
    ),
    pytest.param(
        VALID + "timeout_method: threads\n",
        "policy.yaml:5:17: timeout_method: must be one of 'signal' or 'thread' "
        "(got 'threads')",
        id="bad-literal",
    ),
    pytest.param(
        VALID + "parallel: {workers: many}\n",
        "policy.yaml:5:21: parallel.workers: must be 'auto' or a number of workers "
        "(got 'many'); hint: use 'auto' or a number of workers such as 4",
        id="bad-workers",
    ),
    pytest.param(
        VALID + "warn_ratio: 80\n",
        "policy.yaml:5:13: warn_ratio: must be at most 1.0 (got 80); "
        "hint: a fraction of the limit, e.g. 0.8 for 80 %",
        id="warn-ratio-as-percent",
    ),
    pytest.param(
        "categories:\n  unit: {limit: 1, default: true}\n",
        "policy.yaml:1:1: version: required setting is missing; hint: add 'version: 1' "
        "at the top",
        id="missing-version",
    ),
    pytest.param(
        VALID.replace("slow: {limit: 30, markers: [slow]}", "slow: {markers: [slow]}"),
        "policy.yaml:4:3: categories.slow.limit: required setting is missing",
        id="missing-limit",
    ),
    pytest.param(
        VALID.replace("markers: [slow]", "markers: slow"),
        "policy.yaml:4:30: categories.slow.markers: must be a list (got 'slow')",
        id="string-instead-of-list",
    ),
    pytest.param(
        VALID + "audit: {junit_files: {'frontend*.xml': web}}\n",
        "policy.yaml:5:23: audit.junit_files.frontend*.xml: unknown category (got 'web'); "
        "hint: use one of: slow, unit",
        id="audit-unknown-category",
    ),
    pytest.param(
        VALID.replace("slow: {limit: 30, markers: [slow]}",
                      "slow: {limit: 30, markers: [slow]}\n  db: {limit: 9, markers: [slow]}"),
        "policy.yaml:5:28: categories.db.markers[0]: marker 'slow' already belongs to "
        "category 'slow'; hint: a marker can put a test in one category only",
        id="marker-in-two-categories",
    ),
    pytest.param(
        VALID + "version_: 1\nbanned: 3\n",
        "policy.yaml:5:1: version_: unknown key (got 'version_'); "
        "hint: did you mean 'version'?",
        id="several-problems-first-line",
    ),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_each_mistake_is_reported_on_its_own_located_line(text, expected):
    assert errors_of(text)[0] == expected


def test_every_problem_in_a_file_is_reported_not_just_the_first():
    lines = errors_of(VALID + "version_: 1\nbanned: 3\n")
    assert lines == [
        "policy.yaml:5:1: version_: unknown key (got 'version_'); hint: did you mean 'version'?",
        "policy.yaml:6:9: banned: must be a list (got 3)",
    ]


def test_a_binary_file_is_refused_as_not_text():
    with pytest.raises(UserError, match=r"^policy.yaml:1:1: not a text file"):
        parse_policy(b"\x89PNG\r\n\x1a\n\x00\x00", "policy.yaml")


def test_a_file_in_another_encoding_is_refused_as_not_utf8_at_its_line_and_column():
    with pytest.raises(UserError, match=r"^policy.yaml:1:10: not UTF-8 text \(bad byte 0xe9\)"):
        parse_policy("version: \xe9".encode("latin-1"), "policy.yaml")


def test_a_bad_byte_after_multibyte_characters_is_located_in_characters_not_bytes():
    data = "version: 1\n# caf\u00e9 \u2192 ".encode() + b"\xff\n"
    with pytest.raises(UserError, match=r"^policy.yaml:2:10: not UTF-8 text \(bad byte 0xff\)"):
        parse_policy(data, "policy.yaml")


def test_a_bad_byte_on_the_first_line_after_a_byte_order_mark_is_located_without_it():
    with pytest.raises(UserError, match=r"^policy.yaml:1:3: not UTF-8"):
        parse_policy(b"\xef\xbb\xbf# \x80", "policy.yaml")


def test_the_message_names_the_file_as_the_user_gave_it(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "p.yaml").write_text(VALID.replace("limit: 1,", "limit: -1,"))
    assert main(["check", "--policy", "conf/p.yaml"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("conf/p.yaml:3:17: categories.unit.limit: must be greater than 0")


def test_a_missing_policy_file_is_an_input_error(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["check"]) == 2
    assert capsys.readouterr().err == (
        "policy.yaml: policy file not found; hint: create one with 'test-policy init' "
        "or pass --policy PATH\n"
    )
