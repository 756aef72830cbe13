"""The generated Semgrep rules as text: deterministic, owned, in sync, and refused on bad input."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from test_policy_engine.cli.generate import MANIFEST, check, write_rules
from test_policy_engine.cli.main import main
from test_policy_engine.lint.prune import strip
from test_policy_engine.policy.errors import UserError
from test_policy_engine.policy.loader import load_policy, parse_policy
from test_policy_engine.rules.semgrep import (
    MARK,
    PATCH_CALLABLE,
    catalogue,
    lint_rules,
    render_rules,
    rule,
    targets_clearing,
)

ROOT = Path(__file__).resolve().parents[3]


def _load_yaml(text: str) -> Any:
    """YAML with libyaml where present: the generated rules are 140 KB of it."""
    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
POLICY = ROOT / "policy.yaml"


@pytest.fixture
def policy_text() -> str:
    return POLICY.read_text(encoding="utf-8")


@pytest.fixture
def project(tmp_path: Path, policy_text: str) -> Path:
    (tmp_path / "policy.yaml").write_text(policy_text, encoding="utf-8")
    return tmp_path


def run_in(path: Path, *argv: str) -> int:
    old = Path.cwd()
    os.chdir(path)
    try:
        return main(list(argv))
    finally:
        os.chdir(old)


def test_rendering_twice_gives_the_same_bytes_in_sorted_order():
    policy = load_policy(POLICY)
    first, second = render_rules(policy), render_rules(policy)
    assert first == second
    assert list(first) == sorted(first)


def test_there_is_one_rule_per_banned_pattern_with_a_stable_id():
    policy = load_policy(POLICY)
    files = render_rules(policy)
    for pattern in policy.banned:
        data = _load_yaml(files[f"{pattern.id}.yaml"])
        (rule,) = data["rules"]
        assert rule["id"] == f"test-policy.{pattern.id}"
        assert rule["paths"]["include"] == list(policy.lint.paths)
        assert f"# nosemgrep: test-policy.{pattern.id}" in rule["message"]
        assert pattern.why.rstrip(".") in rule["message"]
        assert f"{pattern.id}.py" in files


def test_a_rule_skips_the_lint_excludes_and_the_paths_its_pattern_is_allowed_in():
    files = render_rules(load_policy(POLICY))
    subprocess_rule = _load_yaml(files["real-subprocess.yaml"])["rules"][0]
    sleep_rule = _load_yaml(files["real-sleep.yaml"])["rules"][0]
    assert subprocess_rule["paths"]["exclude"] == ["examples/**", "tests/integration/**"]
    assert sleep_rule["paths"]["exclude"] == ["examples/**"]


def test_every_generated_file_says_it_is_generated_and_how_to_regenerate():
    for name, text in render_rules(load_policy(POLICY)).items():
        assert text.startswith(MARK + " from policy.yaml"), name
        assert "run `test-policy generate` to regenerate" in text.splitlines()[1], name


def test_the_shipped_rules_are_in_sync_with_the_shipped_policy(capsys):
    assert run_in(ROOT, "generate", "--check") == 0
    assert capsys.readouterr().out == ""


def test_min_seconds_and_safe_kwargs_reach_the_rule():
    policy = parse_policy(b"""
version: 1
categories: {unit: {limit: 1, default: true}}
banned:
  - id: nap
    calls: [clock.nap]
    why: "waits"
    fix: "do not"
    min_seconds: 0.5
    safe_kwargs: [fake]
