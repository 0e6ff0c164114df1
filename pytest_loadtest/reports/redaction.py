"""Keep secrets out of every report file: Authorization values, bearer tokens, JWTs, passwords, secret env values.

One ``Redactor`` is built from the environment (the env file is loaded into it) in each process that writes files:
the pytest process (JSON, index.html, pytest-html extras, baselines) and the engine process (Locust's HTML and CSV).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, quote_plus

REDACTED = "[REDACTED]"
SECRET_KEYS_VARIABLE = "LOAD_SECRET_KEYS"
"""Comma-separated names of environment variables whose values are secret, besides the names SECRET_NAME matches."""
SECRET_NAME = re.compile(r"(SECRET|TOKEN|PASSWORD|PASSWD|API_?KEY|_KEY|CREDENTIALS?)$", re.IGNORECASE)
"""Environment variables whose names end like this hold secrets (API_TOKEN, DB_PASSWORD, STRIPE_KEY...)."""
MIN_SECRET_LENGTH = 4
"""Shorter values are not replaced: redacting "1" or "yes" everywhere would garble reports and protect nothing."""

# A quote as it appears in plain text, CSV (""), JSON (\"), JSON in JSON (\\\") or Jinja's tojson (\u0027)
_Q = r"""(?:\\*["']{1,2}|\\u00(?:22|27))?"""
# a secret value, but never the marker itself (redacting twice changes nothing)
_STOP = r"""(?!(?:(?:bearer|basic|token|digest)\s+)?\[REDACTED\])[^\s"'\\&,;<>}\])]+"""
_PATTERNS = (
    # Authorization: Bearer abc / "Authorization": "Basic abc" / authorization=abc (keeps the scheme word)
    re.compile(
        rf"(?i)(\b(?:proxy-)?authorization{_Q}\s*[:=]\s*{_Q}\s*(?:(?:bearer|basic|token|digest)\s+)?){_STOP}"
    ),
    re.compile(rf"(?i)(\bbearer\s+){_STOP}"),
    # key=value and "key": "value" for password-like keys (password, db_password, secret, token, api_key, ...);
    # the key's own prefix stays as it is, so it need not be matched (matching it scanned every word: 5x slower)
    re.compile(
        rf"(?i)((?:password|passwd|pwd|secret|token|api[_-]?key|apikey|credentials?){_Q}\s*[:=]\s*{_Q}){_STOP}"
    ),
    # user:password@ in URLs
    re.compile(r"(?i)(\b[a-z][a-z0-9+.-]*://[^\s:/@\"']+:)[^\s@/\"']+(?=@)"),
)
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*")


@dataclass(frozen=True)
class Redactor:
    """Replaces secrets in text with ``[REDACTED]``; ``secrets`` are literal values (from the environment)."""

    secrets: tuple[str, ...] = ()

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> Redactor:
        return cls(secret_values(environ))

    def text(self, text: str) -> str:
        """``text`` with every secret replaced."""
        for secret in self.secrets:
            for form in {secret, quote(secret, safe=""), quote_plus(secret)}:
                text = text.replace(form, REDACTED)
        text = _JWT.sub(REDACTED, text)
        for pattern in _PATTERNS:
            text = pattern.sub(lambda match: match.group(1) + REDACTED, text)
        return text

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


def secret_names(environ: Mapping[str, str]) -> set[str]:
    """Names of the variables whose values are secret: SECRET_NAME matches, plus those LOAD_SECRET_KEYS lists."""
    listed = {name.strip() for name in environ.get(SECRET_KEYS_VARIABLE, "").split(",") if name.strip()}
    return listed | {name for name in environ if SECRET_NAME.search(name)}


def secret_values(environ: Mapping[str, str]) -> tuple[str, ...]:
    """The secret values, longest first (so a secret that contains another is replaced whole)."""
    values: Iterable[str] = (environ.get(name, "") for name in secret_names(environ))
    return tuple(
        sorted({value for value in values if len(value) >= MIN_SECRET_LENGTH}, key=len, reverse=True)
    )
