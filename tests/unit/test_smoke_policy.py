from engine.cli import main


def test_the_shipped_policy_is_valid(capsys, monkeypatch, root):
    monkeypatch.chdir(root)
    assert main(["check"]) == 0
    assert "valid policy" in capsys.readouterr().out
