from test_policy_engine.policy.discovery import find_policy

POLICY = "version: 1\ncategories:\n  unit: {limit: 1, default: true}\n"


def test_the_command_line_option_comes_first(tmp_path):
    (tmp_path / "policy.yaml").write_text(POLICY)
    found = find_policy("other.yaml", "ini.yaml", tmp_path / "cfg", tmp_path, tmp_path)
    assert found is not None
    assert (found.path, found.source) == (tmp_path / "other.yaml", "--policy")


def test_the_ini_option_is_relative_to_the_ini_file(tmp_path):
    found = find_policy(None, "ci/policy.yaml", tmp_path / "cfg", tmp_path, tmp_path)
    assert found is not None
    assert (found.path, found.source) == (tmp_path / "cfg/ci/policy.yaml", "ini test_policy")


def test_policy_yaml_in_the_rootdir_is_found_last(tmp_path):
    (tmp_path / "policy.yaml").write_text(POLICY)
    found = find_policy(None, "", None, tmp_path, tmp_path)
    assert found is not None
    assert (found.shown_as, found.source) == ("policy.yaml", "rootdir")


def test_without_any_policy_nothing_is_found(tmp_path):
    assert find_policy(None, "", None, tmp_path, tmp_path) is None


def test_an_unrelated_policy_yaml_in_the_rootdir_is_not_ours(tmp_path):
    (tmp_path / "policy.yaml").write_text("apiVersion: v1\nkind: NetworkPolicy\n")
    assert find_policy(None, "", None, tmp_path, tmp_path) is None


def test_a_policy_yaml_that_does_not_parse_is_ours_so_its_error_is_reported(tmp_path):
    (tmp_path / "policy.yaml").write_text("categories: [unclosed\n")
    assert find_policy(None, "", None, tmp_path, tmp_path) is not None


def test_a_rootdir_policy_yaml_the_cache_knows_is_taken_without_parsing_it(tmp_path):
    (tmp_path / "policy.yaml").write_text("apiVersion: v1\nkind: NetworkPolicy\n")
    seen: list[bytes] = []

    def known(data: bytes) -> bool:
        seen.append(data)
        return True

    assert find_policy(None, "", None, tmp_path, tmp_path, known) is not None
    assert seen == [b"apiVersion: v1\nkind: NetworkPolicy\n"]
    assert find_policy(None, "", None, tmp_path, tmp_path, lambda data: False) is None


def test_an_empty_rootdir_policy_yaml_is_ours_so_it_is_reported_not_ignored(tmp_path):
    (tmp_path / "policy.yaml").write_text("# nothing yet\n")
    assert find_policy(None, "", None, tmp_path, tmp_path) is not None
