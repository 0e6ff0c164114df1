"""Keep secrets out of every artefact: the values the plugin knows are secret, and the shapes secrets come in.

What is secret (the policy, documented in SECURITY.md):

- **values**: of environment variables whose names end like a secret (``SECRET_NAME``: ``API_TOKEN``, ``DB_PASS``,
  ``SESSION_COOKIE``...), of env-file variables whose names *contain* a secret word (``ENV_FILE_SECRET_NAME``:
  ``SESSION_COOKIE_NAME``, ``AUTH_HEADER``...), of those ``LOAD_SECRET_KEYS`` lists, of Locust arguments added with
  ``is_secret=True``, and of the cookies the engine saw (``learn``); each also URL-encoded;
- **shapes**: ``Authorization`` values, ``Bearer`` and ``Basic`` credentials in any spelling, JWTs, ``Cookie`` and
  ``Set-Cookie`` headers and cookie-jar reprs, ``key=value`` / ``"key": "value"`` and query parameters whose key
  ends like a secret (password, token, key, sig, signature, session, auth, cookie...), and userinfo in URLs.

One ``Redactor`` is built from the environment (the env file is loaded into it) in each process that writes files:
the pytest process (messages, JSON, index.html, pytest-html extras, baselines) and the engine process (Locust's
HTML and CSV). Values learned while the session runs (``learn``) are redacted by every Redactor of that process.
"""

from __future__ import annotations

import base64
import binascii
import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

REDACTED = "[REDACTED]"
SECRET_KEYS_VARIABLE = "LOAD_SECRET_KEYS"
"""Comma-separated names of environment variables whose values are secret, besides the names SECRET_NAME matches."""
ENV_FILE_NAMES_VARIABLE = "_LOAD_ENV_FILE_NAMES"
"""Set by the env file's loader (settings/envfile.py): the names the env file defines, comma-separated, so that the
engine, which gets the environment but not the file, judges them as the pytest process does."""
SECRET_WORDS = ("PASS", "SECRET", "TOKEN", "KEY", "COOKIE", "SESSION", "AUTH", "CRED")
"""What a secret's name is made of; in the env file, a name containing one of them holds a secret."""
ENV_FILE_SECRET_NAME = re.compile("|".join(SECRET_WORDS), re.IGNORECASE)
SECRET_NAME = re.compile(
    r"(?:SECRET|TOKEN|PASS(?:WORD|WD|PHRASE)?|API_?KEY|(?:^|_)KEY|COOKIE|(?:^|_)AUTH|CREDS?|CREDENTIALS?)$",
    re.IGNORECASE,
)
"""Environment variables whose names end like this hold secrets (API_TOKEN, DB_PASS, STRIPE_KEY, SESSION_COOKIE...).
Stricter than the env file's rule: the system's own variables (XDG_SESSION_CLASS=user, DESKTOP_SESSION=ubuntu) hold
ordinary words that must not vanish from every report."""
MIN_SECRET_LENGTH = 4
"""Shorter values are not replaced: redacting "1" or "yes" everywhere would garble reports and protect nothing."""
ORDINARY_VALUE = re.compile(r"^(?:[-+]?\d+(?:\.\d+)?|true|false|yes|no|on|off|none|null)$", re.IGNORECASE)
"""Values a secret-named variable may hold that are no secret (LOAD_AUTH_P95_MS=1500, AUTH_ENABLED=true): replacing
them everywhere would garble every figure. LOAD_SECRET_KEYS still makes them secret."""
MAX_LEARNED = 1000
"""Values learned while the session runs (cookies the target sets, say) are kept up to this many; the shapes above
still catch the rest."""

