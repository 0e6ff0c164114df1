"""A host on another network, for tests that must prove nothing reaches it.

``NamespaceHost`` makes a network namespace joined to this one by a veth pair (addresses in 198.18.0.0/15, the range
RFC 2544 sets aside for network tests), and runs in it a TCP server on the given ports that counts every connection
it accepts and answers each (once it read the request) with an empty ``200 OK``. The namespace has two addresses,
``address`` and ``second_address``, both served by that server: a process started in it with ``command`` is a host of
its own, this side is ``local_address``, and the second address a third host. The counts are what reached the host;
a probe from this side when it starts proves that a connection would be counted. Making it needs root and
``ip netns``: otherwise ``NamespaceHost`` raises ``NamespaceUnavailable`` saying why, for the test to skip with that
reason.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from types import TracebackType
from typing import IO

_SERVER = """
import selectors, socket, sys
selector = selectors.DefaultSelector()
for port in map(int, sys.argv[1:]):
    listener = socket.create_server(("0.0.0.0", port))
    selector.register(listener, selectors.EVENT_READ, port)
print("ready", flush=True)
while True:
    for key, _ in selector.select():
        connection, _ = key.fileobj.accept()
        print(key.data, flush=True)
        connection.settimeout(2)
        try:
            connection.recv(65536)  # the request (one small GET), read before answering: closing on it resets
        except OSError:
            pass
        connection.sendall(b"HTTP/1.1 200 OK\\r\\nContent-Length: 0\\r\\nConnection: close\\r\\n\\r\\n")
        connection.close()
"""


class NamespaceUnavailable(RuntimeError):
    """This machine cannot make the namespace host (not root, no ``ip``, or ``ip netns add`` failed)."""


class NamespaceHost:
    """A host at ``address`` in a network namespace of its own, counting the connections to each of ``ports``."""

    PROBE_PORT = 9

    def __init__(self, ports: tuple[int, ...]) -> None:
        if os.geteuid() != 0:
            raise NamespaceUnavailable("needs root to create a network namespace (ip netns add)")
        if shutil.which("ip") is None:
            raise NamespaceUnavailable("needs the ip command (iproute2) to create a network namespace")
        offset = (os.getpid() % 16384) * 8  # a /29 of 198.18.0.0/15 per process: xdist workers do not collide
        prefix = f"198.{18 + offset // 65536}.{offset // 256 % 256}"
        self.local_address = f"{prefix}.{offset % 256 + 1}"
        self.address = f"{prefix}.{offset % 256 + 2}"
        self.second_address = f"{prefix}.{offset % 256 + 3}"
        self._name = f"pytest-loadtest-{os.getpid()}"
        self._veth = f"plt{os.getpid()}"
        self._ports = ports
        self._hits: Counter[int] = Counter()
        self._lock = threading.Lock()
        self._server: subprocess.Popen[str] | None = None
        self._reader: threading.Thread | None = None

    def command(self, *args: str) -> list[str]:
        """``args``, a command line, run inside the namespace."""
        return ["ip", "netns", "exec", self._name, *args]

    def hits(self, port: int) -> int:
        """How many connections to ``port`` reached the host so far."""
        with self._lock:
            return self._hits[port]

    def __enter__(self) -> NamespaceHost:
        try:
            _ip("netns", "add", self._name)
        except subprocess.CalledProcessError as exc:
            raise NamespaceUnavailable(f"ip netns add failed: {exc.stderr.strip()}") from None
        try:
            self._connect()
            self._start_server()
            self._probe()
        except BaseException:
            self._remove()
            raise
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._remove()

    def _connect(self) -> None:
        inside = ("netns", "exec", self._name, "ip")
        _ip("link", "add", f"{self._veth}a", "type", "veth", "peer", "name", f"{self._veth}b")
        _ip("link", "set", f"{self._veth}b", "netns", self._name)
        _ip("addr", "add", f"{self.local_address}/29", "dev", f"{self._veth}a")
        _ip("link", "set", f"{self._veth}a", "up")
        for address in (self.address, self.second_address):
            _ip(*inside, "addr", "add", f"{address}/29", "dev", f"{self._veth}b")
        _ip(*inside, "link", "set", f"{self._veth}b", "up")
        _ip(*inside, "link", "set", "lo", "up")  # for what a process started inside sends to itself

    def _start_server(self) -> None:
        ports = [str(port) for port in (*self._ports, self.PROBE_PORT)]
        command = self.command(sys.executable, "-I", "-c", _SERVER, *ports)
        self._server = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, text=True)
        assert self._server.stdout is not None
        if self._server.stdout.readline().strip() != "ready":
            raise RuntimeError(f"the namespace host's server did not start (exit code {self._server.poll()})")
        self._reader = threading.Thread(target=self._count, args=(self._server.stdout,), daemon=True)
        self._reader.start()

    def _count(self, lines: IO[str]) -> None:
        for line in lines:
            with self._lock:
                self._hits[int(line)] += 1

    def _probe(self) -> None:
        """Connect once from this side and wait until the server counted it: the host is reachable and counting."""
        with socket.create_connection((self.address, self.PROBE_PORT), timeout=5) as probe:
            probe.sendall(b"GET / HTTP/1.0\r\n\r\n")
            probe.recv(100)  # answered once the server printed the count (the reader thread may lag behind)
        for _ in range(100):
            if self.hits(self.PROBE_PORT):
                return
            time.sleep(0.02)
        raise RuntimeError("the namespace host accepted a connection but did not count it")

    def _remove(self) -> None:
        if self._server is not None:
            self._server.kill()
            self._server.wait(timeout=5)
            if self._reader is not None:
                self._reader.join(timeout=5)  # it ends at the end of the server's output
            assert self._server.stdout is not None
            self._server.stdout.close()
        subprocess.run(["ip", "netns", "del", self._name], capture_output=True, check=False)
        subprocess.run(["ip", "link", "del", f"{self._veth}a"], capture_output=True, check=False)


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], capture_output=True, text=True, check=True, timeout=10)
