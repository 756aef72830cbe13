from test_policy_engine.cli.main import main


def test_explain_resolves_a_path_with_given_markers_without_collecting(capsys, root,
                                                                       monkeypatch):
    monkeypatch.chdir(root)
    assert main(["explain", "tests/integration/test_new.py", "--marker", "slow"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[-1].split() == [
        "tests/integration/test_new.py", "slow", "30", "s", "marker", "slow"]


def test_explain_of_a_disintegration_file_under_unit_says_unit(capsys, root, monkeypatch):
    monkeypatch.chdir(root)
    assert main(["explain", "tests/unit/test_disintegration.py::test_x", "-m", "db"]) == 0
    assert capsys.readouterr().out.splitlines()[-1].split() == [
        "tests/unit/test_disintegration.py::test_x", "unit", "1", "s", "path", "tests/unit/**"]


def test_explain_with_timeout_zero_says_timeouts_are_off(capsys, root, monkeypatch):
    monkeypatch.chdir(root)
    assert main(["explain", "tests/new_dir/test_a.py", "-m", "integration",
                 "--timeout", "0"]) == 0
    assert capsys.readouterr().out.splitlines()[-1].split()[1:] == [
        "integration", "off", "--timeout"]
