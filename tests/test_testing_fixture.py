"""The ``uwkernel_server`` fixture users get from ``uwkernel.testing`` (loaded through pytest11)."""
from __future__ import annotations



def test_fixture_starts_a_server_for_an_app_and_stops_it(uwkernel_server, tmp_path):
    app = tmp_path / "app.py"
    app.write_text("import os\ndef application(e, sr):\n"
                   "    sr('200 OK', [('Content-Type', 'text/plain')])\n    return [str(os.getpid()).encode()]\n")
    server = uwkernel_server("--wsgi-file", str(app), "--master", "--processes", "2")
    status, body = server.get("/")
    assert status == 200 and int(body) in server.group_pids()
    assert server.url == f"http://127.0.0.1:{server.port}"
    server.stop()
    assert server.proc.poll() is not None
    assert server.group_pids() == []