""", "policy.yaml")
    text = render_rules(policy)["nap.yaml"]
    assert "$DELAY >= 0.5" in text
    assert "$CALLEE(..., fake=$SAFE, ...)" in text
    sample = render_rules(policy)["nap.py"]
    assert "# ruleid: test-policy.nap\n    clock.nap(2)" in sample
    assert "# ok: test-policy.nap\n    clock.nap(0.25)" in sample
    assert "clock.nap(fake=fake)" in sample


def test_generate_writes_the_files_and_check_then_passes(project: Path, capsys):
    assert run_in(project, "generate") == 0
    names = sorted(p.name for p in (project / "rules").iterdir())
    assert names == sorted([*render_rules(load_policy(project / "policy.yaml")), MANIFEST])
    assert run_in(project, "generate", "--check") == 0
    assert not list((project / "rules").glob(".*.tmp"))


def test_check_shows_a_diff_of_a_hand_edit_and_writes_nothing(project: Path, capsys):
    assert run_in(project, "generate") == 0
    edited = project / "rules" / "real-sleep.yaml"
    edited.write_text(edited.read_text().replace("severity: ERROR", "severity: INFO"))
    before = {p.name: p.read_bytes() for p in (project / "rules").iterdir()}
    capsys.readouterr()
    assert run_in(project, "generate", "--check") == 1
    out, err = capsys.readouterr()
    assert "--- rules/real-sleep.yaml (on disk)" in out
    assert "-  severity: INFO\n+  severity: ERROR" in out
    assert "run `test-policy generate`" in err
    assert {p.name: p.read_bytes() for p in (project / "rules").iterdir()} == before


def test_check_fails_when_the_policy_changed_after_generating(project: Path, capsys):
    assert run_in(project, "generate") == 0
    policy = project / "policy.yaml"
    policy.write_text(policy.read_text().replace("min_seconds: 0.01", "min_seconds: 0.1", 1))
    assert run_in(project, "generate", "--check") == 1
    assert re.search(r"^\+ +comparison: \$DELAY >= 0\.1$", capsys.readouterr().out, re.M)


def test_generate_removes_the_stale_files_its_manifest_lists_and_keeps_the_others(
        project: Path, capsys):
    assert run_in(project, "generate") == 0
    rules = project / "rules"
    # As if an earlier policy had a pattern 'gone': generate wrote it and listed it.
    (rules / "gone.yaml").write_text(MARK + " from policy.yaml (banned pattern 'gone')\n")
    with (rules / MANIFEST).open("a") as listed:
        listed.write("gone.yaml\n")
    (rules / "ours.yaml").write_text("rules: []\n")
    backup = (rules / "real-sleep.yaml").read_text()
    (rules / "real-sleep.yaml.bak.yaml").write_text(backup)  # starts with the header
    assert run_in(project, "generate", "--check") == 1
    assert "--- rules/gone.yaml (on disk)\n+++ /dev/null" in capsys.readouterr().out
    assert run_in(project, "generate") == 0
    assert not (rules / "gone.yaml").exists()
    assert (rules / "ours.yaml").read_text() == "rules: []\n"
    assert (rules / "real-sleep.yaml.bak.yaml").read_text() == backup


def test_a_temporary_file_left_by_a_killed_generate_fails_check_and_generate_removes_it(
        project: Path, capsys):
    assert run_in(project, "generate") == 0
    leftover = project / "rules" / ".real-sleep.yaml.x1y2z3.tmp"
    leftover.write_text("half")
    assert run_in(project, "generate", "--check") == 1
    assert f"stale temporary file rules/{leftover.name}" in capsys.readouterr().out
    assert run_in(project, "generate") == 0
    assert not leftover.exists()


def test_a_rules_symlink_out_of_the_project_is_refused_unless_named(project: Path, capsys,
                                                                    tmp_path_factory):
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    (project / "rules").symlink_to(elsewhere)
    assert run_in(project, "generate") == 2
    assert "outside the policy's directory; hint: pass --rules DIR" in capsys.readouterr().err
    assert not list(elsewhere.iterdir())
    assert run_in(project, "generate", "--rules", str(elsewhere)) == 0
    assert (elsewhere / MANIFEST).is_file()


def test_write_rules_returns_every_generated_path(tmp_path: Path):
    policy = load_policy(POLICY)
    paths = write_rules(policy, tmp_path / "rules")
    assert [p.name for p in paths] == list(render_rules(policy))
    assert check(policy, tmp_path / "rules") == ""


@pytest.mark.parametrize(
    ("old", "new", "where"),
    [
        ("calls: [time.sleep]", "calls: ['time.sleep(']", "banned[0].calls[0]"),
        ("targets: [time.sleep]", "targets: [\"mocker.patch('time.sleep')\"]",
         "banned[0].cleared_by.targets[0]"),
        ("fixtures: [fake_process, fp]", "fixtures: [fake_process, 'f p']",
         "banned[5].cleared_by.fixtures[1]"),
        ("calls: [asyncio.sleep]", "calls: [time.sleep]", "banned[1].calls[0]"),
    ],
)
def test_bad_input_is_a_located_error_and_nothing_is_written(
    project: Path, capsys, old: str, new: str, where: str
):
    policy = project / "policy.yaml"
    text = policy.read_text()
    assert old in text
    policy.write_text(text.replace(old, new, 1))
    assert run_in(project, "generate") == 2
    err = capsys.readouterr().err
    line = [n for n, t in enumerate(policy.read_text().splitlines(), 1) if new in t][-1]
    assert err.startswith(f"policy.yaml:{line}:")
    assert f": {where}: " in err
    assert not (project / "rules").exists()


def test_lint_without_semgrep_names_the_install_command(project: Path, capsys, monkeypatch):
    monkeypatch.setenv("PATH", str(project))
    assert run_in(project, "lint") == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "pip install 'test-policy-engine[semgrep]'" in err


def test_the_docs_catalogue_matches_the_shipped_policy():
    rules_doc = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    assert catalogue(load_policy(POLICY)) in rules_doc


HOOK_SAMPLES = [
    "tests/unit/test_x.py", "tests/helpers.py", "tests/conftest.py", "conftest.py",
    "src/app/conftest.py", "test_top.py", "src/pkg/test_mod.py", "src/pkg/mod_test.py",
    "src/pkg/mod.py", "docs/conf.py", "setup.py", "src/tests/test_deep.py",
    "rules/real-sleep.py", "src/pkg/testing.py", "contest.py",
]


@pytest.mark.parametrize("hooks_file", [".pre-commit-config.yaml", ".pre-commit-hooks.yaml"])
def test_the_semgrep_hook_selects_the_files_the_default_lint_globs_select(hooks_file: str):
    from test_policy_engine.policy.globs import first_match
    from test_policy_engine.policy.model import Lint

    config = _load_yaml((ROOT / hooks_file).read_text())
    hooks = config if isinstance(config, list) else config["repos"][0]["hooks"]
    (hook,) = [h for h in hooks if h["id"] == "test-policy-semgrep"]
    files = re.compile(hook["files"])
    globs = Lint().paths
    for path in HOOK_SAMPLES:
        assert bool(files.search(path)) == (first_match(globs, path) is not None), path
    assert hook["require_serial"] is True
    assert hook["language"] == "python"
    assert hook["additional_dependencies"] == ["semgrep==1.180.0"]
    assert hook["entry"] == "test-policy lint"  # the engine selects the files, then Semgrep


def test_a_file_that_cannot_be_replaced_is_an_error_and_leaves_no_temporary_files(
    project: Path, capsys
):
    blocker = project / "rules" / "real-sleep.yaml"
    blocker.mkdir(parents=True)
    assert run_in(project, "generate") == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "cannot write the rules" in err
    assert not list((project / "rules").glob(".*.tmp"))
    assert blocker.is_dir()


PRECISION_POLICY = b"""
version: 1
categories: {unit: {limit: 1, default: true}}
banned:
  - id: net
    calls: [net.get, net.post, net.Client.send, other.call]
    why: "network"
    fix: "mock it"
    cleared_by:
      targets: [net.get, net.post, net.Client, net.Pool.request]
      fixtures: [fake_net]
