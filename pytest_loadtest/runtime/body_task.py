"""A test body as the task, in the engine process: a User class whose only task calls the test function (see
``pytest_loadtest.plugin.body`` for how the function is described).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from pytest_loadtest.engine.protocol import FAST, REQUESTS, BodySpec

_logger = logging.getLogger(__name__)


def user_class(function: Callable[..., Any], body: BodySpec) -> type[Any]:
    """In the engine process (gevent patched): a User class whose only task calls ``function``."""
    from locust import FastHttpUser, HttpUser
    from locust.clients import HttpSession
    from locust.contrib.fasthttp import FastHttpSession

    from pytest_loadtest.shared_values import load_value

    base: type[Any] = HttpUser if body["client"] == REQUESTS else FastHttpUser
    other = {FAST: ("session", HttpSession), REQUESTS: ("fastsession", FastHttpSession)}[body["client"]]
    own_name = "session" if body["client"] == REQUESTS else "fastsession"
    names = body["values"]

    def on_start(self: Any) -> None:
        self.body_clients = {own_name: self.client}
        if other[0] in body["clients"]:
            self.body_clients[other[0]] = other[1](
                base_url=self.host, request_event=self.environment.events.request, user=self
            )

    def run_body(self: Any) -> None:
        arguments = {name: load_value(name) for name in names}
        arguments.update({name: self.body_clients[name] for name in body["clients"]})
        call_as_locust_does(function, arguments)

    run_body.__name__ = function.__name__
    namespace = {"tasks": [run_body], "on_start": on_start, "__module__": function.__module__}
    return type(function.__name__, (base,), namespace)


def call_as_locust_does(function: Callable[..., Any], arguments: Mapping[str, Any]) -> None:
    """Call the body; like Locust's ``PytestUser``, a request error from ``raise_for_status()`` (already counted as
    a failed request) is logged, not raised, and any other exception goes to Locust, which counts it."""
    from locust.exception import CatchResponseError
    from requests.exceptions import RequestException

    try:
        function(**arguments)
    except AssertionError as exc:
        if not exc.args:  # a bare assert (no pytest rewriting here): say where, the traceback shows the line
            exc.args = (f"assert failed in {function.__name__}",)
        raise
    except (RequestException, CatchResponseError, ConnectionError) as exc:
        if isinstance(exc, ValueError):  # MissingSchema and the like: a mistake, not a failed request
            raise
        _logger.debug("request error in the test body (counted as a failed request): %s", exc)
