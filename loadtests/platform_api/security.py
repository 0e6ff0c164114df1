"""Password hashing (PBKDF2-HMAC-SHA256, per-user salt) and access tokens (JWT, HS256)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import time

import jwt

_SCHEME = "pbkdf2_sha256"
_SALT_BYTES = 16
_ALGORITHM = "HS256"


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


class PasswordHasher:
    """Hashes as ``pbkdf2_sha256$<iterations>$<salt>$<digest>``; the iteration count travels with each hash, so
    changing the configured cost never locks out existing users."""

    def __init__(self, iterations: int) -> None:
        self._iterations = iterations
        self._decoy = self.hash(os.urandom(_SALT_BYTES).hex())

    def hash(self, password: str) -> str:
        salt = os.urandom(_SALT_BYTES)
        digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, self._iterations)
        return f"{_SCHEME}${self._iterations}${_b64(salt)}${_b64(digest)}"

    def verify(self, password: str, encoded: str | None) -> bool:
        """Whether ``password`` matches ``encoded``; with ``None`` (no such user) it spends the same time on a decoy
        hash and returns False, so response times do not reveal which emails are registered."""
        scheme, iterations, salt, expected = (encoded or self._decoy).split("$")
        if scheme != _SCHEME:
            raise ValueError(f"unknown password hash scheme {scheme!r}")
        digest = hashlib.pbkdf2_hmac("sha256", password.encode(), base64.b64decode(salt), int(iterations))
        return hmac.compare_digest(digest, base64.b64decode(expected)) and encoded is not None


class TokenError(Exception):
    """The token is missing a claim, malformed, expired or not signed with our key."""


class TokenCodec:
    """Issues and checks access tokens whose subject is a user id.

    A token's signature is checked once: the subject and expiry of up to ``cache_size`` verified tokens are
    remembered, so a client reusing its token costs a dict lookup and an expiry check instead of a full decode.
    """

    def __init__(self, secret: str, ttl_s: int, cache_size: int = 10_000) -> None:
        self._secret = secret
        self.ttl_s = ttl_s
        self._cache_size = cache_size
        self._verified: dict[str, tuple[str, int]] = {}  # token -> (subject, expiry)

    def issue(self, subject: str) -> str:
        now = int(time.time())
        claims = {"sub": subject, "iat": now, "exp": now + self.ttl_s}
        return jwt.encode(claims, self._secret, algorithm=_ALGORITHM)

    def subject(self, token: str) -> str:
        """The user id the token was issued to; raises ``TokenError`` if the token is not valid now."""
        known = self._verified.get(token)
        if known is None:
            known = self._verify(token)
        subject, expiry = known
        if time.time() >= expiry:
            self._verified.pop(token, None)
            raise TokenError("Signature has expired")
        return subject

    def _verify(self, token: str) -> tuple[str, int]:
        try:
            claims = jwt.decode(
                token, self._secret, algorithms=[_ALGORITHM], options={"require": ["sub", "iat", "exp"]}
            )
        except jwt.PyJWTError as error:
            raise TokenError(str(error)) from error
        if len(self._verified) >= self._cache_size:
            self._verified.clear()
        self._verified[token] = known = (str(claims["sub"]), int(claims["exp"]))
        return known
