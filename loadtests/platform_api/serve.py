"""Serves the app with ``gevent.pywsgi`` until SIGTERM or SIGINT. Expects gevent's monkey-patching to have run
first (``__main__`` does that)."""

from __future__ import annotations

import logging
import os
import signal
import socket
import sys
from pathlib import Path
from typing import Any

import gevent
from gevent.event import Event
from gevent.pywsgi import WSGIServer

from loadtests.platform_api.app import PlatformApi
from loadtests.platform_api.config import ApiConfig
from loadtests.platform_api.store import Store

logger = logging.getLogger("loadtests.platform_api")

LISTENING_PREFIX = "PLATFORM_API_LISTENING"
_STOP_TIMEOUT_S = 1.0  # idle keep-alive connections are cut after this on shutdown


class NoDelayWSGIServer(WSGIServer):
    """pywsgi writes headers and body separately; without TCP_NODELAY, Nagle's algorithm and the client's delayed
    ACK stall each response ~40 ms (measured 1,136 req/s against ~9,500 with it)."""

    def handle(self, sock: socket.socket, address: Any) -> None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().handle(sock, address)


def _announce(config: ApiConfig, port: int) -> None:
    if config.port_file:
        partial = Path(config.port_file + ".partial")
        partial.write_text(str(port))
        partial.replace(config.port_file)  # atomic: a reader never sees an empty file
    print(f"{LISTENING_PREFIX} http://{config.url_host}:{port}", flush=True)


def serve(config: ApiConfig) -> int:
    """Runs the server until a stop signal; returns the exit status."""
    logging.basicConfig(
        level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    store = Store(config.db)
    server = NoDelayWSGIServer(
        (config.host, config.port),
        PlatformApi(config, store),
        log="default" if config.log_requests else None,
        environ={"SERVER_NAME": config.host},  # skips pywsgi's reverse DNS lookup of the bound address
    )
    stop = Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        gevent.signal_handler(signum, stop.set)
    try:
        server.start()
    except OSError as error:
        store.close()
        logger.error("cannot listen on %s:%d: %s", config.host, config.port, error)
        return 1
    port = int(server.address[1])  # the bound address once started
    _announce(config, port)
    logger.info("listening on %s:%d (pid %d)", config.host, port, os.getpid())
    stop.wait()
    server.stop(timeout=_STOP_TIMEOUT_S)
    store.close()
    return 0