"""


def test_a_patch_clears_its_own_call_or_one_below_its_module_or_class_and_no_other():
    (pattern,) = parse_policy(PRECISION_POLICY, "policy.yaml").banned
    # net.Pool.request names none of the calls: a layer every call goes through
    assert targets_clearing(pattern, "net.get") == ("net.Pool.request", "net.get")
    assert targets_clearing(pattern, "net.post") == ("net.Pool.request", "net.post")
    assert targets_clearing(pattern, "net.Client.send") == ("net.Client", "net.Pool.request")
    assert targets_clearing(pattern, "other.call") == ("net.Pool.request",)


def test_lint_runs_one_rule_per_call_each_with_only_the_patches_that_clear_it():
    policy = parse_policy(PRECISION_POLICY, "policy.yaml")
    (pattern,) = policy.banned
    split = [part.data for part in lint_rules(pattern, policy.lint)]
    assert [data["id"] for data in split] == [
        "net-get.test-policy.net", "net-post.test-policy.net", "net-Client-send.test-policy.net",
        "other-call.test-policy.net"]
    # a file must spell every name of the part's call for it to flag anything there
    assert [part.needs for part in lint_rules(pattern, policy.lint)] == [
        (("net", "get"),), (("net", "post"),), (("net", "Client", "send"),),
        (("other", "call"),)]
    whole = rule(pattern, policy.lint)
    assert all(data["message"] == whole["message"] for data in split)
    get, post, send, other = (yaml.safe_dump(data["patterns"]) for data in split)
    assert "net.get(...)" in get and "net.post" not in get
    assert "net.post(...)" in post and "net\\.get" not in post
    assert "net.Client" in send and "net\\.get" not in send
    # the layer under every call and the fixture reach each part
    for text in (get, post, send, other):
        assert "net\\.Pool\\.request" in text and "fake_net" in text


def test_a_rule_with_local_servers_or_a_single_call_is_run_whole():
    policy = load_policy(POLICY)
    for pattern in policy.banned:
        split = [strip(part.data) for part in lint_rules(pattern, policy.lint)]
        if pattern.local_servers is not None or len(pattern.calls) == 1:
            assert split == [rule(pattern, policy.lint)]
        else:
            assert len(split) == len(pattern.calls) + (pattern.clients is not None)
            assert all(data["id"].endswith("." + whole_id) for data in split
                       for whole_id in [rule(pattern, policy.lint)["id"]])
        # between them, the parts need each call and client class, and nothing else
        names = {".".join(n) for part in lint_rules(pattern, policy.lint) for n in part.needs}
        assert names == {*pattern.calls, *(pattern.clients.classes if pattern.clients else ())}


def test_calls_of_one_owner_share_a_block_and_fixtures_and_layers_stay_pattern_wide():
    policy = parse_policy(PRECISION_POLICY, "policy.yaml")
    rule = _load_yaml(render_rules(policy)["net.yaml"])["rules"][0]
    blocks, layer, fixture, *_ = rule["patterns"]
    shared, client, other = blocks["pattern-either"]
    get, post = shared["patterns"][0]["pattern-either"]
    for each, name in ((get, "get"), (post, "post")):
        # the owner's calls, each with its own patch by dotted string (one regex literal)
        assert each["patterns"][:2] == [
            {"pattern": "net.$ATTR(...)"},
            {"metavariable-regex": {"metavariable": "$ATTR", "regex": f"^{name}$"}},
        ]
        assert f'$PATCH("=~/^(.*\\.)?(net\\.{name})$/", ...)\n...\n' in leaves(each)
        assert not [leaf for leaf in leaves(each) if "post" in leaf and name == "get"]
    # one patch-by-owner set for them all: `$ATTR` ties the patched name to the call
    assert '$PATCH(net, "$ATTR", ...)\n...\n' in leaves(shared["patterns"][1])
    assert "$TARGET" not in yaml.safe_dump(rule)
    assert client["patterns"][0] == {"pattern": "net.Client.send(...)"}
    assert '$PATCH(net, "Client", ...)\n...\n' in leaves(client)
    assert not [leaf for leaf in leaves(client) if "get" in leaf or "Pool" in leaf]
    assert other == {"pattern": "other.call(...)"}
    assert '$PATCH(net.Pool, "request", ...)\n...\n' in leaves(layer)
    assert fixture == {"pattern-not-inside": "def $FUNC(..., fake_net, ...):\n  ...\n"}


@pytest.mark.parametrize("callable_", ["mocker.patch", "patch", "mock.patch", "unittest.mock.patch",
                                       "patch.object", "mocker.patch.object",
                                       "mock.patch.object", "monkeypatch.setattr", "setattr"])
def test_a_patch_like_callable_can_clear(callable_: str):
    assert re.match(PATCH_CALLABLE, callable_)


@pytest.mark.parametrize("callable_", ["print", "log.info", "mocker.spy", "mocker.stub",
                                       "pytest.mark.filterwarnings", "patch.dict", "dispatch"])
def test_any_other_callable_naming_the_target_clears_nothing(callable_: str):
    assert not re.match(PATCH_CALLABLE, callable_)


def leaves(formula: Any) -> list[str]:
    """Every pattern text in a rule formula."""
    return leaves_under_guard(formula, guarded=True)


def test_every_patch_form_is_restricted_to_patch_like_callables():
    policy = load_policy(POLICY)
    for pattern in policy.banned:
        found = rule(pattern, policy.lint)
        patches = [leaf for leaf in leaves(found["patterns"]) if "$PATCH" in leaf]
        assert patches, pattern.id
        unguarded = [leaf for leaf in patches if leaf not in leaves_under_guard(found)]
        assert unguarded == [], pattern.id


def leaves_under_guard(formula: Any, guarded: bool = False) -> list[str]:
    """The pattern texts under a `patterns:` that restricts `$PATCH` with a regex (all of
    them with `guarded`)."""
    found: list[str] = []
    if isinstance(formula, dict):
        items = formula.get("patterns", [])
        here = guarded or any(isinstance(i, dict) and
                              i.get("metavariable-regex", {}).get("metavariable") == "$PATCH"
                              for i in items)
        for key, value in formula.items():
            if isinstance(value, str) and key.startswith("pattern"):
                if guarded:
                    found.append(value)
            else:
                found += leaves_under_guard(value, here)
    elif isinstance(formula, list):
        for item in formula:
            found += leaves_under_guard(item, guarded)
    return found


PROCESS_FAMILY = {"subprocess.run", "subprocess.Popen", "subprocess.call", "subprocess.check_call",
                  "subprocess.check_output", "os.system", "os.popen",
                  "asyncio.create_subprocess_exec", "asyncio.create_subprocess_shell"}


def test_the_shipped_policy_bans_every_way_to_spawn_a_process_and_fp_clears_each():
    (pattern,) = [p for p in load_policy(POLICY).banned if p.id == "real-subprocess"]
    assert set(pattern.calls) == PROCESS_FAMILY
    assert {"fp", "fake_process"} <= set(pattern.cleared_by.fixtures)
    for call in PROCESS_FAMILY:
        assert call in targets_clearing(pattern, call)


CONTEXT_POLICY = b"""
version: 1
categories: {unit: {limit: 1, default: true}}
banned:
  - id: net
    calls: [net.get]
    why: "network"
    fix: "mock it"
    cleared_by:
      targets: [net.get]
      fixtures: [fake_net]
      context_managers: [netmock.Router]
      unless: [fake_net.passthrough]
