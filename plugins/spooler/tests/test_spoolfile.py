"""The spool file codec, atomic writes, and claiming under uWSGI-compatible locks."""
from __future__ import annotations

import fcntl
import os
import stat
import subprocess
import sys
import time

import pytest
from hypothesis import given, strategies as st

from uwkernel.proto.uwsgi import encode_packet
from uwkernel_spooler import spoolfile
from uwkernel_spooler.spoolfile import SpoolFileError

# A task as uWSGI 2.0.31 writes it for uwsgi.spool({b'a': b'1', b'at': b'0', b'body': b'BODY'}).
UWSGI_FILE = b"\x11\x0d\x00\x00" + b"\x01\x00a\x01\x001" + b"\x02\x00at\x01\x000" + b"BODY"


def test_decodes_a_file_written_by_uwsgi():
    assert spoolfile.parse(UWSGI_FILE) == ({b"a": b"1", b"at": b"0"}, b"BODY")


def test_encodes_what_uwsgi_writes():
    assert encode_packet(spoolfile.MODIFIER1, {b"a": b"1", b"at": b"0"}, raw=True) + b"BODY" == UWSGI_FILE


@given(st.dictionaries(st.binary(min_size=1, max_size=300), st.binary(max_size=300), max_size=20),
       st.binary(max_size=2000))
def test_round_trip(pairs, body):
    assert spoolfile.parse(encode_packet(spoolfile.MODIFIER1, pairs, raw=True) + body) == (pairs, body)


@given(st.binary(max_size=200))
def test_garbage_raises_only_spoolfileerror(data):
    try:
        pairs, body = spoolfile.parse(data)
    except SpoolFileError:
        return
    assert all(type(k) is bytes and k and type(v) is bytes for k, v in pairs.items()) and type(body) is bytes


@pytest.mark.parametrize("data, message", [
    (b"", "shorter than a header"),
    (b"\x11\x00", "shorter than a header"),
    (b"\x00\x00\x00\x00", "modifier1 0"),
    (b"\x11\x10\x00\x00\x01\x00a", "truncated: the dict is 16 bytes, 3 present"),
    (b"\x11\x05\x00\x00\x00\x00\x01\x00x", "empty uwsgi var key"),
    (b"\x11\x04\x00\x00\x05\x00abBODY", "truncated uwsgi var"),
    (b"\x11\x05\x00\x00\x01\x00a\x09\x00xBODY", "truncated uwsgi var"),
    (b"\x11\x01\x00\x00\x01", "truncated uwsgi var"),
])
def test_invalid_files(data, message):
    with pytest.raises(SpoolFileError, match=message):
        spoolfile.parse(data)


def test_a_dict_has_no_item_count_limit():
    pairs = {b"%d" % i: b"" for i in range(8_000)}  # 8,000 items in 60,890 bytes
    assert spoolfile.parse(encode_packet(spoolfile.MODIFIER1, pairs, raw=True)) == (pairs, b"")


BIG = b"\x11\x00\x00\x00" + b"b" * spoolfile.IN_PLACE_MAX  # over a page: never written in place


@pytest.fixture(params=["in place", "unnamed", "rename"])
def write_mode(request, monkeypatch):
    """Run a test with each way of writing; returns a spool file's bytes that this way writes.

    In place: one page or less, without ``at``. Bigger files: O_TMPFILE, then the temp-and-rename fallback.
    """
    monkeypatch.setattr(spoolfile, "_unnamed_files", request.param == "unnamed")
    return b"\x11\x00\x00\x00body" if request.param == "in place" else BIG


def test_write_is_atomic_and_private(tmp_path, write_mode):
    path = f"{tmp_path}/uwsgi_spoolfile_on_h_1_1_1_1_1"
    spoolfile.write(path.encode(), write_mode)
    assert os.listdir(tmp_path) == ["uwsgi_spoolfile_on_h_1_1_1_1_1"]
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    with open(path, "rb") as f:
        assert f.read() == write_mode


