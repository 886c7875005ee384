"""Listening sockets: parsed from the options, bound by the master before it forks, kept across reloads.

Addresses are written as uWSGI does: ``host:port``, ``:port`` (every IPv4 address), ``[::1]:port``,
a UNIX path, ``@name`` for an abstract UNIX socket, or ``=N`` for the N-th ``shared-socket``. Each
socket carries its protocol: ``uwsgi`` (``socket``), ``http`` (``http-socket``, ``http``) or
``http11`` (``http11-socket``, or ``http`` with ``http-keepalive``): HTTP/1.1 with keep-alive.

On a reload the master re-executes itself; the listening sockets survive as inherited file
descriptors named in ``UWKERNEL_SOCKETS`` and are adopted instead of bound again, so no connection
is refused while the instance reloads.
"""
from __future__ import annotations

import grp
import os
import pwd
import socket
import stat
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Mapping

from .errors import ConfigError, UwkernelError

if TYPE_CHECKING:  # pragma: no cover - types only
    from .config import Config

INHERIT_ENV = "UWKERNEL_SOCKETS"

#: Options that declare listening sockets, and the protocol each speaks.
SOCKET_OPTIONS = {"socket": "uwsgi", "http-socket": "http", "http11-socket": "http11", "http": "http"}


@dataclass
class ListenSocket:
    """A bound listening socket with the protocol its connections speak."""

    name: str
    proto: str
    sock: socket.socket
    unix_path: str | None = None
    shared_as: str | None = None  # the shared-socket address, for ``=N`` sockets
    fileno: int = field(init=False)

    def __post_init__(self):
        self.fileno = self.sock.fileno()


def parse_address(address: str) -> tuple[int, object]:
    """Turn a uWSGI address into ``(family, sockaddr)``; raise ValueError when it is not one."""
    if address.startswith("@"):
        return socket.AF_UNIX, "\0" + address[1:]
    if "/" in address or ":" not in address:
        if not address:
            raise ValueError("empty address")
        return socket.AF_UNIX, address
    host, _, port = address.rpartition(":")
    if not port.isdigit() or int(port) > 65535:
        raise ValueError(f"'{port}' is not a port number")
    if host.startswith("[") and host.endswith("]"):
        return socket.AF_INET6, (host[1:-1], int(port))
    return socket.AF_INET, (host or "0.0.0.0", int(port))


def _bind(address: str, config: Config) -> tuple[socket.socket, str | None]:
    family, sockaddr = parse_address(address)
    sock = socket.socket(family, socket.SOCK_STREAM)
    unix_path = None
    try:
        if family == socket.AF_UNIX:
            if not sockaddr.startswith("\0"):
                unix_path = sockaddr
                if os.path.exists(unix_path) and stat.S_ISSOCK(os.stat(unix_path).st_mode):
                    os.unlink(unix_path)  # a stale socket of a previous run
        else:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if config["reuse-port"]:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        sock.bind(sockaddr)
        if unix_path:
            _unix_permissions(unix_path, config)
        sock.listen(config["listen"])
        sock.setblocking(False)  # workers wait in epoll; a signal must never be stuck behind accept()
    except OSError as exc:
        sock.close()
        raise UwkernelError(f"cannot bind {address}: {exc.strerror or exc}") from None
    return sock, unix_path


def _unix_permissions(path: str, config: Config) -> None:
    if config.is_set("chmod-socket"):
        mode = config["chmod-socket"] or "666"
        os.chmod(path, int(mode, 8))
    owner = config["chown-socket"]
    if owner:
        user, _, group = owner.partition(":")
        uid = int(user) if user.isdigit() else pwd.getpwnam(user).pw_uid
        gid = -1 if not group else int(group) if group.isdigit() else grp.getgrnam(group).gr_gid
        os.chown(path, uid, gid)


def _inherited(environ: Mapping[str, str]) -> dict[tuple[str, str], int]:
    table = {}
    for item in filter(None, environ.get(INHERIT_ENV, "").split(";")):
        proto, name, fd = item.split("|")
        table[(proto, name)] = int(fd)
    return table


def _declared(config: Config) -> list[tuple[str, str, object]]:
    """Every (protocol, address, origin) the configuration declares, in option order."""
    keepalive = config["http-keepalive"]
    found = []
    for option, proto in SOCKET_OPTIONS.items():
        if option == "http" and keepalive:
            proto = "http11"
        for address, origin in config.values(option):
            found.append((proto, address, origin, option))
    return found


def bind_all(config: Config, environ: Mapping[str, str] = os.environ) -> list[ListenSocket]:
    """Bind (or adopt, on a reload) every socket the configuration declares.

    A bad address is a :class:`ConfigError` naming the option and where it was given; a socket that
    cannot be bound stops start-up naming the address.
    """
    inherited = _inherited(environ)
    shared: list[ListenSocket] = []
    for address, origin in config.values("shared-socket"):
        shared.append(_open("shared", address, origin, "shared-socket", config, inherited))
    sockets = []
    for proto, address, origin, option in _declared(config):
        if address.startswith("="):
            index = address[1:]
            if not index.isdigit() or int(index) >= len(shared):
                raise ConfigError(f"'{address}' names no shared-socket", origin, option)
            origin_socket = shared[int(index)]
            sockets.append(ListenSocket(address, proto, origin_socket.sock, shared_as=origin_socket.name))
        else:
            sockets.append(_open(proto, address, origin, option, config, inherited))
    used = {s.fileno for s in sockets} | {s.fileno for s in shared}
    for fd in inherited.values():
        if fd not in used:
            os.close(fd)
    return sockets


def _open(proto, address, origin, option, config, inherited) -> ListenSocket:
    fd = inherited.get((proto, address))
    if fd is not None:
        sock = socket.socket(fileno=fd)
        sock.setblocking(False)
        unix_path = address if sock.family == socket.AF_UNIX and not address.startswith("@") else None
        return ListenSocket(address, proto, sock, unix_path)
    try:
        parse_address(address)
    except ValueError as exc:
        raise ConfigError(f"bad socket address '{address}': {exc}", origin, option) from None
    sock, unix_path = _bind(address, config)
    return ListenSocket(address, proto, sock, unix_path)


def inheritance_env(sockets: list[ListenSocket]) -> str:
    """Mark the sockets inheritable and return the ``UWKERNEL_SOCKETS`` value naming them."""
    items = {}
    for s in sockets:
        s.sock.set_inheritable(True)
        key = ("shared", s.shared_as) if s.shared_as else (s.proto, s.name)
        items[key] = s.fileno
    return ";".join(f"{proto}|{name}|{fd}" for (proto, name), fd in items.items())