"""


def test_a_context_manager_clears_in_every_with_form_sync_and_async():
    (pattern,) = parse_policy(CONTEXT_POLICY, "policy.yaml").banned
    text = render_rules(parse_policy(CONTEXT_POLICY, "policy.yaml"))["net.yaml"]
    # each form spelled out with the manager called and not (the prefilter needs its name)
    for form in ("with {}:", "with {} as $MOCK:", "async with {}:", "async with {} as $MOCK:"):
        for manager in ("netmock.Router(...)", "netmock.Router"):
            assert form.format(manager) in text
    assert "$MANAGER" not in text
    assert pattern.cleared_by.context_managers == ("netmock.Router",)


def test_an_unless_call_sends_the_test_down_a_branch_only_a_patch_clears():
    files = render_rules(parse_policy(CONTEXT_POLICY, "policy.yaml"))
    (rule,) = _load_yaml(files["net.yaml"])["rules"]
    *calls_and_patches, either = rule["patterns"]
    cleared, passing = either["pattern-either"]
    assert "fake_net" in yaml.safe_dump(cleared) and "netmock.Router" in yaml.safe_dump(cleared)
    passing_text = yaml.safe_dump(passing)
    assert "fake_net" not in passing_text.replace("fake_net.passthrough", "")
    assert "$PASSING.passthrough(...)" in passing_text
    # the calls and their patches come once, before the branches: a patch still clears
    shared = yaml.safe_dump(calls_and_patches)
    assert "net.get" in shared and "net.get" not in yaml.safe_dump(either)
    assert "# ruleid: test-policy.net" in files["net.py"].split("lets real calls through")[1]


def test_without_unless_calls_the_rule_has_a_single_branch():
    text = CONTEXT_POLICY.replace(b"      unless: [fake_net.passthrough]\n", b"")
    (rule,) = _load_yaml(render_rules(parse_policy(text, "p.yaml"))["net.yaml"])["rules"]
    assert "$PASSING" not in yaml.safe_dump(rule)
    assert len(rule["patterns"]) > 1


def test_the_catalogue_and_the_message_say_what_clears_and_what_un_clears():
    policy = parse_policy(CONTEXT_POLICY, "policy.yaml")
    entry = catalogue(policy)
    assert "- **Cleared when the test:** patches the call itself (net.get); uses the fixture" \
        " fake_net; runs it inside `with` netmock.Router (also bound to a name, then `with" \
        " name:` or `@name`, or started with `.start()`); is a method of a class whose" \
        " setup_method, setUp, asyncSetUp, setup_class or setUpClass makes such a patch or" \
        " starts such a mock." in entry
    assert "- **Un-cleared by:** `fake_net.passthrough(...)`" in entry
    message = _load_yaml(render_rules(policy)["net.yaml"])["rules"][0]["message"]
    assert "unless it calls fake_net.passthrough() (a patch still clears)" in message


@pytest.mark.parametrize("field", [b"context_managers: [netmock.Router]",
                                   b"unless: [fake_net.passthrough]"])
def test_a_context_manager_or_unless_that_is_not_a_dotted_name_is_refused(field: bytes):
    name = field.split(b":")[0]
    bad = CONTEXT_POLICY.replace(field, name + b": ['not a name']")
    with pytest.raises(UserError, match=f"{name.decode()}.*dotted name"):
        parse_policy(bad, "policy.yaml")


def test_a_newline_in_the_policy_file_name_stays_inside_the_generated_comment(
        project: Path, policy_text: str):
    name = "team\nrules: [oops]\n.yaml"
    (project / name).write_text(policy_text, encoding="utf-8")
    assert run_in(project, "generate", "--policy", name) == 0
    rule = (project / "rules" / "real-sleep.yaml").read_text(encoding="utf-8")
    assert "from team\\nrules: [oops]\\n.yaml (banned" in rule
    assert [line for line in rule.splitlines() if line.startswith("rules:")] == ["rules:"]
    assert _load_yaml(rule)["rules"][0]["id"] == "test-policy.real-sleep"
    sample = (project / "rules" / "real-sleep.py").read_text(encoding="utf-8")
    compile(sample, "real-sleep.py", "exec")  # still Python: the name did not end the comment


CLIENT_POLICY = b"""
version: 1
categories: {unit: {limit: 1, default: true}}
banned:
  - id: net
    calls: [net.get]
    clients:
      classes: [net.Client]
      methods: [get, send]
    why: "network"
    fix: "mock it"
    safe_kwargs: [transport]
    local_servers:
      fixtures: [local_server]
    cleared_by:
      targets: [net.get, net.Client]
      starts: [netmock.start]
      context_managers: [netmock.Router]
      unless_kwargs: [passthrough]
