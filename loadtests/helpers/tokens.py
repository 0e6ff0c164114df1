"""Access tokens for the load suite, signed with PyJWT exactly as the Platform API signs them (HS256, claims
``sub``/``iat``/``exp``): valid ones for seeded users when the API's signing key is known, and deliberately bad ones
(expired, signed with another key, malformed, missing a claim) for negative scenarios that expect 401.
"""

from __future__ import annotations

import secrets
import time

import jwt

ALGORITHM = "HS256"
NEGATIVE_KINDS = ("expired", "wrong_key", "malformed", "no_subject", "unsigned")


class AuthTokenGenerator:
    """Tokens for the API whose signing key is ``secret`` (None: the key is unknown, so only bad tokens make sense)."""

    def __init__(self, secret: str | None, ttl_s: int = 3600) -> None:
        self._secret = secret
        self._ttl_s = ttl_s

    @property
    def can_sign(self) -> bool:
        return bool(self._secret)

    def valid(self, user_id: str) -> str:
        """A token the API accepts for ``user_id`` (the id its register route returned)."""
        if not self._secret:
            raise ValueError("the API's signing key is unknown: set LOAD_JWT_SECRET to mint valid tokens")
        now = int(time.time())
        return jwt.encode(
            {"sub": user_id, "iat": now, "exp": now + self._ttl_s}, self._secret, algorithm=ALGORITHM
        )

    def invalid(self, kind: str, user_id: str = "no-such-user") -> str:
        """A token the API must refuse with 401; ``kind`` is one of NEGATIVE_KINDS."""
        now = int(time.time())
        key = self._secret or secrets.token_urlsafe(32)
        if kind == "expired":
            return jwt.encode(
                {"sub": user_id, "iat": now - 7200, "exp": now - 3600}, key, algorithm=ALGORITHM
            )
        if kind == "wrong_key":
            other = secrets.token_urlsafe(32)
            return jwt.encode({"sub": user_id, "iat": now, "exp": now + 3600}, other, algorithm=ALGORITHM)
        if kind == "malformed":
            return "not-a-jwt." + secrets.token_urlsafe(12)
        if kind == "no_subject":
            return jwt.encode({"iat": now, "exp": now + 3600}, key, algorithm=ALGORITHM)
        if kind == "unsigned":
            return jwt.encode({"sub": user_id, "iat": now, "exp": now + 3600}, None, algorithm="none")
        raise ValueError(f"unknown negative token kind {kind!r}; known: {', '.join(NEGATIVE_KINDS)}")
