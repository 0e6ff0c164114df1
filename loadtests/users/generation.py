"""Generation traffic: submit tasks and poll them, as an image-generation client does."""

from __future__ import annotations

from collections import deque

from locust import between, task

from loadtests.users.base import ApiUser

_REMEMBERED = 20


class GenerationUser(ApiUser):
    """Creates generations (3), polls one of its recent tasks (2), lists its tasks (1). Short waits: a client polls
    its queued tasks, so 10 users produce well over 10 generations/s."""

    weight = 6
    wait_time = between(0.05, 0.45)

    def on_start(self) -> None:
        super().on_start()
        self.recent: deque[str] = deque(maxlen=_REMEMBERED)

    @task(3)
    def create(self) -> None:
        with self.client.post(
            "/generations",
            json=self.data.generation_payload(),
            headers=self.auth,
            name="/generations",
            catch_response=True,
        ) as response:
            if response.status_code != 201:
                response.failure(f"create answered {response.status_code}")
                return
            self.recent.append(str(response.json()["id"]))

    @task(2)
    def poll(self) -> None:
        if not self.recent:
            self.create()
            return
        generation_id = self.data.pick(self.recent)
        self.client.get(f"/generations/{generation_id}", headers=self.auth, name="/generations/{id}")

    @task(1)
    def list_own(self) -> None:
        self.client.get("/generations?page=1&page_size=20", headers=self.auth, name="/generations?page=[n]")
