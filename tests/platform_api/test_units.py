"""In-process checks of what a black-box HTTP test cannot reach: the 500 path, config parsing, password hashing."""

from __future__ import annotations

import io
import json
import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from wsgiref.util import setup_testing_defaults

import pytest

from loadtests.platform_api.app import PlatformApi
from loadtests.platform_api.config import ApiConfig, parse_config, secret_environ, to_argv
from loadtests.platform_api.security import PasswordHasher, TokenCodec, TokenError
from loadtests.platform_api.store import Store

SECRET = "s" * 40


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store(str(tmp_path / "api.db"))
    yield opened
    opened.close()


def _call(app: PlatformApi, method: str, path: str, body: bytes) -> tuple[str, Any]:
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
    }
    setup_testing_defaults(environ)
    statuses: list[str] = []
    chunks = app(environ, lambda status, headers: statuses.append(status))
    return statuses[0], json.loads(b"".join(chunks))


def test_an_unexpected_exception_is_a_logged_json_500(
    tmp_path: Path, store: Store, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(email: str) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(store, "user_by_email", broken)
    app = PlatformApi(ApiConfig(db=str(tmp_path / "api.db")), store)
    with caplog.at_level(logging.ERROR, logger="loadtests.platform_api"):
        status, body = _call(
            app, "POST", "/auth/login", b'{"email": "a@example.com", "password": "password1"}'
        )
    assert status == "500 Internal Server Error"
    assert body == {"error": {"code": "internal_error", "message": "unexpected server error"}}
    assert "disk on fire" not in json.dumps(body)  # internals stay in the log
    [record] = caplog.records
    assert record.getMessage() == "unhandled error in POST /auth/login"
    assert record.exc_info is not None and "disk on fire" in str(record.exc_info[1])


def test_flags_win_over_env_vars_which_win_over_defaults() -> None:
    environ = {
        "PLATFORM_API_ERROR_RATE": "0.25",
        "PLATFORM_API_EXTRA_LATENCY_MS": "40",
        "PLATFORM_API_DB": "/tmp/e.db",
    }
    config = parse_config(["--error-rate", "0.5", "--db", "/tmp/f.db"], environ)
    assert (config.error_rate, config.extra_latency_ms, config.db) == (0.5, 40.0, "/tmp/f.db")
    assert config.generation_delay_ms == ApiConfig().generation_delay_ms


def test_the_signing_key_comes_from_the_environment_only() -> None:
    assert parse_config(["--db", "x.db"], {"PLATFORM_API_JWT_SECRET": SECRET}).jwt_secret == SECRET
    with pytest.raises(SystemExit) as exited:
        parse_config(["--db", "x.db", "--jwt-secret", SECRET], {})
    assert exited.value.code == 2
    assert len(ApiConfig().jwt_secret) >= 32 and ApiConfig().jwt_secret != ApiConfig().jwt_secret  # random


def test_to_argv_round_trips() -> None:
    config = ApiConfig(
        db="/tmp/a.db",
        port=8123,
        error_rate=0.3,
        extra_latency_ms=400,
        generation_delay_ms=50,
        log_requests=True,
        jwt_secret=SECRET,
    )
    assert parse_config(to_argv(config), secret_environ(config)) == config


@pytest.mark.parametrize(
    ("argv", "environ", "message"),
    [
        (["--db", "x.db", "--error-rate", "1.5"], {}, "error rate must be within 0..1"),
        (["--db", "x.db", "--extra-latency-ms", "-1"], {}, "extra latency must not be negative"),
        (["--db", "x.db", "--port", "70000"], {}, "port must be within 0..65535"),
        (["--db", "x.db"], {"PLATFORM_API_JWT_SECRET": "short"}, "jwt secret must be at least 32 bytes"),
        (["--db", "x.db"], {"PLATFORM_API_ERROR_RATE": "lots"}, "PLATFORM_API_ERROR_RATE"),
        (["--db", "x.db"], {"PLATFORM_API_LOG_REQUESTS": "maybe"}, "not a boolean"),
        ([], {}, "a database path is required"),
    ],
)
def test_bad_settings_exit_with_usage(
    argv: list[str], environ: dict[str, str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        parse_config(argv, environ)
    assert exited.value.code == 2
    assert message in capsys.readouterr().err


def test_password_hashes_are_salted_and_carry_their_cost() -> None:
    cheap, dearer = PasswordHasher(1000), PasswordHasher(2000)
    first, second = cheap.hash("password1"), cheap.hash("password1")
    assert first != second and first.startswith("pbkdf2_sha256$1000$")
    assert dearer.verify("password1", first)  # a cost change keeps old hashes valid
    assert not dearer.verify("password2", first)
    assert not dearer.verify("password1", None)  # the decoy for unknown users never matches


def test_a_remembered_token_still_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    codec = TokenCodec(SECRET, ttl_s=60)
    token = codec.issue("user-1")
    assert codec.subject(token) == "user-1"
    assert codec.subject(token) == "user-1"  # now from the cache of verified tokens
    later = time.time() + 61
    monkeypatch.setattr(time, "time", lambda: later)
    with pytest.raises(TokenError, match="expired"):
        codec.subject(token)
