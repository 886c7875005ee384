"""Which files are tasks, and the order: glibc's versionsort, priorities first, rotation."""
from __future__ import annotations

import ctypes
import functools
import os
import random
import time

import pytest

from uwkernel_spooler import scan


def _strverscmp():
    try:
        libc = ctypes.CDLL(None)
        func = libc.strverscmp
    except (OSError, AttributeError):
        pytest.skip("no glibc strverscmp to compare with")
    func.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
    return lambda a, b: func(a.encode(), b.encode())


def _sign(n: int) -> int:
    return (n > 0) - (n < 0)


def test_version_key_agrees_with_glibc_strverscmp():
    strverscmp = _strverscmp()
    rng = random.Random(1234)
    for _ in range(30000):
        a = "".join(rng.choice("000123a_.") for _ in range(rng.randint(0, 7)))
        b = "".join(rng.choice("000123a_.") for _ in range(rng.randint(0, 7)))
        ka, kb = scan.version_key(a), scan.version_key(b)
        assert _sign(strverscmp(a, b)) == (ka > kb) - (ka < kb), (a, b)


def test_version_order_of_spool_file_names():
    strverscmp = _strverscmp()
    names = [f"uwsgi_spoolfile_on_web-{h}_{pid}_{n}_{r}_1700000000_{us}" for h in (1, 12) for pid in (9, 123)
             for n in (1, 2, 10, 100) for r in (0, 7, 1234567) for us in (0, 5, 999999)] + ["1", "10", "2", "01"]
    random.Random(1).shuffle(names)
    assert sorted(names, key=scan.version_key) == sorted(names, key=functools.cmp_to_key(strverscmp))
    assert sorted(["10", "9", "uwsgi_x", "1"], key=scan.version_key) == ["1", "9", "10", "uwsgi_x"]


def _touch(path, data=b"x"):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def test_tasks_priorities_first_then_version_order(tmp_path):
    for name in ("uwsgi_spoolfile_on_h_1_10_0_1_1", "uwsgi_spoolfile_on_h_1_9_0_1_1", "uwsgi_spoolfile_on_h_1_2_0_1_1"):
        _touch(tmp_path / name)
    _touch(tmp_path / "10" / "uwsgi_spoolfile_on_h_1_1_0_1_1")
    _touch(tmp_path / "2" / "uwsgi_spoolfile_on_h_1_5_0_1_1")
    _touch(tmp_path / "2" / "uwsgi_spoolfile_on_h_1_30_0_1_1")
    found = [os.path.relpath(os.fsdecode(p), tmp_path) for p in scan.tasks(str(tmp_path), ordered=True)]
    assert found == ["2/uwsgi_spoolfile_on_h_1_5_0_1_1", "2/uwsgi_spoolfile_on_h_1_30_0_1_1",
                     "10/uwsgi_spoolfile_on_h_1_1_0_1_1", "uwsgi_spoolfile_on_h_1_2_0_1_1",
                     "uwsgi_spoolfile_on_h_1_9_0_1_1", "uwsgi_spoolfile_on_h_1_10_0_1_1"]
    unordered = [os.path.relpath(os.fsdecode(p), tmp_path) for p in scan.tasks(str(tmp_path), ordered=False)]
    assert unordered[:3] == found[:3] and sorted(unordered[3:]) == sorted(found[3:])


def test_only_task_files_are_tasks(tmp_path):
    _touch(tmp_path / "uwsgi_spoolfile_on_ok")
    _touch(tmp_path / "uwsgi_spoolfile_on_garbage.bad")
    _touch(tmp_path / ".uwsgi_spoolfile_on_being_written")
    _touch(tmp_path / "notes.txt")
    _touch(tmp_path / "high" / "uwsgi_spoolfile_on_not_a_priority")
    os.symlink(tmp_path / "high", tmp_path / "7")
    assert list(scan.tasks(str(tmp_path), ordered=False)) == [f"{tmp_path}/uwsgi_spoolfile_on_ok".encode()]
    _touch(tmp_path / "3" / "uwsgi_spoolfile_on_in_a_priority")
    assert list(scan.tasks(os.fsencode(tmp_path), ordered=False)) == [
        f"{tmp_path}/3/uwsgi_spoolfile_on_in_a_priority".encode(), f"{tmp_path}/uwsgi_spoolfile_on_ok".encode()]
    assert (tmp_path / ".uwsgi_spoolfile_on_being_written").exists()


def test_a_temp_file_left_by_a_dead_writer_is_removed(tmp_path, monkeypatch):
    temp = tmp_path / ".uwsgi_spoolfile_on_dead_writer"
    _touch(temp)
    later = time.time() + scan.STALE_TEMP_AGE + 1
    monkeypatch.setattr(scan.time, "time", lambda: later)
    assert list(scan.tasks(str(tmp_path), ordered=False)) == []
    assert not temp.exists()


def test_rotation_starts_elsewhere_and_covers_everything(tmp_path):
    for i in range(10):
        _touch(tmp_path / f"uwsgi_spoolfile_on_{i}")
    first = list(scan.tasks(str(tmp_path), ordered=False))
    rotated = list(scan.tasks(str(tmp_path), ordered=False, rotation=0.5))
    assert rotated == first[5:] + first[:5]


def test_a_missing_dir_has_no_tasks(tmp_path):
    assert list(scan.tasks(str(tmp_path / "nope"), ordered=True)) == []
