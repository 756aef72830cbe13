"""The policy loader after PyYAML was imported a second time in one process (pytester's
in-process runs restore `sys.modules`, so the next run imports `yaml` afresh while its
libyaml extension, never imported twice, still builds the first import's nodes)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

REIMPORT = """
import sys

import yaml
import yaml._yaml  # the extension stays loaded, as in a real process
assert yaml.__with_libyaml__, "this check needs PyYAML built with libyaml"
for name in [m for m in sys.modules if m == "yaml" or m.startswith("yaml.")]:
    if name != "yaml._yaml":
        del sys.modules[name]
import yaml  # a second `yaml`, whose node classes libyaml does not build
"""
SCRIPT = REIMPORT + """
from test_policy_engine.policy.loader import load_policy

policy = load_policy(sys.argv[1])
print(sorted(policy.categories))
"""
DISCOVER = REIMPORT + """
from pathlib import Path

from test_policy_engine.policy.discovery import find_policy

root = Path(sys.argv[1])
print(find_policy(None, "", None, root, root))
"""


def test_the_shipped_policy_loads_after_pyyaml_was_imported_again():
    done = subprocess.run(  # nosemgrep: test-policy.real-subprocess (a fresh interpreter)
        [sys.executable, "-c", SCRIPT, str(ROOT / "policy.yaml")], capture_output=True,
        text=True, timeout=20, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "['integration', 'slow', 'unit']"


def test_an_unrelated_policy_yaml_is_left_alone_after_pyyaml_was_imported_again(tmp_path):
    # Read as a broken test policy, it made every pytester run after an in-process one
    # on the same worker a usage error.
    (tmp_path / "policy.yaml").write_text("kind: Policy\nspec: {rules: []}\n")
    done = subprocess.run(  # nosemgrep: test-policy.real-subprocess (a fresh interpreter)
        [sys.executable, "-c", DISCOVER, str(tmp_path)], capture_output=True,
        text=True, timeout=20, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "None"


STALE_LIBYAML = """
import sys

import test_policy_engine.policy.libyaml  # looked at for the first `yaml`
from test_policy_engine.policy.libyaml import fast_loader

fast_loader()
for name in [m for m in sys.modules if m == "yaml" or m.startswith("yaml.")
             or m.startswith("test_policy_engine.policy.")]:
    if name != "yaml._yaml":
        del sys.modules[name]  # as pytester's restore does; the package keeps its attribute
import yaml  # a second `yaml`

from test_policy_engine.policy.loader import load_policy  # finds the stale libyaml

print(sorted(load_policy(sys.argv[1]).categories))
"""


def test_the_policy_loads_when_the_loader_finds_libyaml_from_before_the_second_import():
    # What an in-process audit after another in-process one did (exit 2: "the policy
    # must be a mapping of settings").
    done = subprocess.run(  # nosemgrep: test-policy.real-subprocess (a fresh interpreter)
        [sys.executable, "-c", STALE_LIBYAML, str(ROOT / "policy.yaml")],
        capture_output=True, text=True, timeout=20, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "['integration', 'slow', 'unit']"
