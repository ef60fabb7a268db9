"""What /proc says about processes: group members, children, CPU time and peak memory."""

from __future__ import annotations

import os
from pathlib import Path

PROC = Path("/proc")


def stat_fields(pid: int | str) -> list[str] | None:
    """Fields of /proc/<pid>/stat from the third ("state") on, or None if it is gone."""
    try:
        raw = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    return raw[raw.rfind(")") + 2 :].split()


def _pids() -> list[int]:
    return [int(entry.name) for entry in PROC.iterdir() if entry.name.isdigit()]


def group_members(pgid: int) -> list[int]:
    """Live (non-zombie) processes of process group `pgid`."""
    return [
        pid
        for pid in _pids()
        if (fields := stat_fields(pid)) and int(fields[2]) == pgid and fields[0] != "Z"
    ]


def children(pid: int) -> list[int]:
    """Direct children of `pid` (task/*/children, else a scan of every process's parent)."""
    found: list[int] = []
    for task in (PROC / str(pid) / "task").glob("*"):
        try:
            found += [int(p) for p in (task / "children").read_text().split()]
        except OSError:
            continue
    if found:
        return sorted(set(found))
    return sorted(p for p in _pids() if (fields := stat_fields(p)) and int(fields[1]) == pid)


def cpu_seconds(pid: int | str) -> float:
    """User + system CPU time a process has used so far (0 if it is gone)."""
    fields = stat_fields(pid)
    if not fields:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def group_cpu_seconds(pgid: int) -> float:
    """User + system CPU time of every live process of a process group."""
    return sum(cpu_seconds(pid) for pid in group_members(pgid))


def vm_hwm_kb(pid: int) -> int:
    """Peak resident set size (VmHWM) of a process, in KiB; 0 if it is gone."""
    try:
        for line in (PROC / str(pid) / "status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def machine_cpu_seconds() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, from /proc/stat."""
    values = [int(v) for v in (PROC / "stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)  # idle + iowait
    total = sum(values[:8])  # guest time is already counted in user
    tick = os.sysconf("SC_CLK_TCK")
    return (total - idle) / tick, total / tick
