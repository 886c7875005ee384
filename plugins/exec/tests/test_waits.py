"""wait_for_fs, wait_for_file, wait_for_dir, wait_for_socket: success, late success, bounded failure."""
from __future__ import annotations

import socket
import threading
import time

import pytest

import uwkernel_exec
from uwkernel_exec import waits

TIMEOUT = 0.5


@pytest.fixture(autouse=True)
def short_timeouts(make_config):
    """Waits give up after TIMEOUT seconds, set through the plugin's options."""
    uwkernel_exec.uwkernel_configure(
        make_config({"wait-for-fs-timeout": [TIMEOUT], "wait-for-socket-timeout": [TIMEOUT]})
    )


def _later(delay, action):
    """Run ``action`` in a thread after ``delay`` seconds; returns the started thread."""
    thread = threading.Timer(delay, action)
    thread.start()
    return thread


def _fails_in_time(handler, args):
    started = time.monotonic()
    with pytest.raises(TimeoutError, match="unavailable after"):
        handler(args)
    elapsed = time.monotonic() - started
    assert TIMEOUT <= elapsed < TIMEOUT + 2


def test_wait_for_file_present(tmp_path):
    (tmp_path / "f").write_text("")
    waits.wait_for_file(str(tmp_path / "f"))
    waits.wait_for_fs(str(tmp_path / "f"))


def test_wait_for_file_appearing_later(tmp_path):
    thread = _later(0.2, lambda: (tmp_path / "late").write_text(""))
    try:
        waits.wait_for_file(str(tmp_path / "late"))
    finally:
        thread.join(5)


def test_wait_for_file_gives_up(tmp_path):
    _fails_in_time(waits.wait_for_file, str(tmp_path / "never"))


def test_wait_for_file_is_not_satisfied_by_a_directory(tmp_path):
    _fails_in_time(waits.wait_for_file, str(tmp_path))


def test_wait_for_dir(tmp_path):
    waits.wait_for_dir(str(tmp_path))
    waits.wait_for_fs(str(tmp_path))
    (tmp_path / "f").write_text("")
    _fails_in_time(waits.wait_for_dir, str(tmp_path / "f"))
    _fails_in_time(waits.wait_for_fs, str(tmp_path / "never"))


def test_wait_for_unix_socket(tmp_path):
    path = str(tmp_path / "sock")
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(path)
        server.listen()
        waits.wait_for_socket(path)


def test_wait_for_abstract_socket():
    name = f"uwk-wait-test-{time.monotonic_ns()}"
    with socket.socket(socket.AF_UNIX) as server:
        server.bind("\0" + name)
        server.listen()
        waits.wait_for_socket("@" + name)


def test_wait_for_tcp_socket_appearing_later():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)

    def listen():
        server.bind(("127.0.0.1", port))
        server.listen()

    thread = _later(0.2, listen)
    try:
        waits.wait_for_socket(f"127.0.0.1:{port}")
        waits.wait_for_socket(f":{port}")
    finally:
        thread.join(5)
        server.close()


def test_wait_for_socket_gives_up(tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    _fails_in_time(waits.wait_for_socket, f"127.0.0.1:{port}")
    _fails_in_time(waits.wait_for_socket, str(tmp_path / "no.sock"))


def test_wait_for_socket_rejects_a_bad_port():
    with pytest.raises(ValueError, match="invalid port"):
        waits.wait_for_socket("localhost:http")


def test_timeouts_default_to_60_seconds(make_config, tmp_path, capfd):
    uwkernel_exec.uwkernel_configure(make_config())
    waits.wait_for_dir(str(tmp_path))
    assert f"waiting for {tmp_path} (max 60 seconds) ..." in capfd.readouterr().err