# A quote as it appears in plain text, CSV (""), JSON (\"), JSON in JSON (\\\") or Jinja's tojson (\u0027)
_Q = r"""(?:\\*["']{1,2}|\\u00(?:22|27))?"""
_QQ = r"""(?:\\*["']{1,2}|\\u00(?:22|27))"""
# between a header's name and its value: "Name: value", "name=value", or a pair's ('Name', 'value')
_HEADER_SEP = rf"(?:{_Q}\s*[:=]\s*{_Q}|{_QQ}\s*,\s*{_QQ})"
# not inside a word ("\u0027Basic" is one to \b)
_START = r"(?<![A-Za-z])"
# a secret value, but never the marker itself (redacting twice changes nothing)
_STOP = r"""(?!(?:(?:bearer|basic|token|digest)\s+)?\[REDACTED\])[^\s"'\\&,;<>{}\[\]()]+"""
_SECRET_KEY = (
    r"pass(?:word|wd|phrase)?|pwd|secret|token|api[_-]?key|apikey|key|credentials?|creds?|cookie|"
    r"session(?:[_-]?id)?|sessid|auth|sig|signature"
)
_PATTERNS = (
    # Authorization: Digest username="bob", response="..." : the whole value (its parameters are quoted)
    re.compile(rf"(?i)({_START}(?:proxy-)?authorization{_HEADER_SEP}\s*digest\s+)(?!\[REDACTED\])[^\r\n]+"),
    # Authorization: Bearer abc / "Authorization": "Basic abc" / authorization=abc (keeps the scheme word)
    re.compile(
        rf"(?i)({_START}(?:proxy-)?authorization{_HEADER_SEP}\s*(?:(?:bearer|basic|token|digest)\s+)?){_STOP}"
    ),
    # Cookie: a=1; b=2 / 'Set-Cookie': 'sid=abc; Path=/, other=x': the whole header value
    re.compile(
        rf"""(?i)({_START}(?:set-)?cookie2?(?:{_Q}\s*:\s*{_Q}|{_QQ}\s*,\s*{_QQ})\s*)(?!\[REDACTED\])[^\s"'\\<>&][^"'\\\r\n<>&]*"""
    ),
    # a cookie jar's repr: <Cookie sid=abc for host/>, <Morsel: sid=abc>, Cookie(version=0, name='sid', value='abc'
    re.compile(r"(<(?:Cookie|Morsel:) [^\s=]+=)(?!\[REDACTED\])[^\s>]+"),
    re.compile(r"""(\bCookie\([^)]*?\bvalue=)(?!'\[REDACTED\]')(?:'[^']*'|"[^"]*")"""),
    # Bearer abc, bearer%20abc
    re.compile(rf"(?i)({_START}bearer(?:\s+|%20|\+)){_STOP}"),
    # key=value, "key": "value" and ?key=value for secret-like keys (db_password, x-auth, sig, session_id, ...);
    # the key's own prefix stays as it is, so it need not be matched (matching it scanned every word: 5x slower)
    # (a value of 4 characters at least, as for MIN_SECRET_LENGTH: "test_auth: 1 of 3 thresholds failed" stays)
    re.compile(rf"(?i)((?:{_SECRET_KEY}){_Q}\s*[:=]\s*{_Q}){_STOP.replace(']+', ']{4,}')}"),
)
_BASIC = re.compile(rf"(?i)({_START}basic(?:\s+|%20|\+))([A-Za-z0-9+/]{{4,}}={{0,2}})")
"""A Basic credential outside an Authorization header (in a tuple of headers, say): replaced when it decodes to
``user:password``, so the word "basic" in plain text stays."""
_USERINFO = re.compile(r"(?i)(\b[a-z][a-z0-9+.-]*://)([^\s:/@\"'<>]+)(?::([^\s/\"'<>]*))?@")
"""The password runs to the URL's last ``@`` (as ``urlsplit`` and requests split it): ``u:p@ss@host``."""
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*")
_learned: dict[str, None] = {}
"""Secret values learned in this process while the session runs (``learn``), in the order learned."""


def learned() -> list[str]:
    """What this process learned is secret so far (``learn``), for another process to learn too."""
    return list(_learned)


def learn(values: Iterable[str]) -> None:
    """Treat ``values`` as secret in every Redactor of this process from now on (cookies the target set, Locust
    arguments marked ``is_secret``)."""
    for value in values:
        if len(_learned) >= MAX_LEARNED:
            return
        if len(value) >= MIN_SECRET_LENGTH and value != REDACTED:
            _learned[value] = None


