"""A test body as the task: a load-marked test without User classes runs its own function in every virtual user.

The same function is a functional test without the marker (Locust's pytest plugin gives it ``session`` or
``fastsession`` bound to ``--host``) and a load scenario with it::

    @pytest.mark.load(users=20, duration="30s", thresholds={"p95": "<200ms"})
    def test_checkout(fastsession, api_token):
        fastsession.get("/cart", headers={"Authorization": api_token}).raise_for_status()

Which client: the user is a ``FastHttpUser`` (Locust's fast client) unless the function takes only ``session``, then an
``HttpUser`` (requests). A function taking both gets both, each bound to the scenario's host and counted. Every other
parameter is a fixture whose value pytest sets up once and sends to the users as JSON (``shared_values.py``);
``load_result`` cannot be one. As in ``locust -f test_file.py``, a request error raised by ``raise_for_status()`` is
already counted as a failed request and does not stop the user; any other exception is counted and fails the test.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Mapping
from typing import Any

from pytest_loadtest.errors import LoadTestUsageError

CLIENT_FIXTURES = ("fastsession", "session")
"""Locust's own fixtures (its pytest plugin ``pytest_locust``): the fast client and the requests client."""
FAST, REQUESTS = "fast", "requests"
_logger = logging.getLogger(__name__)


def describe_body(test_id: str, function: Callable[..., Any]) -> dict[str, Any]:
    """What the engine needs to run ``function`` as a task: its client(s) and the fixtures to send; usage errors
    when it cannot be one."""
    parameters = [
        p.name
        for p in inspect.signature(function).parameters.values()
        if p.default is inspect.Parameter.empty
    ]
    clients = [name for name in CLIENT_FIXTURES if name in parameters]
    if not clients:
        raise LoadTestUsageError(
            f"{test_id}: the load marker names no User class, so the test body is the task of every user and must "
            "take Locust's client: add a 'fastsession' parameter (the fast client; or 'session' for requests), or "
            "name User classes: @pytest.mark.load(MyUser, ...)"
        )
    if "load_result" in parameters:
        raise LoadTestUsageError(
            f"{test_id}: the test body runs as the load task, so it cannot take the load_result fixture; read the "
            "result in another test, or name User classes in the load marker and keep the body for the result"
        )
    if "<locals>" in function.__qualname__ or "." in function.__qualname__:
        raise LoadTestUsageError(
            f"{test_id}: a test body run as the load task must be a module-level function (the engine process "
            f"imports it by module path); {function.__qualname__} is not"
        )
    if inspect.iscoroutinefunction(function) or inspect.isgeneratorfunction(function):
        raise LoadTestUsageError(f"{test_id}: a test body run as the load task must be a plain function")
    return {
        "client": REQUESTS if clients == ["session"] else FAST,
        "clients": clients,
        "values": [name for name in parameters if name not in CLIENT_FIXTURES],
    }


def user_class(function: Callable[..., Any], body: Mapping[str, Any]) -> type[Any]:
    """In the engine process (gevent patched): a User class whose only task calls ``function``."""
    from locust import FastHttpUser, HttpUser
    from locust.clients import HttpSession
    from locust.contrib.fasthttp import FastHttpSession

    from pytest_loadtest.shared_values import load_value

    base: type[Any] = HttpUser if body["client"] == REQUESTS else FastHttpUser
    other = {FAST: ("session", HttpSession), REQUESTS: ("fastsession", FastHttpSession)}[body["client"]]
    own_name = "session" if body["client"] == REQUESTS else "fastsession"
    names: list[str] = list(body["values"])

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


def require_host(test_id: str, host: str | None) -> None:
    """The body's client needs the scenario's base URL: it has no User class to carry a ``host`` attribute."""
    if host is None:
        raise LoadTestUsageError(
            f"{test_id}: no host for the test body run as the load task: pass --load-host, host= in the load marker, "
            "LOAD_HOST in the environment or .env.load-testing, or load_host in the ini file"
        )
