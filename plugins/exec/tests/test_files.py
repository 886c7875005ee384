"""mkdir, chmod, chown, sticky, create, write(n), append(n), writefifo, unlink."""
from __future__ import annotations

import grp
import os
import pwd
import stat

import pytest

from uwkernel_exec import files


def test_mkdir(tmp_path):
    files.mkdir(str(tmp_path / "new"))
    assert (tmp_path / "new").is_dir()
    with pytest.raises(FileExistsError):
        files.mkdir(str(tmp_path / "new"))
    with pytest.raises(FileNotFoundError):
        files.mkdir(str(tmp_path / "no" / "parent"))


def test_chmod(tmp_path):
    target = tmp_path / "f"
    target.write_text("")
    files.chmod(f"{target} 640")
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    files.chmod(f"{target} 0755")
    assert stat.S_IMODE(target.stat().st_mode) == 0o755


@pytest.mark.parametrize("args", ["{f}", "{f} 9z9", "{f} 12", "{f} 77777", " 644"])
def test_chmod_bad_syntax(tmp_path, args):
    target = tmp_path / "f"
    target.write_text("")
    with pytest.raises(ValueError):
        files.chmod(args.format(f=target))


def test_chmod_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        files.chmod(f"{tmp_path}/missing 644")


def test_chown_by_number_and_by_name(tmp_path):
    target = tmp_path / "f"
    target.write_text("")
    uid, gid = os.getuid(), os.getgid()
    files.chown(f"{target} {uid} {gid}")
    assert (target.stat().st_uid, target.stat().st_gid) == (uid, gid)
    files.chown(f"{target} {pwd.getpwuid(uid).pw_name} {grp.getgrgid(gid).gr_name}")
    assert (target.stat().st_uid, target.stat().st_gid) == (uid, gid)


def test_chown_failures(tmp_path):
    target = tmp_path / "f"
    target.write_text("")
    with pytest.raises(LookupError, match="unknown user"):
        files.chown(f"{target} no-such-user-uwk 0")
    with pytest.raises(LookupError, match="unknown group"):
        files.chown(f"{target} 0 no-such-group-uwk")
    with pytest.raises(ValueError, match="<file> <user> <group>"):
        files.chown(f"{target} 0")
    with pytest.raises(FileNotFoundError):
        files.chown(f"{tmp_path}/missing {os.getuid()} {os.getgid()}")


def test_sticky(tmp_path):
    files.sticky(str(tmp_path))
    assert tmp_path.stat().st_mode & stat.S_ISVTX
    with pytest.raises(FileNotFoundError):
        files.sticky(str(tmp_path / "missing"))


def test_create_makes_an_empty_file_and_truncates(tmp_path):
    target = tmp_path / "f"
    files.create(str(target))
    assert target.read_bytes() == b""
    target.write_text("old")
    files.create(str(target))
    assert target.read_bytes() == b""
    with pytest.raises(FileNotFoundError):
        files.create(str(tmp_path / "no" / "f"))


def test_write_takes_the_path_up_to_the_first_space_and_truncates(tmp_path):
    target = tmp_path / "f"
    target.write_text("a much longer previous content")
    files.write(f"{target} hello  world ")
    assert target.read_text() == "hello  world "


def test_writen_adds_a_newline(tmp_path):
    target = tmp_path / "f"
    files.writen(f"{target} line")
    files.writen(f"{target} again")
    assert target.read_text() == "again\n"


def test_append_and_appendn(tmp_path):
    target = tmp_path / "f"
    files.append(f"{target} a")
    files.append(f"{target} b")
    files.appendn(f"{target} c")
    files.appendn(str(target))
    assert target.read_text() == "abc\n\n"


@pytest.mark.parametrize("handler", [files.write, files.writen, files.append, files.writefifo])
def test_text_handlers_need_a_text(tmp_path, handler):
    with pytest.raises(ValueError, match="expected"):
        handler(str(tmp_path / "f"))


@pytest.mark.parametrize("handler", [files.write, files.writen, files.append, files.appendn])
def test_text_handlers_fail_on_a_missing_directory(tmp_path, handler):
    with pytest.raises(FileNotFoundError):
        handler(f"{tmp_path}/no/f text")


def test_writefifo_without_reader_succeeds(tmp_path, capfd):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    assert files.writefifo(f"{fifo} hello") is None
    assert "nobody is reading" in capfd.readouterr().err


def test_writefifo_with_a_reader(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    try:
        files.writefifo(f"{fifo} hello fifo")
        assert os.read(reader, 100) == b"hello fifo"
    finally:
        os.close(reader)


def test_writefifo_missing_path_fails(tmp_path):
    with pytest.raises(FileNotFoundError):
        files.writefifo(f"{tmp_path}/missing text")


def test_unlink(tmp_path):
    target = tmp_path / "f"
    target.write_text("")
    files.unlink(str(target))
    assert not target.exists()
    with pytest.raises(FileNotFoundError):
        files.unlink(str(target))
