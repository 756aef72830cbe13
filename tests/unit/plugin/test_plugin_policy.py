"""The plain copy of a policy the pytest plugin keeps in pytest's cache: pure functions."""

import json

import pytest
from test_policy_engine.plugin.cache import (
    CACHE_KEY,
    cache_key,
    entry,
    from_json,
    from_policy,
    lookup,
    to_json,
    value_path,
)
from test_policy_engine.policy.categories import Classifier
from test_policy_engine.policy.loader import parse_policy

TEXT = b"""\
version: 1
timeout_method: thread
warn_ratio: 0.5
categories:
  unit: {limit: 1, default: true, paths: ["tests/unit/**"]}
  integration: {limit: 5, paths: ["tests/integration/**"], markers: [integration]}
  slow: {limit: 30, markers: [slow, sluggish], description: "known to be slow"}
  db: {limit: 10, paths: ["tests/integration/db/**", "test_db_*.py"]}
parallel:
  workers: 3
  dist: loadfile
  groups:
    db: ["tests/integration/db/**"]
"""
POLICY = parse_policy(TEXT, "policy.yaml")


def stored(plain_json: object) -> object:
    """What config.cache.set writes and reads back: JSON with its keys sorted."""
    return json.loads(json.dumps(plain_json, indent=2, sort_keys=True))


def test_the_stored_copy_reads_back_equal_to_the_validated_policy():
    plain = from_policy(POLICY)
    assert from_json(stored(to_json(plain))) == plain
    assert (plain.timeout_method, plain.warn_ratio) == ("thread", 0.5)
    assert (plain.parallel.workers, plain.parallel.dist) == (3, "loadfile")
    assert list(plain.categories) == ["unit", "integration", "slow", "db"]


def test_the_stored_copy_keeps_the_policys_order_of_categories_and_groups():
    text = TEXT.replace(b"    db: [", b"    zz: [\"tests/**\"]\n    db: [")
    plain = from_json(stored(to_json(from_policy(parse_policy(text, "policy.yaml")))))
    assert list(plain.categories) == ["unit", "integration", "slow", "db"]
    assert list(plain.parallel.groups) == ["zz", "db"]


@pytest.mark.parametrize("markers", [(), ("slow",), ("integration",), ("sluggish", "slow"),
                                     ("parametrize",)])
@pytest.mark.parametrize("path", ["tests/unit/test_a.py", "tests/integration/test_a.py",
                                  "tests/integration/db/test_a.py", "elsewhere/test_db_x.py",
                                  "elsewhere/test_a.py"])
def test_the_copy_classifies_every_test_as_the_validated_policy_does(path, markers):
    copy = Classifier(from_json(stored(to_json(from_policy(POLICY)))))
    assert copy.resolve(path, markers) == Classifier(POLICY).resolve(path, markers)
    assert copy.markers == Classifier(POLICY).markers


def test_the_key_changes_with_any_byte_of_the_policy():
    assert cache_key(TEXT) == cache_key(TEXT)
    assert cache_key(TEXT) != cache_key(TEXT.replace(b"limit: 1,", b"limit: 2,"))
    assert cache_key(TEXT) != cache_key(TEXT + b"\n")


def test_a_stored_copy_is_found_only_for_the_bytes_it_was_made_from(tmp_path):
    key = cache_key(TEXT)
    assert key is not None
    path = value_path(tmp_path)
    assert path == tmp_path / "v" / CACHE_KEY
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(entry(key, from_policy(POLICY))))
    assert lookup(tmp_path, TEXT) == (key, from_policy(POLICY))
    changed = TEXT.replace(b"warn_ratio: 0.5", b"warn_ratio: 0.6")
    assert lookup(tmp_path, changed) == (cache_key(changed), None)


def spoiled(change: str) -> object:
    data = stored(to_json(from_policy(POLICY)))
    assert isinstance(data, dict)
    categories = {name: value for name, value in data["categories"]}
    parallel = data["parallel"]
    assert isinstance(parallel, dict)
    if change == "categories as a mapping":
        data["categories"] = dict(categories)
    elif change == "missing field":
        del data["warn_ratio"]
    elif change == "extra field":
        data["banned"] = []
    elif change == "two defaults":
        categories["slow"]["default"] = True
    elif change == "limit as text":
        categories["unit"]["limit"] = "1"
    elif change == "bad workers":
        parallel["workers"] = 0
    elif change == "bad dist":
        parallel["dist"] = "anywhere"
    elif change == "bad method":
        data["timeout_method"] = "alarm"
    elif change == "paths as text":
        categories["unit"]["paths"] = "tests/unit/**"
    return data


@pytest.mark.parametrize("change", ["categories as a mapping", "missing field", "extra field",
                                    "two defaults", "limit as text", "bad workers", "bad dist",
                                    "bad method", "paths as text"])
def test_a_malformed_stored_copy_is_rejected(change):
    with pytest.raises(ValueError, match=r"^(expected|not exactly one default|must)"):
        from_json(spoiled(change))


KEY = cache_key(TEXT)


@pytest.mark.parametrize(
    "content",
    ["", "{not json", "[]", json.dumps({"key": KEY}),
     json.dumps({"key": KEY, "policy": spoiled("two defaults")})],
    ids=["empty", "not-json", "not-a-mapping", "no-policy", "malformed-policy"],
)
def test_an_unreadable_or_malformed_cache_value_is_a_miss(tmp_path, content):
    path = value_path(tmp_path)
    path.parent.mkdir(parents=True)
    path.write_text(content)
    assert lookup(tmp_path, TEXT) == (KEY, None)


def edited(change: str) -> object:
    """A stored copy of the right shape whose values policy.yaml could never hold."""
    data = stored(to_json(from_policy(POLICY)))
    assert isinstance(data, dict)
    categories = {name: value for name, value in data["categories"]}
    parallel = data["parallel"]
    if change == "limit 0":
        categories["unit"]["limit"] = 0
    elif change == "limit -5":
        categories["unit"]["limit"] = -5
    elif change == "limit of a year":
        categories["unit"]["limit"] = 31_536_000
    elif change == "100,000 workers":
        parallel["workers"] = 100_000
    elif change == "a builtin marker":
        categories["slow"]["markers"] = ["skip"]
    elif change == "a marker in two categories":
        categories["integration"]["markers"] = ["slow"]
    elif change == "a glob that once looped":
        categories["unit"]["paths"] = ["]["]
    elif change == "a group glob that cannot match":
        parallel["groups"] = [["db", ["tests/[z-a]/**"]]]
    elif change == "warn ratio 7":
        data["warn_ratio"] = 7
    elif change == "a category name that is not one":
        data["categories"] = [["Unit Tests", v] if n == "unit" else [n, v]
                              for n, v in data["categories"]]
    return data


@pytest.mark.parametrize("change", [
    "limit 0", "limit -5", "limit of a year", "100,000 workers", "a builtin marker",
    "a marker in two categories", "a glob that once looped", "a group glob that cannot match",
    "warn ratio 7", "a category name that is not one"])
def test_an_edited_cache_copy_passes_the_policys_own_checks_or_is_rejected(change):
    with pytest.raises(ValueError, match=r"^(must|expected|a |'skip'|the range)"):
        from_json(edited(change))