@dataclass(frozen=True)
class Redactor:
    """Replaces secrets in text with ``[REDACTED]``; ``secrets`` are literal values (from the environment)."""

    secrets: tuple[str, ...] = ()

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> Redactor:
        return cls(secret_values(environ))

    def text(self, text: str) -> str:
        """``text`` with every secret replaced."""
        for form in _forms(self.secrets, tuple(_learned)):
            text = text.replace(form, REDACTED)
        text = _JWT.sub(REDACTED, text)
        for pattern in _PATTERNS:
            text = pattern.sub(lambda match: match.group(1) + REDACTED, text)
        text = _BASIC.sub(_basic_credential, text)
        return _USERINFO.sub(_userinfo, text)

    def data(self, value: object) -> object:
        """A JSON-like structure with every string (keys too) redacted."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, Mapping):
            return {self.text(str(key)): self.data(item) for key, item in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.data(item) for item in value]
        return value

    def file(self, path: Path) -> None:
        """Redact a text file in place (Locust's HTML and CSV files, written by Locust itself)."""
        original = path.read_text(encoding="utf-8", errors="replace")
        redacted = self.text(original)
        if redacted != original:
            path.write_text(redacted, encoding="utf-8")


@functools.lru_cache(maxsize=8)
def _forms(secrets: tuple[str, ...], learned: tuple[str, ...]) -> tuple[str, ...]:
    """Every secret as written and URL-encoded, longest first (a secret that contains another is replaced whole)."""
    forms = {
        form
        for secret in {*secrets, *learned}
        for form in (secret, quote(secret, safe=""), quote_plus(secret))
    }
    return tuple(sorted(forms, key=len, reverse=True))


def _basic_credential(match: re.Match[str]) -> str:
    try:
        decoded = base64.b64decode(match.group(2) + "=" * (-len(match.group(2)) % 4), validate=True)
    except (binascii.Error, ValueError):
        return match.group(0)
    return match.group(1) + REDACTED if b":" in decoded else match.group(0)


def _userinfo(match: re.Match[str]) -> str:
    """``scheme://user:password@`` keeps the user; ``scheme://token@`` (a token as the user name) loses it."""
    scheme, user, password = match.groups()
    return f"{scheme}{user}:{REDACTED}@" if password is not None else f"{scheme}{REDACTED}@"


def secret_names(environ: Mapping[str, str]) -> set[str]:
    """Names of the variables whose values are secret: SECRET_NAME matches, env-file names ENV_FILE_SECRET_NAME
    matches, and those LOAD_SECRET_KEYS lists."""
    listed = _listed(environ.get(SECRET_KEYS_VARIABLE, ""))
    from_env_file = {name for name in _listed(environ.get(ENV_FILE_NAMES_VARIABLE, "")) if name in environ}
    matched = {name for name in environ if SECRET_NAME.search(name)}
    matched |= {name for name in from_env_file if ENV_FILE_SECRET_NAME.search(name)}
    return listed | (matched - {SECRET_KEYS_VARIABLE, ENV_FILE_NAMES_VARIABLE})


def secret_values(environ: Mapping[str, str]) -> tuple[str, ...]:
    """The secret values, longest first (so a secret that contains another is replaced whole); ordinary values of
    matched names (numbers, flags) are left, listed names' values never."""
    listed = _listed(environ.get(SECRET_KEYS_VARIABLE, ""))
    values = {
        value
        for name in secret_names(environ)
        for value in [environ.get(name, "")]
        if len(value) >= MIN_SECRET_LENGTH and (name in listed or not ORDINARY_VALUE.match(value.strip()))
    }
    return tuple(sorted(values, key=len, reverse=True))


def _listed(names: str) -> set[str]:
    return {name.strip() for name in names.split(",") if name.strip()}


def secret_option_values(options: Mapping[str, object], secret: set[str] | None = None) -> tuple[str, ...]:
    """The values ``options`` (``parsed_options`` as a dict, or the scenario's ``options=``) gives the Locust
    arguments added with ``is_secret=True`` (Locust's own flag). ``secret`` names them; without it Locust's parser
    is built as ``locust`` builds it (which fires the ``init_command_line_parser`` listeners) to find them."""
    wanted = {name.lstrip("-").replace("-", "_") for name in options}
    if not wanted:
        return ()
    if secret is None:
        from locust.argument_parser import get_parser

        secret = secret_arguments(get_parser())
    found: list[str] = []
    for name, value in options.items():
        if name.lstrip("-").replace("-", "_") in secret and value not in (None, True, False):
            found += [str(item) for item in value] if isinstance(value, (list, tuple)) else [str(value)]
    return tuple(found)


def secret_arguments(parser: Any) -> set[str]:
    """The ``parsed_options`` names of the arguments a Locust parser marks ``is_secret``."""
    return {action.dest for action in parser._actions if getattr(action, "is_secret", False)}
