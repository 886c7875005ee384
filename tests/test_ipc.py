"""Master <-> child channels: a plugin's messages reach the master and idle workers at once."""
from __future__ import annotations

from support import Server, free_port, wait_for

PLUGIN = """
import os
from uwkernel import hookimpl
from uwkernel.types import ChannelHandler

def broadcast(master, child, payload):
    for other in master.children.values():
        if other.is_worker:
            other.channel.send("pingpong", payload + b" via master from worker %d" % child.id)

def record(process, payload):
    with open(os.path.join(os.environ["OUT_DIR"], f"got-{process.id}"), "wb") as f:
        f.write(payload)

@hookimpl
def uwkernel_add_channel_handlers():
    return [ChannelHandler("pingpong", on_master=broadcast, on_child=record)]
"""

APP = """
from uwkernel import runtime

def application(environ, start_response):
    runtime.process.channel.send("pingpong", b"hello")
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [str(runtime.process.id).encode()]
"""


def test_a_worker_message_goes_through_the_master_to_every_idle_worker(fake_dists, tmp_path):
    fake_dists.add("fake-pingpong", "pingpong", "fake_pingpong_mod", PLUGIN)
    out = tmp_path / "out"
    out.mkdir()
    app = tmp_path / "app.py"
    app.write_text(APP)
    port = free_port()
    env = {"OUT_DIR": str(out), "PYTHONPATH": str(fake_dists.root)}
    with Server("--http-socket", f"127.0.0.1:{port}", "--wsgi-file", str(app), "--master", "--processes", "3",
                env=env, log=tmp_path / "log") as server:
        server.wait_http(port)
        # each file is created empty, then written: wait for the three contents
        wait_for(lambda: sum(1 for p in out.glob("got-*") if p.stat().st_size) == 3, timeout=10,
                 what="all three workers to get it")
        payloads = {p.name: p.read_bytes() for p in out.glob("got-*")}
        assert set(payloads) == {"got-1", "got-2", "got-3"}
        senders = {p.split(b"from worker ")[1] for p in payloads.values()}
        assert len(senders) == 1 and all(p.startswith(b"hello via master") for p in payloads.values())
