"""The engine's cookie listener: what it learns as secret from each kind of response and request headers."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from geventhttpclient.header import Headers
from requests.structures import CaseInsensitiveDict

from pytest_loadtest.reports import redaction
from pytest_loadtest.runtime.locust_files import learn_cookies


def fast_headers(*pairs: tuple[str, str]) -> Headers:
    headers = Headers()
    for name, value in pairs:
        headers.add(name, value)
    return headers


@pytest.mark.parametrize(
    ("response_headers", "request_headers", "learned"),
    [
        (fast_headers(("Set-Cookie", "sid=fast-one-1; Path=/"), ("set-cookie", "b=fast-two-2")), None,
         {"fast-one-1", "fast-two-2"}),  # geventhttpclient: a list, any case
        (CaseInsensitiveDict({"SET-COOKIE": "sid=requests-3; HttpOnly"}), None, {"requests-3"}),
        (None, {"Cookie": "sid=given-4; theme=given-5"}, {"given-4", "given-5"}),  # a plain dict as the user gave it
        (None, {"cookie": "sid=given-6"}, {"given-6"}),
        (fast_headers(("Server", "x")), CaseInsensitiveDict({"Accept": "*/*"}), set()),  # no cookie: nothing
        ([], (), set()),  # not mappings: nothing, no error
    ],
)  # fmt: skip
def test_the_listener_learns_the_cookies_a_response_set_and_its_request_sent(
    response_headers: Any, request_headers: Any, learned: set[str]
) -> None:
    before = set(redaction.learned())
    response = SimpleNamespace(headers=response_headers, request=SimpleNamespace(headers=request_headers))
    learn_cookies(response=response)
    assert set(redaction.learned()) - before == learned
