"""The host guard: a load test sends traffic only to loopback or to hosts the user allowed explicitly.

Always allowed: loopback addresses (127.0.0.0/8, ::1, IPv4-mapped 127.x) and the name ``localhost``. Allowed
explicitly: the host given with ``--load-host`` on the command line, and the entries of the ``load_allowed_hosts``
ini key. An entry is one of

- ``staging.example.com`` — that host on any port;
- ``staging.example.com:8443`` — that host on that port only;
- ``*.staging.example.com`` — any name under staging.example.com (not staging.example.com itself);
- an IP address, ``10.0.0.5`` or ``[2001:db8::1]``, with an optional ``:port``;
- a URL, ``https://staging.example.com`` — its host, and its port when the URL spells one.

Names are compared as written, case-insensitively: the guard never resolves DNS, so a name other than
``localhost`` that is not listed is refused even when it would resolve to a loopback address.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from pytest_loadtest.errors import LoadTestUsageError

if TYPE_CHECKING:
    from pytest_loadtest.measure.result import ErrorCount

ALLOWED_HOSTS_INI = "load_allowed_hosts"
REFUSED = "refused by the pytest-loadtest host guard"
"""Every refusal (before the run and inside the engine) carries this text."""

_DEFAULT_PORTS = {"http": 80, "https": 443}
_HOSTNAME = re.compile(r"^(?=.{1,253}$)(?!-)[a-z0-9_-]{1,63}(?<!-)(?:\.(?!-)[a-z0-9_-]{1,63}(?<!-))*$")
_ENTRY = re.compile(r"^(?P<host>\[[^\]]*\]|[^:\[\]]+)(?::(?P<port>\d{1,5}))?$")


class HostNotAllowed(ValueError):
    """A URL names a host that the guard does not allow (the message says which and how to allow it)."""


def _normal_host(host: str) -> str:
    """A host for comparison: lower case, no brackets, no trailing dot, IP addresses in canonical form."""
    host = host.strip().lower().removeprefix("[").removesuffix("]").rstrip(".")
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return host


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def is_loopback(host: str) -> bool:
    """Loopback by its spelling alone (no DNS): ``localhost``, 127.0.0.0/8, ::1 and IPv4-mapped 127.x."""
    host = _normal_host(host)
    if host == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return address.is_loopback or (mapped is not None and mapped.is_loopback)


def split_url(url: str) -> tuple[str, int | None]:
    """The host and port a URL connects to (the scheme's default port when none is written)."""
    try:
        parts = urlsplit(url)  # as the clients parse it (requests connects to urlparse(url).hostname)
        host, port = parts.hostname, parts.port
    except ValueError as exc:
        raise HostNotAllowed(f"{REFUSED}: cannot tell which host {url!r} names ({exc})") from None
    if not host:
        raise HostNotAllowed(f"{REFUSED}: cannot tell which host {url!r} names")
    return _normal_host(host), port if port is not None else _DEFAULT_PORTS.get(parts.scheme.lower())


@dataclass(frozen=True)
class HostPattern:
    """One allow-list entry: a host name, ``*.suffix`` or IP address, with an optional port."""

    host: str
    port: int | None = None

    @classmethod
    def parse(cls, entry: str) -> HostPattern:
        """Parse an entry (see the module docstring); ValueError says what is wrong with it."""
        text = entry.strip()
        if "://" in text:
            parts = urlsplit(text)
            host, port = parts.hostname, parts.port  # a bad port raises ValueError, which is what we want
            if not host:
                raise ValueError("a URL entry needs a host")
            return cls._checked(host, port)
        if ":" in text and _is_ip(text):  # a bare IPv6 address
            return cls._checked(text, None)
        match = _ENTRY.match(text)
        if match is None:
            raise ValueError("expected host, host:port, *.domain or an IP address ([::1] for IPv6)")
        port = int(match["port"]) if match["port"] else None
        return cls._checked(match["host"], port)

    @classmethod
    def _checked(cls, host: str, port: int | None) -> HostPattern:
        if port is not None and not 0 < port < 65536:
            raise ValueError(f"port {port} is out of range")
        host = _normal_host(host)
        if not _is_ip(host) and not _HOSTNAME.match(host.removeprefix("*.")):
            raise ValueError(f"{host!r} is not a host name, a *.domain wildcard or an IP address")
        return cls(host, port)

    def matches(self, host: str, port: int | None) -> bool:
        if self.port is not None and port != self.port:
            return False
        if self.host.startswith("*."):
            return host.endswith(self.host[1:])
        return host == self.host


@dataclass(frozen=True)
class HostGuard:
    """The allow-list in force: loopback always, plus ``entries`` (kept as written, to send to the engine)."""

    entries: tuple[str, ...] = ()
    patterns: tuple[HostPattern, ...] = ()
    _verdicts: dict[tuple[str, int | None], bool] = field(default_factory=dict, compare=False, repr=False)
    """Verdicts by (host, port): the engine checks every request, and most go to one or two hosts."""

    @classmethod
    def from_entries(cls, entries: Iterable[str], source: str = ALLOWED_HOSTS_INI) -> HostGuard:
        """Build the guard; a malformed entry is a LoadTestUsageError naming ``source`` and the entry."""
        kept, patterns = [], []
        for entry in entries:
            if not entry.strip():
                continue
            try:
                patterns.append(HostPattern.parse(entry))
            except ValueError as exc:
                raise LoadTestUsageError(f"{source}: cannot use allowed host {entry!r}: {exc}") from None
            kept.append(entry.strip())
        return cls(tuple(kept), tuple(patterns))

    def allows(self, host: str, port: int | None) -> bool:
        verdict = self._verdicts.get((host, port))
        if verdict is None:
            normal = _normal_host(host)
            verdict = is_loopback(normal) or any(pattern.matches(normal, port) for pattern in self.patterns)
            self._verdicts[(host, port)] = verdict
        return verdict

    def check_address(self, host: str, port: int | None) -> None:
        """Raise HostNotAllowed unless the guard allows ``host`` (as a client connects to it) and ``port``."""
        if not self.allows(host, port):
            raise HostNotAllowed(f"{REFUSED}: {host} is neither loopback nor an allowed host")

    def check_url(self, url: str) -> None:
        """Raise HostNotAllowed unless the guard allows the host (and port) that ``url`` connects to."""
        self.check_address(*split_url(url))


def check_targets(test_id: str, targets: Iterable[tuple[str, str]], guard: HostGuard) -> None:
    """Refuse a scenario before any request when one of its ``(url, where it came from)`` targets is not allowed."""
    for url, source in targets:
        try:
            guard.check_url(url)
        except HostNotAllowed:
            raise LoadTestUsageError(
                f"{test_id}: host {url!r} from {source} is {REFUSED}: a load test may only target loopback "
                f"(127.0.0.0/8, ::1, localhost) or a host you allowed. To allow it, pass it with --load-host on "
                f"the command line, or add it to {ALLOWED_HOSTS_INI} in the ini file or [tool.pytest.ini_options] "
                f"(one per line: host, host:port or *.domain)"
            ) from None


def scenario_targets(
    host: str | None, host_source: str | None, user_classes: Iterable[object]
) -> list[tuple[str, str]]:
    """What a scenario will connect to, with where each came from: its host, else each User class's own host."""
    if host:
        return [(host, host_source or "the default host")]
    targets = []
    for user_class in user_classes:
        class_host = getattr(user_class, "host", None)
        if class_host:
            name = getattr(user_class, "__qualname__", repr(user_class))
            targets.append((str(class_host), f"the host attribute of {name}"))
    return targets


def refusal_message(test_id: str, errors: Iterable[ErrorCount]) -> str | None:
    """Why a test must fail when the engine's guard refused some of its requests (a redirect, a proxy); else None."""
    refused = [error for error in errors if REFUSED in error.error]
    if not refused:
        return None
    count = sum(error.occurrences for error in refused)
    return (
        f"{test_id}: {count} request(s) {REFUSED} (a redirect, an absolute URL or a proxy to a host that is not "
        f"allowed; allow it with --load-host or {ALLOWED_HOSTS_INI}):\n"
        + "\n".join(
            f"{error.occurrences}x {error.method} {error.name}: {error.error}" for error in refused[:3]
        )
    )
