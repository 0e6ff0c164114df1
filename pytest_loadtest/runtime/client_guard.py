"""The host guard inside the engine process (import it only there: it imports requests after gevent patched): every connection both Locust clients open is checked first.

The checks sit where each client opens a connection to a new host, so they cover the scenario's host, absolute URLs
in task code and every redirect hop alike: ``requests``' ``HTTPAdapter.send`` (HttpUser and any other use of requests,
such as ``requests.get`` in a task; ``Session.resolve_redirects`` sends each hop through it; once per request) and
geventhttpclient's ``HTTPClient.from_url`` (FastHttpUser: Locust's user agent asks its ``HTTPClientPool`` for a
client on every hop of its redirect loop, and the pool makes one with ``from_url`` for each host and port it has not
talked to; a refused one is not kept, so each later request to it is refused again). An allowed FastHttpUser request
costs the guard nothing after a user's first request to its host.
When a request goes through a proxy, its socket goes to the proxy: the proxy's host and port are judged like the
target's, as each client finds them (requests: the ``proxies`` the adapter is sent, where the session's, the
request's and the environment's ``HTTP_PROXY``/``HTTPS_PROXY``/``ALL_PROXY``/``NO_PROXY`` are already merged;
geventhttpclient: the pool's ``proxy_host``/``proxy_port``, which FastHttpUser's attributes of those names set).
A refused request fails before any socket is opened, with an error that both clients record as a failed request.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import requests.adapters
import requests.exceptions
from geventhttpclient.client import HTTPClient
from geventhttpclient.url import URL
from requests.utils import prepend_scheme_if_needed, select_proxy
from urllib3.util import parse_url

from pytest_loadtest.guard import HostGuard, HostNotAllowed

_PROXY_PORTS = {"http": 80, "https": 443, "socks4": 1080, "socks4a": 1080, "socks5": 1080, "socks5h": 1080}
"""The port urllib3 (and PySocks, for SOCKS) connects to when a proxy URL names none."""


class HostRefusedError(ConnectionError):
    """A FastHttpUser request to a host the guard refuses (Locust records OSErrors as failed requests)."""


class RequestsHostRefusedError(requests.exceptions.ConnectionError):
    """An HttpUser request to a host the guard refuses (Locust records RequestExceptions as failed requests)."""


def install(allowed_hosts: Sequence[str]) -> None:
    """Guard both clients of this process with loopback plus ``allowed_hosts`` (once per engine process)."""
    guard = HostGuard.from_entries(allowed_hosts)
    send = requests.adapters.HTTPAdapter.send
    from_url: Callable[..., HTTPClient] = HTTPClient.__dict__["from_url"].__func__

    def guarded_send(
        self: requests.adapters.HTTPAdapter, request: requests.PreparedRequest, **kwargs: Any
    ) -> Any:
        url = str(request.url)
        _check(lambda: guard.check_url(url), url, RequestsHostRefusedError)
        proxy = requests_proxy(url, kwargs.get("proxies"))
        if proxy is not None:
            _check(lambda: guard.check_address(*proxy), _through(url, *proxy), RequestsHostRefusedError)
        return send(self, request, **kwargs)

    def guarded_from_url(cls: type[HTTPClient], /, url: Any, **kwargs: Any) -> HTTPClient:
        # the (host, port) the client connects to, parsed as the pool parses it, and the proxy the pool gives it
        parsed = url if isinstance(url, URL) else URL(url)
        _check(lambda: guard.check_address(parsed.host, parsed.port), str(parsed), HostRefusedError)
        proxy_host = kwargs.get("proxy_host")
        if proxy_host is not None:  # HTTPClient then connects to the proxy instead
            proxy_port = kwargs.get("proxy_port")
            _check(
                lambda: guard.check_address(proxy_host, proxy_port),
                _through(str(parsed), proxy_host, proxy_port),
                HostRefusedError,
            )
        return from_url(cls, parsed, **kwargs)

    requests.adapters.HTTPAdapter.send = guarded_send  # type: ignore[method-assign,assignment]
    HTTPClient.from_url = classmethod(guarded_from_url)  # type: ignore[method-assign,assignment]


def requests_proxy(url: str, proxies: dict[str, str] | None) -> tuple[str, int | None] | None:
    """The host and port of the proxy requests' ``HTTPAdapter.send`` connects to for ``url`` with ``proxies``.

    Found and parsed as the adapter does (a proxy URL without a scheme is ``http://``); None when the request goes
    straight to its host, or when the proxy URL names no host (requests then refuses it before any connection).
    """
    proxy = select_proxy(url, proxies)
    if not proxy:
        return None
    parsed = parse_url(prepend_scheme_if_needed(proxy, "http"))
    if not parsed.host:
        return None
    default_port = _PROXY_PORTS.get(str(parsed.scheme).lower())
    return parsed.host, parsed.port if parsed.port is not None else default_port


def _through(url: str, proxy_host: str, proxy_port: int | None) -> str:
    """The request and its proxy, for the refusal (host and port only: a proxy URL may carry credentials)."""
    host = f"[{proxy_host}]" if ":" in proxy_host and not proxy_host.startswith("[") else proxy_host
    return f"{url} through proxy {host}" + (f":{proxy_port}" if proxy_port is not None else "")


def _check(check: Callable[[], None], request: str, error: type[OSError]) -> None:
    """Raise ``error`` naming ``request`` (its URL, and its proxy if any) when ``check`` refuses it."""
    try:
        check()
    except HostNotAllowed as exc:
        refusal = f"request to {request} {exc}"
    else:
        return
    # raised outside the except block, so the error has no __context__: Locust's HttpSession records the innermost
    # context of a ConnectionError, which would drop the request and its proxy from the recorded failure
    raise error(refusal)
