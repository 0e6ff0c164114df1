"""Processes a scenario's user code started and left running: found and ended with the scenario.

Every engine runs in a process group (and session) of its own, and its environment carries ``RUN_VARIABLE`` with a
token of its run. At the end of the scenario, before the engine is reaped, ``end_leftovers`` ends every process still
in the engine's group (what user code started plainly: ``subprocess.Popen``, ``os.fork``, ``multiprocessing``; the
engine and its local workers too) or whose environment carries the token (what left the group: a daemon started with
``start_new_session=True``, a double fork), and describes each by pid and command line. Finding them reads ``/proc``
(Linux); elsewhere the group is ended unseen, and a process that left both the group and its environment is not
found.

The engine's group id stays reserved while a process is in the group (the system gives no new process that id), so
ending the group of an engine that has already exited can only reach the engine's own descendants.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
from collections.abc import Iterator
from dataclasses import dataclass

RUN_VARIABLE = "PYTEST_LOADTEST_RUN"
"""In every engine's environment (and so in its descendants'): a token of that scenario's run."""
_PROC = "/proc"
_OWN_PROCESSES = b"pytest_loadtest.runtime."
"""In the command line of the plugin's own processes (engines, local workers): they are ended without a word."""
_PF_EXITING = 0x4
"""The kernel's flag (in /proc/PID/stat) of a process that is exiting."""
_SIGKILL_BIT = 1 << (signal.SIGKILL - 1)
"""SIGKILL in the pending-signal masks of /proc/PID/status."""
SHOWN_COMMAND = 200
"""Characters of a leftover's command line that its description shows."""


def new_token() -> str:
    return secrets.token_hex(8)


@dataclass(frozen=True)
class Leftover:
    pid: int
    command: str
    own: bool
    """One of the plugin's processes (an engine or a local worker not yet gone), not one user code started."""

    def describe(self) -> str:
        return f"pid {self.pid}: {self.command}"


def end_leftovers(token: str, group: int | None) -> list[Leftover]:
    """End the processes the run with ``token`` left behind (``group``: its engine's pid, when it is known)."""
    if not os.path.isdir(_PROC):
        if group is not None:
            with contextlib.suppress(OSError):
                os.killpg(group, signal.SIGKILL)
        return []
    found = list(_find(f"{RUN_VARIABLE}={token}".encode(), group))
    for leftover in found:
        with contextlib.suppress(OSError):
            os.kill(leftover.pid, signal.SIGKILL)
    return found


def _find(marker: bytes, group: int | None) -> Iterator[Leftover]:
    """The processes of the run still running: in ``group``, or carrying ``marker`` in their environment; not those
    already ending (killed with the engine's group, say)."""
    me = os.getpid()
    for entry in os.scandir(_PROC):
        if not entry.name.isdigit() or int(entry.name) == me:
            continue
        pid = int(entry.name)
        try:
            ending, pgrp = _ending_and_group(pid)
            if ending or (pgrp != group and marker not in _read(pid, "environ").split(b"\0")):
                continue
            command = _read(pid, "cmdline")
        except (OSError, ValueError, IndexError):  # gone meanwhile, not ours to read
            continue
        yield Leftover(pid, _shown(command), pid == group or _OWN_PROCESSES in command)


def _ending_and_group(pid: int) -> tuple[bool, int]:
    """Whether the process is ending already (a zombie, exiting, or a SIGKILL pending), and its process group."""
    stat = _read(pid, "stat")
    fields = stat[stat.rindex(b")") + 2 :].split()  # after "pid (command name)", which may hold spaces
    state, pgrp, flags = fields[0], int(fields[2]), int(fields[6])
    if state in (b"Z", b"X") or flags & _PF_EXITING:
        return True, pgrp
    pending = 0
    for line in _read(pid, "status").splitlines():
        if line.startswith((b"SigPnd:", b"ShdPnd:")):
            pending |= int(line.split()[1], 16)
    return bool(pending & _SIGKILL_BIT), pgrp


def _read(pid: int, name: str) -> bytes:
    with open(f"{_PROC}/{pid}/{name}", "rb") as file:
        return file.read()


def _shown(command: bytes) -> str:
    text = command.rstrip(b"\0").replace(b"\0", b" ").decode(errors="replace") or "(no command line)"
    return text if len(text) <= SHOWN_COMMAND else text[: SHOWN_COMMAND - 3] + "..."