@pytest.mark.parametrize("data", [b"\x11\x00\x00\x00body", BIG], ids=["small", "big"])
@pytest.mark.parametrize("unnamed", [True, False], ids=["unnamed", "rename"])
def test_a_task_with_at_gets_its_mtime_before_it_is_visible(tmp_path, monkeypatch, data, unnamed):
    monkeypatch.setattr(spoolfile, "_unnamed_files", unnamed)
    seen = []
    real_utime = os.utime

    def utime(fd, times):
        seen.append(os.listdir(tmp_path))
        real_utime(fd, times)

    monkeypatch.setattr(os, "utime", utime)
    at = int(time.time()) + 3600
    path = f"{tmp_path}/uwsgi_spoolfile_on_at"
    spoolfile.write(path, data, at)
    assert seen == [[] if unnamed else [".uwsgi_spoolfile_on_at"]]
    assert os.stat(path).st_mtime == at and open(path, "rb").read() == data


def test_a_small_task_is_written_in_place_by_one_write(tmp_path, monkeypatch):
    """One write() of at most a page: a reader sees the file empty or whole (the kernel copies the page first)."""
    calls = []
    real_write = os.write

    def write(fd, data):
        calls.append((bytes(data), os.listdir(tmp_path)))
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", write)
    data = b"\x11\x00\x00\x00" + b"x" * (spoolfile.IN_PLACE_MAX - 4)
    spoolfile.write(f"{tmp_path}/uwsgi_spoolfile_on_p", data)
    assert calls == [(data, ["uwsgi_spoolfile_on_p"])]


def test_write_never_leaves_a_half_task(tmp_path, monkeypatch, write_mode):
    def broken_write(fd, data):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "write", broken_write)
    with pytest.raises(OSError):
        spoolfile.write(f"{tmp_path}/uwsgi_spoolfile_on_x", write_mode)
    assert os.listdir(tmp_path) == []


def test_a_short_write_in_place_leaves_nothing(tmp_path, monkeypatch):
    real_write = os.write
    monkeypatch.setattr(os, "write", lambda fd, data: real_write(fd, data[:3]))
    with pytest.raises(OSError, match="3 of 8 bytes"):
        spoolfile.write(f"{tmp_path}/uwsgi_spoolfile_on_x", b"\x11\x00\x00\x00body")
    assert os.listdir(tmp_path) == []


def test_write_falls_back_to_rename_without_o_tmpfile(tmp_path, monkeypatch):
    real_open = os.open

    def no_tmpfile(path, flags, *args, **kwargs):
        if flags & os.O_TMPFILE == os.O_TMPFILE:
            raise OSError(95, "Operation not supported")
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(spoolfile, "_unnamed_files", True)
    monkeypatch.setattr(os, "open", no_tmpfile)
    path = f"{tmp_path}/uwsgi_spoolfile_on_y"
    spoolfile.write(path.encode(), BIG)
    assert os.listdir(tmp_path) == ["uwsgi_spoolfile_on_y"] and not spoolfile._unnamed_files
    assert open(path, "rb").read() == BIG


def test_a_write_never_replaces_a_task(tmp_path, write_mode):
    spoolfile.write(f"{tmp_path}/uwsgi_spoolfile_on_z", b"first")
    with pytest.raises(FileExistsError):
        spoolfile.write(f"{tmp_path}/uwsgi_spoolfile_on_z", write_mode)
    assert (tmp_path / "uwsgi_spoolfile_on_z").read_bytes() == b"first"


def _write(tmp_path, name="uwsgi_spoolfile_on_t", data=UWSGI_FILE):
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def test_claim_reads_and_locks(tmp_path):
    path = _write(tmp_path)
    task = spoolfile.claim(path)
    assert task.data == UWSGI_FILE
    assert spoolfile.claim(path) is None  # our own second claim conflicts too (open file description locks)
    assert spoolfile.read(path) is None
    task.finish()
    assert not os.path.exists(path)


