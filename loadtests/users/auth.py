"""Authentication traffic: logins, token checks, health probes and whole sign-up lifecycles; plus a negative user
whose bad tokens and passwords must all be refused with 401."""

from __future__ import annotations

from locust import FastHttpUser, between, task

from loadtests.helpers import settings
from loadtests.helpers.tokens import NEGATIVE_KINDS, AuthTokenGenerator
from loadtests.users.base import ApiUser, data_generator


class AuthUser(ApiUser):
    """Logs in (5), checks its token (3), probes health (2), and signs a new user up, in and out again (1)."""

    weight = 3
    wait_time = between(0.2, 0.8)

    @task(5)
    def login_again(self) -> None:
        token = self.login(self.credentials)
        if token:
            self.token = token

    @task(3)
    def me(self) -> None:
        self.client.get("/auth/me", headers=self.auth, name="/auth/me")

    @task(2)
    def health(self) -> None:
        self.client.get("/health", name="/health")

    @task(1)
    def sign_up_lifecycle(self) -> None:
        """Register a new account, log in as it, then close it (DELETE /auth/me): no data is left behind."""
        credentials = self.data.credentials()
        with self.client.post(
            "/auth/register", json=credentials.to_dict(), name="/auth/register", catch_response=True
        ) as response:
            if response.status_code != 201:
                response.failure(f"register answered {response.status_code}")
                return
        token = self.login(credentials)
        if token:
            self.client.delete("/auth/me", headers={"Authorization": f"Bearer {token}"}, name="/auth/me")


class InvalidTokenUser(FastHttpUser):
    """Negative scenario: expired, foreign-key, malformed, subject-less and unsigned tokens on protected routes, and
    wrong passwords. A 401 is the right answer and counts as success; anything else is a failure."""

    wait_time = between(0.2, 0.8)

    def on_start(self) -> None:
        self.data = data_generator()
        self.tokens = AuthTokenGenerator(settings.jwt_secret())

    def _expect_401(self, method: str, path: str, name: str, **kwargs: object) -> None:
        with self.client.request(method, path, name=name, catch_response=True, **kwargs) as response:  # type: ignore[arg-type]
            if response.status_code == 401:
                response.success()
            else:
                response.failure(f"expected 401, got {response.status_code}")

    @task(3)
    def protected_route_with_bad_token(self) -> None:
        kind = self.data.pick(NEGATIVE_KINDS)
        path = self.data.pick(("/auth/me", "/generations", "/payments"))
        headers = {"Authorization": f"Bearer {self.tokens.invalid(kind)}"}
        self._expect_401("GET", path, f"{path} [bad token]", headers=headers)

    @task(1)
    def no_token(self) -> None:
        self._expect_401("GET", "/generations", "/generations [no token]")

    @task(1)
    def wrong_password(self) -> None:
        self._expect_401(
            "POST", "/auth/login", "/auth/login [wrong password]", json=self.data.credentials().to_dict()
        )
