"""Generated files are written atomically, with ordinary permissions, or not at all."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from test_policy_engine.cli.files import write_atomic
from test_policy_engine.cli.main import main
from test_policy_engine.policy.errors import UserError


def mode(path):
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_file_gets_the_permissions_the_umask_allows(tmp_path):
    old = os.umask(0o022)
    try:
        write_atomic(tmp_path / "a.txt", "x\n")
    finally:
        os.umask(old)
    assert mode(tmp_path / "a.txt") == 0o644


def test_a_replaced_file_keeps_its_permissions(tmp_path):
    target = tmp_path / "run.sh"
    target.write_text("old\n")
    target.chmod(0o755)
    write_atomic(target, "new\n")
    assert (target.read_text(), mode(target)) == ("new\n", 0o755)


def test_a_path_that_is_a_directory_is_a_one_line_input_error(tmp_path):
    (tmp_path / "out").mkdir()
    with pytest.raises(UserError, match=r"^.*/out: is a directory; refusing to replace it"
                       r" with a regular file$"):
        write_atomic(tmp_path / "out", "x")
    assert [p.name for p in (tmp_path).iterdir()] == ["out"]


def test_schema_into_a_directory_exits_2_without_a_traceback(tmp_path, capsys):
    assert main(["schema", "-o", str(tmp_path)]) == 2
    assert capsys.readouterr().err == (f"{tmp_path}: is a directory; refusing to replace it "
                                         "with a regular file\n")


def test_init_where_a_directory_is_a_file_exits_2(tmp_path, capsys):
    (tmp_path / ".github").write_text("not a directory")
    assert main(["init", "--dir", str(tmp_path)]) == 2
    assert "test-policy.yml: cannot write (" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == [".github"], "nothing written"


def test_durations_out_never_replaces_a_device_or_a_fifo(tmp_path, monkeypatch, capsys):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    for target in (fifo, Path(os.devnull)):
        with pytest.raises(UserError, match="refusing to replace it with a regular file"):
            write_atomic(target, "{}\n")
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    assert stat.S_ISCHR(Path(os.devnull).stat().st_mode)
