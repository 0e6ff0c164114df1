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
from collections.abc import Callable
from typing import Any

from pytest_loadtest.engine.protocol import CLIENT_FIXTURES, FAST, REQUESTS
from pytest_loadtest.errors import LoadTestUsageError


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


def require_host(test_id: str, host: str | None) -> None:
    """The body's client needs the scenario's base URL: it has no User class to carry a ``host`` attribute."""
    if host is None:
        raise LoadTestUsageError(
            f"{test_id}: no host for the test body run as the load task: pass --load-host, host= in the load marker, "
            "LOAD_HOST in the environment or .env.load-testing, or load_host in the ini file"
        )
