"""The mount and umount handlers, the plugin's options, and the configure-time check of mount lines."""
from __future__ import annotations

import errno
import json
import sys
import textwrap

import pytest

import uwkernel_mount
from uwkernel.errors import ConfigError
from uwkernel.phases import Phase
from uwkernel.plugins import PluginManager
from uwkernel_mount.mount import mount, umount

# ---------------------------------------------------------------------------------------------------
# Registration and configure-time checks
# ---------------------------------------------------------------------------------------------------


def test_options_and_handlers_through_the_kernel(monkeypatch):
    plugins = PluginManager(entry_points=False)
    plugins.load_module("uwkernel_mount")
    for phase in Phase:
        for kind in ("mount", "umount"):
            option = plugins.options.get(f"{kind}-{phase.value}")
            assert option.kind == "list"
            assert (option.phase_hook.kind, option.phase_hook.handler) == (kind, kind)
    calls = []
    monkeypatch.setattr("uwkernel_mount.mount.mount", lambda args: calls.append(("mount", args)))
    monkeypatch.setattr("uwkernel_mount.mount.umount", lambda args: calls.append(("umount", args)))
    plugins.handlers["mount"].func("tmpfs none /srv")
    plugins.handlers["umount"].func("/srv detach")
    assert calls == [("mount", "tmpfs none /srv"), ("umount", "/srv detach")]


def test_configure_accepts_valid_lines(make_config):
    uwkernel_mount.uwkernel_configure(make_config({
        "mount-asap": ["tmpfs none /mnt nosuid,nodev size=1m"],
        "umount-as-root": ["/mnt detach"],
        "hook-pre-jail": ["mount:none /a /b bind,rec", "!umount:/b lazy", "exec:anything", "no colon here"],
    }))


@pytest.mark.parametrize("option, value, message", [
    ("mount-asap", "tmpfs none", "mount: expected"),
    ("mount-in-jail", "tmpfs none /mnt bnid", "unknown mount flag 'bnid'"),
    ("umount-post-app", "/mnt lazzy", "unknown umount flag 'lazzy'"),
    ("hook-as-root", "mount:tmpfs none /mnt ro,nope", "unknown mount flag 'nope'"),
    ("hook-asap", "!umount:/mnt bind", "unknown umount flag 'bind'"),
])
def test_configure_rejects_bad_lines_naming_option_and_origin(make_config, option, value, message):
    with pytest.raises(ConfigError) as info:
        uwkernel_mount.uwkernel_configure(make_config({option: [value]}))
    text = str(info.value)
    assert message in text and f"'{option}'" in text and "test.ini:1" in text


# ---------------------------------------------------------------------------------------------------
# Failures that need no privileges and change nothing
# ---------------------------------------------------------------------------------------------------


def test_mount_syntax_error():
    with pytest.raises(ValueError, match="expected"):
        mount("tmpfs none")


def test_mount_failure_carries_errno(tmp_path):
    with pytest.raises(OSError) as info:
        mount(f"uwk-no-such-fs none {tmp_path}")
    assert info.value.errno in (errno.ENODEV, errno.EPERM)
    assert "mount(" in str(info.value) and str(tmp_path) in str(info.value)


def test_umount_of_a_plain_directory_fails_with_errno(tmp_path):
    with pytest.raises(OSError) as info:
        umount(str(tmp_path))
    assert info.value.errno in (errno.EINVAL, errno.EPERM)
    assert "umount2(" in str(info.value)


# ---------------------------------------------------------------------------------------------------
# Real mounts, inside a private mount namespace
# ---------------------------------------------------------------------------------------------------

PREAMBLE = """
import json, os, sys
from uwkernel_mount.mount import mount, umount

def mounts(path):
    with open("/proc/self/mounts") as table:
        return [line.split() for line in table if line.split()[1] == path]

def error(call, *args):
    try:
        call(*args)
    except OSError as exc:
        return [exc.errno, str(exc)]
    return None

base = sys.argv[1]
report = {}
"""


def _run(in_namespace, tmp_path, body: str) -> dict:
    """Run PREAMBLE + body in a private mount namespace with ``base`` = tmp_path; return its ``report``."""
    script = PREAMBLE + textwrap.dedent(body) + "\nprint(json.dumps(report))\n"
    result = in_namespace(sys.executable, "-c", script, str(tmp_path))
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


def test_tmpfs_with_flags_and_data(in_namespace, tmp_path):
    (tmp_path / "a").mkdir()
    report = _run(in_namespace, tmp_path, """
        target = base + "/a"
        mount(f"tmpfs none {target} nosuid,nodev size=1m,mode=700")
        report["mounted"] = mounts(target)
        open(target + "/file", "w").write("x")
        umount(target)
        report["after"] = mounts(target)
        report["file_gone"] = not os.path.exists(target + "/file")
    """)
    [[source, _, fstype, options, *_]] = report["mounted"]
    assert fstype == "tmpfs"
    assert {"nosuid", "nodev", "size=1024k", "mode=700"} <= set(options.split(","))
    assert report["after"] == [] and report["file_gone"]
    assert not (tmp_path / "a" / "file").exists()  # the mount never left the namespace


def test_bind_then_readonly_remount(in_namespace, tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "seen").write_text("")
    (tmp_path / "dst").mkdir()
    report = _run(in_namespace, tmp_path, """
        mount(f"none {base}/src {base}/dst bind")
        report["seen"] = os.path.exists(base + "/dst/seen")
        mount(f"none {base}/src {base}/dst remount,bind,ro")
        report["write"] = error(lambda: open(base + "/dst/new", "w"))
        umount(base + "/dst detach")
        report["after"] = mounts(base + "/dst")
    """)
    assert report["seen"]
    assert report["write"][0] == errno.EROFS
    assert report["after"] == []


def test_recursive_umount_and_busy_failure(in_namespace, tmp_path):
    (tmp_path / "top").mkdir()
    report = _run(in_namespace, tmp_path, """
        top = base + "/top"
        mount(f"tmpfs none {top}")
        os.mkdir(top + "/sub")
        mount(f"tmpfs none {top}/sub")
        report["busy"] = error(umount, top)
        umount(top + " rec")
        report["after"] = mounts(top) + mounts(top + "/sub")
    """)
    assert report["busy"][0] == errno.EBUSY and "Device or resource busy" in report["busy"][1]
    assert report["after"] == []


def test_unknown_filesystem_type_fails_with_enodev(in_namespace, tmp_path):
    report = _run(in_namespace, tmp_path, """
        report["error"] = error(mount, f"uwk-no-such-fs none {base}")
    """)
    assert report["error"][0] == errno.ENODEV and "No such device" in report["error"][1]
