"""Option records: the kernel's own options and the registry of every option plugins add.

The kernel adds its options through the same ``uwkernel_add_options`` hook as any plugin
(:mod:`uwkernel.builtin`).
"""
from __future__ import annotations

from typing import Callable, Iterable, Iterator

from .config.directives import CONFIG_OPTIONS
from .errors import PluginError
from .phases import Phase
from .types import Option

KERNEL_OPTIONS: list[Option] = [
    *CONFIG_OPTIONS,
    Option("plugin", kind="list", aliases=("plugins",),
           help="uWSGI plugin names (python3, http) or dotted module paths to load as plugins"),
    Option("no-plugin", kind="list", help="do not load the named uwkernel plugin"),
    Option("show-config", kind="bool", help="print the resolved configuration as ini at start-up"),
    Option("uid", help="drop privileges to this user (name or number) after as-root"),
    Option("gid", help="drop privileges to this group (name or number) after as-root"),
    Option("chroot", help="chroot() to this directory between pre-jail and post-jail"),
    # -- sockets ---------------------------------------------------------------------------------
    Option("socket", kind="list", short="s", aliases=("uwsgi-socket",),
           help="bind ADDR speaking the uwsgi protocol (host:port, :port, [::1]:port, /path, @abstract, =N)"),
    Option("http-socket", kind="list", help="bind ADDR speaking HTTP, one request per connection"),
    Option("http11-socket", kind="list", help="bind ADDR speaking HTTP/1.1 with keep-alive"),
    Option("http", kind="list",
           help="serve HTTP on ADDR (uWSGI's router; here the workers serve it directly)"),
    Option("http-keepalive", kind="bool", help="keep-alive on the `http` sockets"),
    Option("shared-socket", kind="list", help="bind ADDR early; use it as `=N` in socket options"),
    Option("listen", kind="int", short="l", default=100, help="the listen backlog of each socket"),
    Option("reuse-port", kind="bool", help="set SO_REUSEPORT on TCP sockets"),
    Option("chmod-socket", short="C", help="chmod UNIX sockets to this octal mode (666 without a value)"),
    Option("chown-socket", help="chown UNIX sockets to user[:group]"),
    Option("socket-timeout", kind="int", short="z", default=4, help="seconds a client may take to send or receive"),
    Option("buffer-size", kind="int", short="b", default=4096,
           help="the largest uwsgi packet or HTTP request head accepted, in bytes"),
    Option("max-vars", kind="int", default=64, help="the most variables a uwsgi packet may carry"),
    # -- processes -------------------------------------------------------------------------------
    Option("master", kind="bool", short="M", help="run a master process that manages the workers"),
    Option("processes", kind="int", short="p", default=1, aliases=("workers",), help="the number of workers"),
    Option("lazy-apps", kind="bool", help="load the apps in each worker after fork, not in the master"),
    Option("lazy", kind="bool", help="like lazy-apps, and reloads are brutal (as uWSGI's lazy)"),
    Option("forkbomb-delay", kind="int", default=2,
           help="seconds to wait before respawning a worker that died right after spawning"),
    Option("pidfile", help="write the master's pid to this file (as the user before the privilege drop)"),
    Option("pidfile2", help="write the master's pid to this file after the privilege drop"),
    Option("daemonize", short="d", help="detach from the terminal and log to this file"),
    Option("chdir", help="chdir to this directory before loading the apps"),
    Option("env", kind="list", help="set NAME=VALUE in the environment"),
    Option("vacuum", kind="bool", help="remove UNIX sockets and pidfiles at exit"),
    # -- procnames -------------------------------------------------------------------------------
    Option("auto-procname", kind="bool", help="name the processes (always on in uwkernel)"),
    Option("procname-prefix", help="prefix every process name with this text"),
    Option("procname-prefix-spaced", help="prefix every process name with this text and a space"),
    Option("procname-append", help="append this text to every process name"),
    Option("procname-master", help="the master's process name"),
    # -- reloading and limits --------------------------------------------------------------------
    Option("harakiri", kind="int", short="t", default=0, help="kill a worker whose request runs over N seconds"),
    Option("harakiri-verbose", kind="bool", help="log more about harakiri kills"),
    Option("max-requests", kind="int", short="R", default=0, help="reload a worker after N requests"),
    Option("max-requests-delta", kind="int", default=0, help="add worker id * N to max-requests"),
    Option("min-worker-lifetime", kind="int", default=10,
           help="seconds a worker lives before max-requests can reload it"),
    Option("max-worker-lifetime", kind="int", default=0, help="reload a worker after N seconds"),
    Option("reload-on-rss", kind="int", default=0, help="reload a worker whose RSS exceeds N megabytes"),
    Option("worker-reload-mercy", kind="int", default=60,
           help="seconds a worker may take to finish its request on a reload before it is killed"),
    Option("reload-mercy", kind="int", default=60,
           help="seconds the workers may take to stop on shutdown or reload before they are killed"),
    Option("exit-on-reload", kind="bool", help="exit instead of reloading on SIGHUP"),
    Option("die-on-term", kind="bool",
           help="SIGTERM shuts the instance down (the default here, as in uWSGI 2.1; accepted for 2.0 files)"),
    Option("touch-reload", kind="list", help="gracefully reload the instance when FILE is touched"),
    Option("touch-workers-reload", kind="list", help="gracefully reload the workers when FILE is touched"),
    Option("touch-chain-reload", kind="list", help="chain-reload the workers when FILE is touched"),
    # -- monitoring ------------------------------------------------------------------------------
    Option("stats", aliases=("stats-server",), help="serve the stats JSON on ADDR (TCP if it has ':', else UNIX)"),
    Option("stats-http", kind="bool", help="answer the stats server in HTTP"),
    Option("stats-minified", kind="bool", aliases=("stats-min",), help="minified stats JSON"),
    Option("master-fifo", kind="list", help="read one-letter commands from this FIFO (repeatable: slots 0-9)"),
    # -- logging ---------------------------------------------------------------------------------
    Option("logto", help="log to this file instead of stderr"),
    Option("logto2", help="log to this file after the privilege drop"),
    Option("log-date", aliases=("logdate",), help="prefix log lines with the date (or this strftime format)"),
    Option("disable-logging", kind="bool", short="L", help="do not log requests"),
    Option("log-format", aliases=("logformat",), help="the request log line, with %(var) names as uWSGI's"),
    Option("log-master", kind="bool", help="let the master write the workers' log lines"),
    *(
        Option(phase.hook_option, kind="list",
               help=f"run handler:args in the {phase.value} phase ({'fatal' if phase.fatal else 'not fatal'})")
        for phase in Phase
    ),
]


