"""The host guard inside the engine process (import it only there: it imports requests after gevent patched): every connection both Locust clients open is checked first.

The check sits where each client sends one request, so it covers the scenario's host, absolute URLs in task code
and every redirect hop alike: ``requests``' ``HTTPAdapter.send`` (HttpUser; ``Session.resolve_redirects`` sends each
hop through it) and geventhttpclient's ``HTTPClientPool.get_client`` (FastHttpUser: Locust's user agent asks it for a
connection on every hop of its redirect loop).
A refused request fails before any socket is opened, with an error that both clients record as a failed request.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import requests.adapters
import requests.exceptions
from geventhttpclient.client import HTTPClientPool
from geventhttpclient.url import URL

from pytest_loadtest.guard import HostGuard, HostNotAllowed


class HostRefusedError(ConnectionError):
    """A FastHttpUser request to a host the guard refuses (Locust records OSErrors as failed requests)."""


class RequestsHostRefusedError(requests.exceptions.ConnectionError):
    """An HttpUser request to a host the guard refuses (Locust records RequestExceptions as failed requests)."""


def install(allowed_hosts: Sequence[str]) -> None:
    """Guard both clients of this process with loopback plus ``allowed_hosts`` (once per engine process)."""
    guard = HostGuard.from_entries(allowed_hosts)
    send = requests.adapters.HTTPAdapter.send
    get_client = HTTPClientPool.get_client

    def guarded_send(
        self: requests.adapters.HTTPAdapter, request: requests.PreparedRequest, **kwargs: Any
    ) -> Any:
        url = str(request.url)
        _check(lambda: guard.check_url(url), url, RequestsHostRefusedError)
        return send(self, request, **kwargs)

    def guarded_get_client(self: HTTPClientPool, url: Any) -> Any:
        # check the (host, port) that the pool connects to, parsed as the pool parses it
        parsed = url if isinstance(url, URL) else URL(url)
        _check(lambda: guard.check_address(parsed.host, parsed.port), str(parsed), HostRefusedError)
        return get_client(self, parsed)

    requests.adapters.HTTPAdapter.send = guarded_send  # type: ignore[method-assign,assignment]
    HTTPClientPool.get_client = guarded_get_client  # type: ignore[method-assign]


def _check(check: Callable[[], None], url: str, error: type[OSError]) -> None:
    try:
        check()
    except HostNotAllowed as exc:
        raise error(f"request to {url} {exc}") from None