def test_claim_respects_a_posix_lock_held_by_another_process(tmp_path):
    """uWSGI locks with fcntl(F_SETLK): a file it holds is not ours to take, and the other way round."""
    path = _write(tmp_path)
    holder = subprocess.Popen([sys.executable, "-c", (
        "import fcntl, sys, time\n"
        f"f = open({path!r}, 'r+b'); fcntl.lockf(f, fcntl.LOCK_EX | fcntl.LOCK_NB)\n"
        "print('locked', flush=True); sys.stdin.read()\n")],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        assert spoolfile.claim(path) is None
    finally:
        holder.stdin.close()
        holder.wait(10)
    task = spoolfile.claim(path)
    assert task is not None
    probe = subprocess.run([sys.executable, "-c", (
        "import fcntl\n"
        f"f = open({path!r}, 'r+b')\n"
        "try:\n fcntl.lockf(f, fcntl.LOCK_EX | fcntl.LOCK_NB); print('free')\n"
        "except OSError: print('held')\n")], capture_output=True, text=True, timeout=10)
    assert probe.stdout.strip() == "held"
    task.release()


def test_claim_skips_symlinks_fifos_and_missing_files(tmp_path):
    target = _write(tmp_path, "real")
    os.symlink(target, tmp_path / "uwsgi_spoolfile_on_link")
    os.mkfifo(tmp_path / "uwsgi_spoolfile_on_fifo")
    assert spoolfile.claim(str(tmp_path / "uwsgi_spoolfile_on_link")) is None
    assert spoolfile.claim(str(tmp_path / "uwsgi_spoolfile_on_fifo")) is None
    assert spoolfile.claim(str(tmp_path / "uwsgi_spoolfile_on_missing")) is False  # gone


def test_claim_skips_a_file_removed_while_we_waited(tmp_path):
    path = _write(tmp_path)
    fd = os.open(path, os.O_RDWR)
    os.unlink(path)
    os.close(fd)
    assert spoolfile.claim(path) is False  # gone: run by another spooler


def test_set_aside(tmp_path):
    path = _write(tmp_path, data=b"garbage")
    task = spoolfile.claim(path)
    assert task.set_aside() == path.encode() + b".bad"
    assert os.listdir(tmp_path) == ["uwsgi_spoolfile_on_t.bad"]


def test_set_aside_of_a_file_someone_moved(tmp_path):
    path = _write(tmp_path, data=b"garbage")
    task = spoolfile.claim(path)
    os.rename(path, path + ".other")
    _write(tmp_path, data=b"new")
    assert task.set_aside() is None
    assert sorted(os.listdir(tmp_path)) == ["uwsgi_spoolfile_on_t", "uwsgi_spoolfile_on_t.other"]


def test_a_short_young_file_is_in_progress(tmp_path):
    task = spoolfile.claim(_write(tmp_path, data=b""))
    assert task.in_progress(time.time())
    assert not task.in_progress(time.time() + spoolfile.IN_PROGRESS_GRACE + 1)
    task.release()
    full = spoolfile.claim(_write(tmp_path, "uwsgi_spoolfile_on_u"))
    assert not full.in_progress(time.time())
    full.release()


def test_read_of_valid_missing_and_invalid(tmp_path):
    assert spoolfile.read(_write(tmp_path)) == ({b"a": b"1", b"at": b"0"}, b"BODY")
    assert spoolfile.read(str(tmp_path / "nope")) is None
    assert spoolfile.read(_write(tmp_path, "uwsgi_spoolfile_on_bad", b"\x11\x09\x00\x00")) is None


def test_lock_struct_matches_the_platform():
    """The packed struct flock is accepted by F_OFD_GETLK (fails with EINVAL if the layout were wrong)."""
    with open(os.devnull, "rb") as f:
        fcntl.fcntl(f.fileno(), fcntl.F_OFD_GETLK, spoolfile._WRITE_LOCK)
