"""End to end through ``python -m uwkernel --ini`` (in a private mount namespace), once everything is installed."""
from __future__ import annotations


def test_mount_asap_runs_before_exec_asap(run_uwkernel, tmp_path):
    target = tmp_path / "mnt"
    target.mkdir()
    result = run_uwkernel(f"""
        mount-asap = tmpfs none {target} nosuid size=1m
        exec-asap = grep " {target} tmpfs " /proc/self/mounts > {tmp_path}/seen
    """, tmp_path, namespace=True)
    assert result.returncode == 0, result.stderr
    assert "nosuid" in (tmp_path / "seen").read_text()


def test_failing_umount_stops_the_instance(run_uwkernel, tmp_path):
    result = run_uwkernel(f"hook-asap = umount:{tmp_path}/not-mounted\n", tmp_path, namespace=True)
    assert result.returncode == 1
    line = next(line for line in result.stderr.splitlines() if "FATAL hook failed" in line)
    assert "asap" in line and f"umount:{tmp_path}/not-mounted" in line and "Errno" in line


def test_bad_mount_flag_is_a_config_error(run_uwkernel, tmp_path):
    result = run_uwkernel(f"mount-asap = tmpfs none {tmp_path} nosiud\n", tmp_path)
    assert result.returncode == 1
    assert "nosiud" in result.stderr and "mount-asap" in result.stderr
