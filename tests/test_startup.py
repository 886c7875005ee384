"""What keeps start-up short: cheap plugin entry modules, cheap records, setproctitle without logging."""
from __future__ import annotations

import dataclasses
import inspect
import subprocess
import sys

import pytest

from uwkernel.types import ModuleName, Option, PhaseHook, StatsFragment

#: Modules an instance without the matching options never needs: importing the plugins must not load them.
LAZY_MODULES = (
    "json", "subprocess", "runpy", "traceback", "glob", "logging", "setproctitle",
    "uwkernel.config.formats", "uwkernel.config.ini", "uwkernel.config.magic", "uwkernel.config.blocks",
    "uwkernel.config.custom",
    "uwkernel_cron.crons", "uwkernel_signals.timers", "uwkernel_signals.remote", "uwkernel_signals.targets",
    "uwkernel_rpc.wire", "uwkernel_emperor.calls", "uwkernel_emperor.emperor",
    "uwkernel_exec.files", "uwkernel_exec.process", "uwkernel_exec.shell", "uwkernel_exec.symbols",
    "uwkernel_exec.waits", "uwkernel_mount.mount",
    "uwkernel_spooler.api", "uwkernel_spooler.context", "uwkernel_spooler.enqueue", "uwkernel_spooler.loop",
    "uwkernel_spooler.remote", "uwkernel_spooler.supervise",
)
#: The plugins of this repository whose entry modules import the rest lazily.
LEAN_PLUGINS = ("cron", "signals", "mules", "rpc", "emperor", "exec", "mount", "spooler")


def _python(code: str) -> str:
    """Run ``code`` in a fresh interpreter; its stdout."""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_kernel_and_plugin_entry_modules_leave_the_rest_unimported():
    modules = ", ".join(f"uwkernel_{name}" for name in LEAN_PLUGINS)
    out = _python(f"import sys, uwkernel.master, {modules}\nprint(' '.join(sorted(sys.modules)))")
    assert sorted(set(LAZY_MODULES) & set(out.split())) == []


def test_importing_the_command_leaves_pluggy_and_typing_to_the_instance():
    out = _python("import sys, uwkernel.cli\nprint(' '.join(sorted(sys.modules)))")
    assert sorted({"pluggy", "typing", "inspect", "dataclasses"} & set(out.split())) == []
    assert _python("from uwkernel import hookimpl\nprint(type(hookimpl).__name__)") == "HookimplMarker\n"


def test_setproctitle_loads_the_extension_alone():
    out = _python(
        "import sys\n"
        "from uwkernel.osutil import setproctitle\n"
        "setproctitle('uwkernel test title')\n"
        "print('logging' in sys.modules)\n"
        "print(open('/proc/self/cmdline').read().split('\\0')[0].strip())\n"
        "import setproctitle\n"
        "print(setproctitle.getproctitle().strip())\n"
    )
    assert out.split("\n")[:3] == ["False", "uwkernel test title", "uwkernel test title"]


def test_records_are_frozen_dataclasses():
    option = Option("greeting", kind="int", aliases=("hello",))
    assert dataclasses.is_dataclass(option)
    assert [f.name for f in dataclasses.fields(Option)] == [
        "name", "kind", "default", "help", "short", "aliases", "phase_hook", "plugin"]
    assert str(inspect.signature(Option)) == (
        "(name: 'str', kind: 'str' = 'str', default: 'Any' = None, help: 'str' = '', short: 'str | None' = None, "
        "aliases: 'tuple[str, ...]' = (), phase_hook: 'PhaseHook | None' = None, plugin: 'str' = '') -> None")
    with pytest.raises(dataclasses.FrozenInstanceError):
        option.name = "other"
    with pytest.raises(dataclasses.FrozenInstanceError):
        del option.help
    stamped = dataclasses.replace(option, plugin="exec")
    assert (stamped.plugin, stamped.names, option.plugin) == ("exec", ("greeting", "hello"), "")
    assert option == Option("greeting", "int", aliases=("hello",)) != stamped
    assert hash(option) == hash(Option("greeting", "int", aliases=("hello",)))
    assert ModuleName("key", 1) != StatsFragment("key", 1)
    assert repr(PhaseHook("exec", "asap", "exec")) == "PhaseHook(kind='exec', phase='asap', handler='exec')"
    with pytest.raises(ValueError, match="kind 'maybe'"):
        Option("greeting", kind="maybe")
    with pytest.raises(ValueError, match="kind 'maybe'"):
        dataclasses.replace(option, kind="maybe")
    with pytest.raises(TypeError, match="missing 1 required positional argument: 'name'"):
        Option()


FROZEN_APP = """
import gc

def application(environ, start_response):
    tracked = any(obj is application for obj in gc.get_objects())  # frozen objects are not listed
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"tracked" if tracked else b"frozen"]
"""


def test_the_workers_inherit_the_app_frozen_out_of_the_collector(uwkernel_server, tmp_path):
    app = tmp_path / "app.py"
    app.write_text(FROZEN_APP)
    server = uwkernel_server("--wsgi-file", str(app), "--master", "--processes", "2")
    assert server.get("/") == (200, b"frozen")
    lazy = uwkernel_server("--wsgi-file", str(app), "--master", "--processes", "1", "--lazy-apps")
    assert lazy.get("/") == (200, b"tracked")  # loaded in the worker, after the fork: the control case
