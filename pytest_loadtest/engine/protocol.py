"""What crosses the process boundary: the scenario spec and the messages between the pytest process and the
engine, fork server and worker processes, written and read in this one module.

Plain Python (no gevent, no Locust, no pytest): both sides import it.
"""

from __future__ import annotations

CLIENT_FIXTURES = ("fastsession", "session")
"""Locust's own fixtures (its pytest plugin ``pytest_locust``): the fast client and the requests client."""
FAST, REQUESTS = "fast", "requests"
"""The client a test body's user gets: Locust's fast client, or requests."""
