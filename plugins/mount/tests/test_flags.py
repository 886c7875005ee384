"""Flag names and argument parsing of mount and umount (no privileges needed)."""
from __future__ import annotations

import pytest

from uwkernel_mount import flags
from uwkernel_mount.mount import MountCall, UmountCall, parse_mount, parse_umount


@pytest.mark.parametrize("text, value", [
    (None, 0),
    ("", 0),
    ("defaults", 0),
    ("bind", flags.MS_BIND),
    ("bind,rec", flags.MS_BIND | flags.MS_REC),
    ("bind,recursive", flags.MS_BIND | flags.MS_REC),
    ("ro", flags.MS_RDONLY),
    ("readonly", flags.MS_RDONLY),
    ("rdonly", flags.MS_RDONLY),
    ("remount,bind,ro", flags.MS_REMOUNT | flags.MS_BIND | flags.MS_RDONLY),
    ("nosuid,nodev,noexec", flags.MS_NOSUID | flags.MS_NODEV | flags.MS_NOEXEC),
    ("private", 1 << 18),
    ("slave", 1 << 19),
    ("shared", 1 << 20),
    ("rec,private", flags.MS_REC | flags.MS_PRIVATE),
    ("noatime,sync,dirsync,mandlock,move", 1024 | 16 | 128 | 64 | 8192),
    ("defaults,,nodev", flags.MS_NODEV),
])
def test_mount_flags(text, value):
    assert flags.parse_mount_flags(text) == value


@pytest.mark.parametrize("text", ["bnid", "ro,bogus", "force", "detach", "RO"])
def test_unknown_mount_flag_is_named(text):
    with pytest.raises(ValueError, match="unknown mount flag"):
        flags.parse_mount_flags(text)


@pytest.mark.parametrize("text, value, recursive", [
    (None, 0, False),
    ("", 0, False),
    ("detach", flags.MNT_DETACH, False),
    ("lazy", flags.MNT_DETACH, False),
    ("force", flags.MNT_FORCE, False),
    ("force,detach", flags.MNT_FORCE | flags.MNT_DETACH, False),
    ("rec", 0, True),
    ("recursive,detach", flags.MNT_DETACH, True),
    ("nofollow,expire", flags.UMOUNT_NOFOLLOW | flags.MNT_EXPIRE, False),
])
def test_umount_flags(text, value, recursive):
    assert flags.parse_umount_flags(text) == (value, recursive)


@pytest.mark.parametrize("text", ["bind", "ro", "lazzy"])
def test_unknown_umount_flag_is_named(text):
    with pytest.raises(ValueError, match=f"unknown umount flag '{text}'"):
        flags.parse_umount_flags(text)


def test_parse_mount_fields():
    assert parse_mount("tmpfs none /mnt") == MountCall("tmpfs", "none", "/mnt", 0, None)
    assert parse_mount("tmpfs none /mnt nosuid,nodev size=10m,mode=755") == MountCall(
        "tmpfs", "none", "/mnt", flags.MS_NOSUID | flags.MS_NODEV, "size=10m,mode=755")
    assert parse_mount("none /src /dst bind,rec").flags == flags.MS_BIND | flags.MS_REC
    assert parse_mount(" /src /dst bind") == MountCall(None, "/src", "/dst", flags.MS_BIND, None)
    assert parse_mount("fuse src /dst defaults a=1 b=2").data == "a=1 b=2"


@pytest.mark.parametrize("args", ["", "tmpfs", "tmpfs none", "tmpfs none ", "tmpfs  /mnt"])
def test_parse_mount_syntax_errors(args):
    with pytest.raises(ValueError, match="<fs> <source> <target>"):
        parse_mount(args)


def test_parse_mount_unknown_flag():
    with pytest.raises(ValueError, match="unknown mount flag 'bogus'"):
        parse_mount("tmpfs none /mnt bogus")


def test_parse_umount():
    assert parse_umount("/mnt") == UmountCall("/mnt", 0, False)
    assert parse_umount("/mnt detach") == UmountCall("/mnt", flags.MNT_DETACH, False)
    assert parse_umount("/mnt rec,force") == UmountCall("/mnt", flags.MNT_FORCE, True)
    with pytest.raises(ValueError, match="<target>"):
        parse_umount("")
    with pytest.raises(ValueError, match="unknown umount flag"):
        parse_umount("/mnt bind")
