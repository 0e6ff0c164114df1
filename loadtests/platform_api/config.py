"""Settings of the Platform API: one frozen dataclass, read from CLI flags, then ``PLATFORM_API_*`` env vars, then
the defaults.

Every field is both a flag (``error_rate`` -> ``--error-rate``) and an env var (``PLATFORM_API_ERROR_RATE``); a flag
wins over the env var. ``jwt_secret`` has no flag (argv is visible to every local user): set it through the env var,
or leave it out to get a random secret per process.
"""

from __future__ import annotations

import argparse
import ipaddress
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import Field, dataclass, field, fields
from typing import Any

ENV_PREFIX = "PLATFORM_API_"
MIN_SECRET_BYTES = 32  # HS256 wants a key at least as long as its hash (RFC 7518 section 3.2)


def _setting(default: Any, help: str, *, flag: bool = True) -> Any:
    return field(default=default, metadata={"help": help, "flag": flag})


@dataclass(frozen=True)
class ApiConfig:
    """Everything the server process needs; invalid values raise ``ValueError`` on construction."""

    host: str = _setting("127.0.0.1", "address to bind; loopback addresses only")
    port: int = _setting(0, "port to bind; 0 picks a free port")
    db: str = _setting("", "path of the SQLite database file (created if missing)")
    port_file: str = _setting("", "if set, the bound port is written to this file once the server listens")
    jwt_secret: str = field(
        default_factory=lambda: secrets.token_urlsafe(MIN_SECRET_BYTES),
        metadata={"help": f"HS256 signing key, at least {MIN_SECRET_BYTES} bytes", "flag": False},
    )
    token_ttl_s: int = _setting(3600, "lifetime of an access token in seconds")
    password_iterations: int = _setting(
        5000, "PBKDF2-SHA256 iterations for new password hashes (~1 ms at 5000)"
    )
    generation_latency_ms: float = _setting(20.0, "time POST /generations takes to answer")
    generation_delay_ms: float = _setting(
        1000.0, "processing time of a generation: queued until it has passed"
    )
    error_rate: float = _setting(
        0.0, "fraction (0..1) of non-operational requests answered 503 (fault injection)"
    )
    extra_latency_ms: float = _setting(0.0, "delay added to every non-operational request (fault injection)")
    max_body_bytes: int = _setting(64 * 1024, "largest accepted request body; bigger ones get 413")
    log_requests: bool = _setting(False, "write an access log line per request to stderr (costs CPU)")

    def __post_init__(self) -> None:
        if not is_loopback(self.host):
            raise ValueError(
                f"refusing to bind {self.host!r}: the Platform API only listens on loopback addresses"
            )
        checks = (
            (0 <= self.port <= 65535, "port must be within 0..65535"),
            (
                len(self.jwt_secret.encode()) >= MIN_SECRET_BYTES,
                f"jwt secret must be at least {MIN_SECRET_BYTES} bytes",
            ),
            (self.token_ttl_s > 0, "token ttl must be positive"),
            (self.password_iterations > 0, "password iterations must be positive"),
            (self.generation_latency_ms >= 0, "generation latency must not be negative"),
            (self.generation_delay_ms >= 0, "generation delay must not be negative"),
            (0.0 <= self.error_rate <= 1.0, "error rate must be within 0..1"),
            (self.extra_latency_ms >= 0, "extra latency must not be negative"),
            (self.max_body_bytes >= 1024, "max body bytes must be at least 1024"),
        )
        for ok, message in checks:
            if not ok:
                raise ValueError(message)

    @property
    def url_host(self) -> str:
        """The host as it appears in a URL (IPv6 in brackets)."""
        return f"[{self.host}]" if ":" in self.host else self.host


def is_loopback(host: str) -> bool:
    """Whether ``host`` is ``localhost`` or a loopback IP literal (127.0.0.0/8, ::1)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _parse_bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off", ""):
        return False
    raise ValueError(f"not a boolean: {text!r}")


_CONVERTERS: dict[str, Callable[[str], Any]] = {"str": str, "int": int, "float": float, "bool": _parse_bool}


def _flag(setting: Field[Any]) -> str:
    return "--" + setting.name.replace("_", "-")


def _env_var(setting: Field[Any]) -> str:
    return ENV_PREFIX + setting.name.upper()


def _flagged() -> list[Field[Any]]:
    return [setting for setting in fields(ApiConfig) if setting.metadata["flag"]]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m loadtests.platform_api",
        description="Run the reference Platform API on a loopback address.",
        epilog=f"Every flag can also be given as an env var {ENV_PREFIX}<NAME>; "
        f"the signing key only as {ENV_PREFIX}JWT_SECRET.",
    )
    for setting in _flagged():
        if setting.type == "bool":
            parser.add_argument(
                _flag(setting),
                action=argparse.BooleanOptionalAction,
                default=None,
                help=setting.metadata["help"],
            )
        else:
            parser.add_argument(
                _flag(setting),
                type=_CONVERTERS[str(setting.type)],
                default=None,
                help=f"{setting.metadata['help']} (default: {setting.default!r})",
            )
    return parser


def parse_config(argv: Sequence[str] | None, environ: Mapping[str, str]) -> ApiConfig:
    """The config from ``argv`` and ``environ``; on a bad value prints usage and exits with status 2."""
    parser = build_parser()
    arguments = vars(parser.parse_args(argv))
    values: dict[str, Any] = {}
    for setting in fields(ApiConfig):
        given = arguments.get(setting.name)
        if given is not None:
            values[setting.name] = given
        elif _env_var(setting) in environ:
            try:
                values[setting.name] = _CONVERTERS[str(setting.type)](environ[_env_var(setting)])
            except ValueError as error:
                parser.error(f"{_env_var(setting)}: {error}")
    try:
        config = ApiConfig(**values)
    except ValueError as error:
        parser.error(str(error))
    if not config.db:
        parser.error(f"a database path is required (--db or {ENV_PREFIX}DB)")
    return config


def to_argv(config: ApiConfig) -> list[str]:
    """The flags that reproduce ``config`` (all but the signing key: pass that with ``secret_environ``)."""
    argv: list[str] = []
    for setting in _flagged():
        value = getattr(config, setting.name)
        if value == setting.default:
            continue
        if setting.type == "bool":
            argv.append(_flag(setting))
        else:
            argv += [_flag(setting), str(value)]
    return argv


def secret_environ(config: ApiConfig) -> dict[str, str]:
    """The env var carrying the signing key to a server process."""
    return {ENV_PREFIX + "JWT_SECRET": config.jwt_secret}