class OptionRegistry:
    """Every known option, looked up by name, alias or short form.

    Built from the options all plugins returned; a name, alias or short form claimed twice raises
    :class:`~uwkernel.errors.PluginError` naming both plugins as ``describe(plugin)`` renders them.
    """

    def __init__(self, options: Iterable[Option], describe: Callable[[str], str] = repr):
        self._options: list[Option] = []
        self._by_name: dict[str, Option] = {}
        self._by_short: dict[str, Option] = {}
        for option in options:
            for key, table in [(n, self._by_name) for n in option.names] + (
                [(option.short, self._by_short)] if option.short else []
            ):
                other = table.get(key)
                if other is not None:
                    raise PluginError(
                        f"option '{key}' is claimed by both {describe(other.plugin)} and {describe(option.plugin)}"
                    )
                table[key] = option
            self._options.append(option)

    def __iter__(self) -> Iterator[Option]:
        return iter(self._options)

    def __len__(self) -> int:
        return len(self._options)

    def get(self, name: str) -> Option | None:
        """The option called ``name`` (or with that alias), or None."""
        return self._by_name.get(name)

    def by_short(self, letter: str) -> Option | None:
        """The option whose short form is ``letter`` (``p`` for ``-p``), or None."""
        return self._by_short.get(letter)

    def closest(self, name: str) -> str | None:
        """The known option name closest to ``name``, for "did you mean" messages."""
        import difflib

        matches = difflib.get_close_matches(name, self._by_name, n=1, cutoff=0.6)
        return matches[0] if matches else None

    def by_plugin(self) -> dict[str, list[Option]]:
        """Options grouped by the plugin that added them, in registration order."""
        groups: dict[str, list[Option]] = {}
        for option in self._options:
            groups.setdefault(option.plugin, []).append(option)
        return groups
