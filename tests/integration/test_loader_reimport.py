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
