"""Which children a signal goes to: uWSGI's target strings over the master's view of its children.

Targets (facts §3): "", ``worker``, ``worker0`` = the first free worker; ``workers``;
``active-workers``; ``workerN``; ``spooler`` (any one); ``mules``; ``mule``/``mule0`` (any one);
``muleN``; ``farm_NAME``; ``farmN`` (the N-th farm, 1-based). Anything else is unsupported.

Children are :class:`uwkernel.ipc.Child` records. Workers have role ``"worker"``; plugin processes
have their ProcessSpec name as role, so a spooler is recognised by a role or procname starting with
"spooler" / "uWSGI spooler", and a mule by "mule" with its number in the role or the procname
("mule1", "mule 1", "uWSGI mule 1").
"""
from __future__ import annotations

import re
from typing import Callable, Iterable, Sequence

from uwkernel.scoreboard import STATUS_CHEAP, STATUS_IDLE


class UnsupportedTarget(ValueError):
    """The target string names no kind of process uWSGI knows."""


#: A mule's number in its role or procname (compiled at its first use: few instances signal mules).
_MULE = r"mule\s*#?\s*(\d+)"


def kind_of(child) -> tuple[str, int]:
    """``(kind, number)`` of a child: ("worker", id), ("spooler", 0), ("mule", id) or ("other", 0)."""
    if child.role == "worker":
        return "worker", child.id
    spec = getattr(child, "spec", None)
    names = [child.role.lower(), (getattr(spec, "procname", "") or "").lower()]
    bare = [name.removeprefix("uwsgi ").strip() for name in names]
    if any(name.startswith("spooler") for name in bare):
        return "spooler", 0
    if any(name.startswith("mule") for name in bare):
        numbers = [int(found.group(1)) for found in (re.match(_MULE, name) for name in bare) if found]
        return "mule", numbers[0] if numbers else child.id + 1
    return "other", 0


def select(target: str, children: Iterable, status_of: Callable[[int], int],
           farms: Sequence[tuple[str, Sequence[int]]] = ()) -> list:
    """The children ``target`` names, in a stable order.

    ``status_of(worker_id)`` is the worker's scoreboard status; ``farms`` lists ``(name, mule ids)``.
    Raises :class:`UnsupportedTarget` for an unknown target.
    """
    kinds = [(kind_of(child), child) for child in children]
    workers = sorted((c for (k, _), c in kinds if k == "worker"), key=lambda c: c.id)
    mules = sorted(((n, c) for (k, n), c in kinds if k == "mule"), key=lambda pair: pair[0])
    if target in ("", "worker", "worker0"):
        idle = [c for c in workers if status_of(c.id) == STATUS_IDLE]
        return (idle or workers)[:1]
    if target == "workers":
        return workers
    if target == "active-workers":
        return [c for c in workers if status_of(c.id) != STATUS_CHEAP]
    if target == "spooler":
        return [c for (k, _), c in kinds if k == "spooler"][:1]
    if target == "mules":
        return [c for _, c in mules]
    if target in ("mule", "mule0"):
        return [c for _, c in mules][:1]
    number = re.fullmatch(r"(worker|mule|farm)(\d+)", target)
    if number:
        what, n = number.group(1), int(number.group(2))
        if what == "worker":
            return [c for c in workers if c.id == n]
        if what == "mule":
            return [c for m, c in mules if m == n]
        ids = set(farms[n - 1][1]) if 0 < n <= len(farms) else set()
        return [c for m, c in mules if m in ids]
    if target.startswith("farm_"):
        ids = {m for name, members in farms if name == target[5:] for m in members}
        return [c for m, c in mules if m in ids]
    raise UnsupportedTarget(target)


def parse_farms(values: Iterable[str]) -> list[tuple[str, list[int]]]:
    """``farm = NAME:1,2`` lines as ``[(name, [mule ids])]`` (malformed lines are skipped)."""
    farms = []
    for value in values:
        name, sep, members = str(value).partition(":")
        if not sep:
            continue
        ids = [int(m) for m in members.replace(" ", "").split(",") if m.isdigit()]
        farms.append((name.strip(), ids))
    return farms
