"""Entry point of the fork server: ``python -m pytest_loadtest.runtime.forkserver_main CONTROL_FD``.

Starting an engine process costs most of a second, nearly all of it importing Locust (which gevent-patches). The
fork server pays that once per pytest session: it imports everything an engine needs, then waits on its control
socket. Each request there is one byte with two descriptors attached (SCM_RIGHTS): the scenario's connection and its
stderr file. The server forks; the child becomes an engine process in a session of its own, with the connection as
its stdin and stdout and the file as its stderr, and runs ``engine_main.main`` exactly as a spawned engine does.
When the child exits, the server writes ``EngineExited`` (see ``engine/protocol.py``) on that connection and closes
it.

The requester hanging up its end of a connection withdraws the request: the server does not fork for it, or kills
the engine it forked. End of input on the control socket (the pytest process is done, or gone) kills what is left
and ends the server.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import select
import signal
import socket
import sys
import time
import traceback
from dataclasses import dataclass

from pytest_loadtest.engine import protocol

# The server is plain blocking code: these are taken before importing Locust gevent-patches them (gevent's os.close,
# for one, defers closing to its event loop, which never runs here).
_poll = select.poll
_fork_process = os.fork
_waitpid = os.waitpid
_close = os.close
_recv_fds = socket.recv_fds

_HANG_UP = select.POLLHUP | select.POLLERR
_REAP_POLL_MS = (5, 200)
"""How often to look again for a child whose exit pipe closed before it could be reaped: often in the first second
(a child closes its descriptors just before it can be reaped), then seldom (it closed the pipe itself, and runs)."""


@dataclass
class _Child:
    pid: int
    connection: int
    exited: int | None
    """The read end of a pipe whose write end only the child holds: end of input means it has exited (None once
    seen)."""
    killed: bool = False
    pipe_closed_at: float = 0.0


def main() -> int:
    from pytest_loadtest.runtime import engine_main, locust_run, preloaded

    control = socket.socket(fileno=int(sys.argv[1]))
    engine_main.preload()
    preloaded.remember()
    locust_run.freeze_heap()  # the engines inherit it frozen: their collections skip it, and leave its pages shared
    children: list[_Child] = []
    while True:
        events = _wait(control, children)
        for child in list(children):
            happened = events.get(child.connection, 0)
            if happened & _HANG_UP and not child.killed:  # the requester is gone: so is its engine
                _kill(child)
            if child.exited is not None and events.get(child.exited):
                _close(child.exited)
                child.exited = None
                child.pipe_closed_at = time.monotonic()
            if child.exited is None and _reaped(child):
                children.remove(child)
        if control.fileno() in events and not _serve_request(control, children):
            break
    for child in children:
        _kill(child)
        _waitpid(child.pid, 0)
        _close(child.connection)
    return 0


def _wait(control: socket.socket, children: list[_Child]) -> dict[int, int]:
    poller = _poll()
    poller.register(control.fileno(), select.POLLIN)
    for child in children:
        if child.exited is not None:
            poller.register(child.exited, select.POLLIN)
        if not child.killed:
            poller.register(child.connection, 0)  # hang-up only: the engine itself reads what arrives there
    pending = [time.monotonic() - child.pipe_closed_at for child in children if child.exited is None]
    timeout = None if not pending else _REAP_POLL_MS[0] if min(pending) < 1.0 else _REAP_POLL_MS[1]
    return dict(poller.poll(timeout))


def _kill(child: _Child) -> None:
    child.killed = True
    with contextlib.suppress(OSError):
        os.killpg(child.pid, signal.SIGKILL)


def _reaped(child: _Child) -> bool:
    """Reap an exited child and report its exit on its connection; False while it still runs."""
    pid, status = _waitpid(child.pid, os.WNOHANG)
    if pid == 0:
        return False
    _send(child.connection, protocol.EngineExited(os.waitstatus_to_exitcode(status)))
    _close(child.connection)
    return True


def _send(connection: int, message: protocol.Message) -> None:
    with contextlib.suppress(OSError):  # the requester may be gone
        os.write(connection, protocol.encode(message))


def _serve_request(control: socket.socket, children: list[_Child]) -> bool:
    """Fork an engine for one request; False at the end of input (no more requests)."""
    message, fds, _, _ = _recv_fds(control, len(protocol.FORK_REQUEST), 2)
    if message != protocol.FORK_REQUEST or len(fds) != 2:
        for fd in fds:
            _close(fd)
        return bool(message)
    connection, stderr = fds
    try:
        if _withdrawn(connection):  # the scenario ended (Ctrl-C) before its engine could be forked
            _close(connection)
        else:
            children.append(_fork(connection, stderr, control, children))
    except OSError as exc:  # out of processes or descriptors: this scenario fails, the server goes on
        _send(connection, protocol.EngineFailed(f"the fork server could not fork: {exc}"))
        _close(connection)
    finally:
        _close(stderr)
    return True


def _withdrawn(connection: int) -> bool:
    """Whether the requester has closed its end of the connection already."""
    poller = _poll()
    poller.register(connection, select.POLLIN)
    return any(events & select.POLLHUP for _, events in poller.poll(0))


def _fork(connection: int, stderr: int, control: socket.socket, children: list[_Child]) -> _Child:
    exited, holder = os.pipe()
    try:
        pid = _fork_process()
    except OSError:
        _close(exited)
        _close(holder)
        raise
    if pid == 0:
        _become_engine(connection, stderr, [control.fileno(), exited, *_fds_of(children)])
    _close(holder)
    return _Child(pid, connection, exited)


def _fds_of(children: list[_Child]) -> list[int]:
    return [fd for child in children for fd in (child.connection, child.exited) if fd is not None]


def _become_engine(connection: int, stderr: int, servers: list[int]) -> None:
    """The child's whole life: nothing of the server's survives but its imports; it never returns to the loop."""
    code = 1
    try:
        import gevent

        for fd in servers:
            _close(fd)
        gevent.reinit()
        os.setsid()
        code = _engine(connection, stderr)
    except SystemExit as exc:  # as a spawned engine's interpreter would exit
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:
        traceback.print_exc()
    finally:
        with contextlib.suppress(BaseException):
            atexit._run_exitfuncs()  # what a spawned engine's interpreter runs at exit (logging.shutdown, ...)
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(BaseException):
                stream.flush()
        os._exit(code)


def _engine(connection: int, stderr: int) -> int:
    from pytest_loadtest.runtime import engine_main

    os.dup2(connection, 0)
    os.dup2(connection, 1)
    os.dup2(stderr, 2)
    _close(connection)
    _close(stderr)
    return engine_main.main()


if __name__ == "__main__":
    sys.exit(main())
