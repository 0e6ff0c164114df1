"""Entry point of the fork server: ``python -m pytest_loadtest.forkserver_process CONTROL_FD``.

Starting an engine process costs most of a second, nearly all of it importing Locust (which gevent-patches). The
fork server pays that once per pytest session: it imports everything an engine needs, then waits on its control
socket. Each request there is one byte with two descriptors attached (SCM_RIGHTS): the scenario's connection and its
stderr file. The server forks; the child becomes an engine process in a session of its own, with the connection as
its stdin and stdout and the file as its stderr, and runs ``engine_process.main`` exactly as a spawned engine does.
When the child exits, the server writes ``{"type": "exit", "code": N}`` on that connection and closes it. End of
input on the control socket (the pytest process is gone or done) kills what is left and ends the server.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import socket
import sys
import traceback
from dataclasses import dataclass


@dataclass(frozen=True)
class _Child:
    pid: int
    connection: int
    exited: int
    """The read end of a pipe whose write end only the child holds: end of input means the child has exited."""


# The server is plain blocking code: these are taken before importing Locust gevent-patches them (gevent's os.close,
# for one, defers closing to its event loop, which never runs here).
_select = select.select
_poll = select.poll
_fork_process = os.fork
_waitpid = os.waitpid
_close = os.close
_recv_fds = socket.recv_fds


def main() -> int:
    from pytest_loadtest import engine_process

    control = socket.socket(fileno=int(sys.argv[1]))
    engine_process.preload()
    children: dict[int, _Child] = {}
    while True:
        readable, _, _ = _select([control.fileno(), *children], [], [])
        for fd in readable:
            if fd in children:
                _report_exit(children.pop(fd))
        if control.fileno() in readable:
            message, fds, _, _ = _recv_fds(control, 1, 2)
            if not message:
                break
            connection, stderr = fds
            if _withdrawn(connection):  # the scenario ended (Ctrl-C) before its engine was forked
                _close(connection)
                _close(stderr)
                continue
            child = _fork(connection, stderr, control, children)
            children[child.exited] = child
    for child in children.values():
        with contextlib.suppress(OSError):
            os.killpg(child.pid, signal.SIGKILL)
        _report_exit(child)
    return 0


def _withdrawn(connection: int) -> bool:
    """Whether the requester has closed its end of the connection already."""
    poller = _poll()
    poller.register(connection, select.POLLIN)
    return any(events & select.POLLHUP for _, events in poller.poll(0))


def _fork(connection: int, stderr: int, control: socket.socket, children: dict[int, _Child]) -> _Child:
    import gevent

    exited, holder = os.pipe()
    pid = _fork_process()
    if pid == 0:  # the engine: nothing of the server's survives but its imports
        gevent.reinit()
        os.setsid()
        _close(exited)
        control.close()
        for child in children.values():
            _close(child.connection)
            _close(child.exited)
        code = 1
        try:
            code = _engine(connection, stderr)
        except BaseException:  # never back into the server's loop: show it, and end here whatever happened
            traceback.print_exc()
        finally:
            os._exit(code)
    _close(holder)
    _close(stderr)
    return _Child(pid, connection, exited)


def _engine(connection: int, stderr: int) -> int:
    from pytest_loadtest import engine_process

    os.dup2(connection, 0)
    os.dup2(connection, 1)
    os.dup2(stderr, 2)
    _close(connection)
    _close(stderr)
    try:
        return engine_process.main()
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()


def _report_exit(child: _Child) -> None:
    _, status = _waitpid(child.pid, 0)
    with contextlib.suppress(OSError):
        os.write(
            child.connection,
            json.dumps({"type": "exit", "code": os.waitstatus_to_exitcode(status)}).encode() + b"\n",
        )
    _close(child.connection)
    _close(child.exited)


if __name__ == "__main__":
    sys.exit(main())
