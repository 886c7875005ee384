"""uwkernel plugin ``rpc``: uWSGI's RPC subsystem, interoperable with uWSGI instances both ways.

* ``uwsgi.register_rpc(name, func, argc=0)``, ``uwsgi.call(name, *args)`` (local),
  ``uwsgi.rpc(node, name, *args)`` (``node`` "host:port" or a unix socket path; "" or None = local),
  ``uwsgi.rpc_list()``; ``@rpc(name)`` of uwsgidecorators over them (:mod:`.registry`).
* Workers serve modifier1 173 on their uwsgi sockets (:mod:`.wire`): modifier2 0, raw (1), HTTP (2),
  results over 64 KiB announced with modifier2 5.
* Hook handlers ``rpc:func[@node] arg1 arg2`` (logs the result, fails without one) and ``retryrpc``
  (the same, retried every 2 seconds until it gets a result).
* Option ``rpc-max``: how many functions a process may register (64).
"""
from __future__ import annotations

import time

from uwkernel import hookimpl, log, runtime
from uwkernel.types import HookHandler, ModuleName, Option, RequestHandler

from .registry import DEFAULT_MAX, REGISTRY

#: The modifier1 of RPC packets.
MODIFIER1 = 173

OPTIONS = [Option("rpc-max", kind="int", default=DEFAULT_MAX, help="how many RPC functions a process may register")]

#: Seconds between two attempts of the ``retryrpc`` hook.
RETRY_EVERY = 2.0


def register_rpc(name, func, argc: int = 0) -> bool:
    """``uwsgi.register_rpc``: register ``func`` as the RPC function ``name`` (< 256 bytes); True."""
    return REGISTRY.register(name, func, argc)


def call(name, *args) -> bytes | None:
    """``uwsgi.call``: call the local RPC function ``name``; its result as bytes, or None."""
    return REGISTRY.call(name, args)


def rpc(node, name, *args) -> bytes | None:
    """``uwsgi.rpc``: call ``name`` on ``node`` ("host:port", a unix path; "" or None: this process).

    Returns the result as bytes, or None (unknown function, empty result, unreachable node). The
    call waits at most ``socket-timeout`` seconds for each step.
    """
    if isinstance(node, (bytes, bytearray)):
        node = bytes(node).decode("utf-8", "surrogateescape")
    if not node:
        return REGISTRY.call(name, args)
    from . import wire  # here: the client and the server (:mod:`.wire`) load with their first use

    return wire.remote_call(node, name, args, _socket_timeout())


def rpc_list() -> tuple[bytes, ...]:
    """``uwsgi.rpc_list``: the names of the functions this process can serve (bytes, as uWSGI)."""
    return REGISTRY.names()


def _socket_timeout() -> float:
    instance = runtime.instance
    return float((instance.config["socket-timeout"] if instance is not None else 0) or 4)


def hook_rpc(args: str) -> int:
    """The ``rpc`` hook handler: ``func[@node] arg1 arg2``; logs the result, 1 (failure) without one."""
    import shlex  # here: few instances have rpc hooks

    words = shlex.split(args)
    if not words:
        log.log("rpc hook: no function named")
        return 1
    target = words[0]
    name, _, node = target.partition("@")
    result = rpc(node, name, *words[1:])
    if result is None:
        log.log(f'[rpc result from "{target}"] no result')
        return 1
    log.log(f'[rpc result from "{target}"] {result.decode("utf-8", "replace")}')
    return 0


def hook_retryrpc(args: str) -> int:
    """The ``retryrpc`` hook handler: ``rpc`` until it gets a result, every 2 seconds."""
    while hook_rpc(args):
        time.sleep(RETRY_EVERY)
    return 0


@hookimpl
def uwkernel_add_options() -> list[Option]:
    """``rpc-max``."""
    return OPTIONS


@hookimpl
def uwkernel_configure(config) -> None:
    """Size this process's registry with ``rpc-max``."""
    REGISTRY.max_functions = config["rpc-max"] or DEFAULT_MAX


@hookimpl
def uwkernel_add_module_names(config) -> list[ModuleName]:
    """register_rpc, rpc, call and rpc_list."""
    return [ModuleName("register_rpc", register_rpc), ModuleName("rpc", rpc), ModuleName("call", call),
            ModuleName("rpc_list", rpc_list)]


@hookimpl
def uwkernel_add_request_handlers() -> list[RequestHandler]:
    """modifier1 173: serve RPC calls from other instances (uwkernel or uWSGI)."""
    return [RequestHandler(MODIFIER1, "rpc", _request_handler)]


def _request_handler(config):
    """The modifier1 173 handler of a worker: :mod:`.wire`'s, made at the first RPC request."""
    handler = None

    def handle(*request):
        nonlocal handler
        if handler is None:
            from . import wire

            handler = wire.make_handler(config)
        return handler(*request)

    return handle


@hookimpl
def uwkernel_add_hook_handlers() -> list[HookHandler]:
    """``rpc`` and ``retryrpc``."""
    return [
        HookHandler("rpc", hook_rpc, help="call an RPC function and log its result: 'func[@node] args...'"),
        HookHandler("retryrpc", hook_retryrpc, help="like rpc, retried every 2 seconds until it gets a result"),
    ]
