"""uWSGI's "Overriding Workers" example, ported to today's aiohttp: each worker runs this script.

Run with ``uwkernel --ini examples/aioserver/aioserver.ini``. Every worker serves every listening
socket of the instance (``uwsgi.sockets``) with one aiohttp application: ``GET /{name}`` greets,
``/echo`` is a websocket echo. SIGHUP (a reload) and SIGINT close the sites and end the worker.
"""
import asyncio
import signal
import socket

import uwsgi
from aiohttp import WSMsgType, web


async def greet(request: web.Request) -> web.Response:
    """GET /{name}: a greeting naming the worker that answered."""
    name = request.match_info.get("name", "Anonymous")
    return web.Response(text=f"Hello, {name} (worker {uwsgi.worker_id()})")


async def echo(request: web.Request) -> web.WebSocketResponse:
    """A websocket that answers every text message with "Hello, MESSAGE"."""
    ws = web.WebSocketResponse()
    await ws.prepare(request)
    async for msg in ws:
        if msg.type == WSMsgType.TEXT:
            await ws.send_str(f"Hello, {msg.data}")
        elif msg.type == WSMsgType.ERROR:
            break
    return ws


async def serve() -> None:
    """Serve every uWSGI socket until SIGHUP, SIGTERM or SIGINT."""
    app = web.Application()
    app.router.add_get("/echo", echo)
    app.router.add_get("/{name}", greet)
    runner = web.AppRunner(app, handle_signals=False)
    await runner.setup()
    for fd in uwsgi.sockets:
        sock = socket.socket(fileno=socket.dup(fd))
        sock.setblocking(False)
        await web.SockSite(runner, sock).start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGHUP, signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    uwsgi.accepting()
    uwsgi.log(f"aioserver: worker {uwsgi.worker_id()} serving {len(uwsgi.sockets)} socket(s)")
    await stop.wait()
    await runner.cleanup()


asyncio.run(serve())