"""


def test_a_client_class_is_matched_by_its_requests_and_its_safe_construction_is_excluded():
    (rule_data,) = _load_yaml(
        render_rules(parse_policy(CLIENT_POLICY, "p.yaml"))["net.yaml"])["rules"]
    text = yaml.safe_dump(rule_data)
    # the binding and the construction spelled out (the prefilter needs the class's name)
    assert "pattern: $C.get(...)\n" in text and "pattern: $C.send(...)\n" in text
    assert "$C = net.Client(...)" in text and "with net.Client(...) as $C:" in text
    assert "$C = net.Client(..., transport=$SAFE, ...)" in text
    assert "pattern: net.Client(...).$METHOD(...)\n" in text and "^(get|send)$" in text
    assert "$CLIENT" not in text and "$C.$METHOD" not in text
    assert "$SERVER" in text and "^(local_server)$" in text


def test_a_client_class_that_is_also_a_call_is_refused_with_its_location():
    bad = CLIENT_POLICY.replace(b"calls: [net.get]", b"calls: [net.get, net.Client]")
    with pytest.raises(UserError, match=r"clients\.classes.*also one of the pattern's calls"):
        parse_policy(bad, "policy.yaml")


@pytest.mark.parametrize(("field", "bad"), [
    (b"starts: [netmock.start]", b"starts: ['netmock start']"),
    (b"unless_kwargs: [passthrough]", b"unless_kwargs: ['pass-through']"),
    (b"fixtures: [local_server]", b"fixtures: ['local server']"),
    (b"methods: [get, send]", b"methods: []"),
])
def test_the_new_cleared_by_fields_are_validated(field: bytes, bad: bytes):
    with pytest.raises(UserError):
        parse_policy(CLIENT_POLICY.replace(field, bad), "policy.yaml")


def test_the_generated_samples_cover_clients_setup_methods_bound_mocks_and_local_servers():
    files = render_rules(parse_policy(CLIENT_POLICY, "p.yaml"))
    main, bound = files["net.py"], files["net.bound.py"]
    assert "# ok: test-policy.net\n    client = net.Client()" in main
    assert "    with net.Client() as client:\n        # ruleid: test-policy.net\n" in main
    assert "    def setup_method(self):\n        netmock.start()" in main
    assert '# ruleid: test-policy.net\n    net.get("http://10.255.255.1/")' in main
    assert "@mocked_0\ndef " in bound
    assert "    with netmock.Router(passthrough=True):\n        # ruleid: test-policy.net" in main
