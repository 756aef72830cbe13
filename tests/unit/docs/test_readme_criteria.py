"""The README's success-criteria table names tests that exist."""

import re

from tests.conftest import ROOT


def test_every_test_the_success_criteria_table_names_exists():
    readme = (ROOT / "README.md").read_text()
    table = readme.split("## The seed's success criteria", 1)[1].split("\n## ", 1)[0]
    named = re.findall(r"`(tests/[\w/]+\.py)::(test_\w+)`", table)
    assert len(named) >= 8
    for path, name in named:
        source = (ROOT / path).read_text()
        assert re.search(rf"^def {name}\(", source, flags=re.M), f"{path}::{name} is gone"
