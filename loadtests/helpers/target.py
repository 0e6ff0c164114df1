"""The target of the suite: the host the user configured, or the reference Platform API started for the session.

The reference API runs as a separate process (``PlatformApiServer``: free 127.0.0.1 port, waits for ``/health``,
stops and reaps on exit), so the pytest process never imports its gevent-patching code.
"""

from __future__ import annotations

import json
import secrets
import urllib.request
from dataclasses import dataclass

from loadtests.platform_api.server import PlatformApiServer

STARTUP_TIMEOUT_S = 30.0
_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@dataclass(frozen=True)
class Target:
    """Where the scenarios send load; ``server`` is set when the suite started the reference API itself."""

    url: str
    jwt_secret: str | None
    server: PlatformApiServer | None = None


def start_reference_api() -> Target:
    """Start the reference API with a fresh signing key; raises ``PlatformApiStartupError`` with its output."""
    secret = secrets.token_urlsafe(32)
    server = PlatformApiServer(jwt_secret=secret, startup_timeout_s=STARTUP_TIMEOUT_S).start()
    return Target(server.url, secret, server)


def rss_bytes(url: str) -> int | None:
    """The target's resident memory from its ``/metrics`` (the reference API has it); None when unavailable."""
    try:
        with _NO_PROXY.open(f"{url.rstrip('/')}/metrics", timeout=5.0) as response:
            value = json.load(response).get("rss_bytes")
    except (OSError, ValueError):
        return None
    return value if isinstance(value, int) else None
