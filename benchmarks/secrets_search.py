"""Secrets search: one pytest session plants secrets where real suites put them, then every artefact is searched.

The session runs against a loopback target that sets a session cookie, with an env file holding ``DB_PASS``,
``SESSION_COOKIE`` and ``API_TOKEN``, a Locust argument added with ``is_secret=True``, a host with userinfo (so
requests sends a ``Basic`` header built from it), ``?key=`` and ``?sig=`` query parameters, a ``Bearer`` token, and
user code that puts all of them (the cookie jar and the headers too) into request names, failures and exceptions;
two more tests fail in their set-up on a refused and an invalid host carrying a password. It writes every artefact
it can: the terminal (``-rA``, captured output included), JUnit XML (``junit_logging=all``), pytest-html, the
session's ``index.html`` and JSON, Locust's HTML and CSV per test, and a baseline.

Each planted value is then searched for, as written, URL-encoded and (the Basic credential) base64-encoded, in the
terminal output and in every file the session wrote. Prints the leaks per artefact and their count:

    .venv/bin/python benchmarks/secrets_search.py           # the table, then "leaks: 0"
    .venv/bin/python benchmarks/secrets_search.py --json    # {"leaks": 0, "artefacts": {...}, "found": [...]}

Exit status 1 when a secret was found anywhere, or an artefact kind was not written (nothing searched is no proof).
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote, quote_plus

SECRETS = {
    "env DB_PASS": "dbpass-Q7v2xL9",
    "env SESSION_COOKIE": "sesscookie-K3m8",
    "env API_TOKEN": "apitoken-W4n6pR",
    "target's cookie": "jarcookie-Z5t1Hq",
    "is_secret option": "optsecret-B8c3Jd",
    "userinfo password": "userinfo-P2w9Fx",
    "?key= parameter": "querykey-M6r4Tz",
    "?sig= parameter": "querysig-N1x7Vb",
    "Bearer token": "bearertok-C9k2Lw",
    "setup-error password": "setuppass-D4j8Qs",
}
BASIC_USER = "loader"

TEST_FILE = """
import os
import pytest
from locust import HttpUser, constant, events, task


@events.init_command_line_parser.add_listener
def _arguments(parser, **kwargs):
    parser.add_argument("--signing-value", default="", is_secret=True)


class LeakyUser(HttpUser):
    wait_time = constant(0.2)

    @task
    def leak(self):
        self.client.get("/login")
        jar, signing = str(self.client.cookies), self.environment.parsed_options.signing_value
        bearer = {"Authorization": "Bearer BEARER"}
        query = "/data?key=QUERY_KEY&sig=QUERY_SIG"
        with self.client.get(query, headers=bearer, name=query, catch_response=True) as response:
            sent = list(response.request.headers.items())  # the Basic header requests built from the userinfo
            response.failure(
                f"jar {jar} headers {dict(response.headers)} sent {sent} signing {signing} "
                f"db {os.environ['DB_PASS']} session {os.environ['SESSION_COOKIE']}"
            )
        print(f"user code prints {jar} {signing} {os.environ['API_TOKEN']} {sent}")
        raise RuntimeError(f"login failed with {os.environ['DB_PASS']} and {jar} and {signing}")


class NamesUser(HttpUser):
    wait_time = constant(0.2)

    @task
    def names(self):
        self.client.get("/login")
        self.client.get("/data?key=QUERY_KEY&sig=QUERY_SIG", name="/data?key=QUERY_KEY&sig=QUERY_SIG")


@pytest.mark.load(LeakyUser, users=1, duration=1, host="HOST", options={"signing_value": "OPTION"})
def test_leaky():
    pass


@pytest.mark.load(NamesUser, users=1, duration=1, host="HOST", thresholds={"rps": ">=1"})
def test_names():
    pass


@pytest.mark.load(NamesUser, users=1, duration=1, host="http://admin:SETUP_PASS@10.255.255.1:80")
def test_refused_host():
    pass


@pytest.mark.load(NamesUser, users=1, duration=1, host="http://admin:SETUP_PASS@127.0.0.1:99999")
def test_invalid_host():
    pass
"""
ENV_FILE = "DB_PASS={db}\nSESSION_COOKIE={session}\nAPI_TOKEN={token}\n"
ARTEFACT_KINDS: dict[str, Callable[[str], bool]] = {
    "terminal": lambda name: name == "terminal",
    "junit": lambda name: name == "junit.xml",
    "pytest-html": lambda name: name.startswith("html/"),
    "index.html": lambda name: name == "load_test_reports/index.html",
    "json": lambda name: name == "load_test_reports/loadtest-report.json",
    "locust html": lambda name: name.startswith("load_test_reports/") and name.endswith("/locust.html"),
    "locust csv": lambda name: name.startswith("load_test_reports/") and name.endswith(".csv"),
    "baseline": lambda name: name.startswith(".loadtest/"),
}


class _Target(BaseHTTPRequestHandler):
    """``/login`` sets the session cookie; everything else answers 200."""

    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self.send_response(200)
        if self.path.startswith("/login"):
            self.send_header("Set-Cookie", "sid=" + SECRETS["target's cookie"] + "; Path=/; HttpOnly")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def target() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Target)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://{BASIC_USER}:{SECRETS['userinfo password']}@127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def write_session(path: Path, host: str) -> None:
    text = TEST_FILE
    for marker, value in {
        "HOST": host,
        "BEARER": SECRETS["Bearer token"],
        "QUERY_KEY": SECRETS["?key= parameter"],
        "QUERY_SIG": SECRETS["?sig= parameter"],
        "OPTION": SECRETS["is_secret option"],
        "SETUP_PASS": SECRETS["setup-error password"],
    }.items():
        text = text.replace(marker, value)
    (path / "test_secrets_session.py").write_text(text, encoding="utf-8")
    (path / ".env.load-testing").write_text(
        ENV_FILE.format(
            db=SECRETS["env DB_PASS"], session=SECRETS["env SESSION_COOKIE"], token=SECRETS["env API_TOKEN"]
        ),
        encoding="utf-8",
    )


def run_session(path: Path) -> str:
    """The session's terminal output (stdout and stderr)."""
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:hypothesispytest"]
    command += ["-p", "no:faker", "-rA", "-o", "junit_logging=all", "--junitxml=junit.xml"]
    command += ["--html=html/report.html", "--load-save=secrets"]
    environment = {name: value for name, value in os.environ.items() if not name.startswith("PYTEST_")}
    run = subprocess.run(command, cwd=path, env=environment, capture_output=True, text=True, timeout=180)
    return run.stdout + run.stderr


def forms(value: str) -> set[str]:
    return {value, quote(value, safe=""), quote_plus(value)}


def searched_forms() -> dict[str, set[str]]:
    """Each secret in every form it may be written in, the Basic credential among them."""
    found = {label: forms(value) for label, value in SECRETS.items()}
    basic = f"{BASIC_USER}:{SECRETS['userinfo password']}".encode()
    found["Basic credential"] = {base64.b64encode(basic).decode()}
    return found


def search(path: Path, terminal: str) -> dict[str, object]:
    """Every form of every secret in the terminal output and in every file under ``path`` but the inputs."""
    texts = {"terminal": terminal}
    for file in sorted(path.rglob("*")):
        name = str(file.relative_to(path))
        inputs = ("test_secrets_session.py", ".env.load-testing")
        if file.is_file() and name not in inputs and "__pycache__" not in name:
            texts[name] = file.read_text(encoding="utf-8", errors="replace")
    found = [
        {"artefact": name, "secret": label, "count": text.count(form)}
        for name, text in texts.items()
        for label, variants in searched_forms().items()
        for form in variants
        if form in text
    ]
    artefacts = {
        kind: sorted(name for name in texts if belongs(name)) for kind, belongs in ARTEFACT_KINDS.items()
    }
    return {
        "leaks": sum(int(str(leak["count"])) for leak in found),
        "found": found,
        "artefacts": artefacts,
        "missing": sorted(kind for kind, names in artefacts.items() if not names),
        "redacted": sum(text.count("[REDACTED]") for text in texts.values()),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print the outcome as JSON")
    parser.add_argument(
        "--keep", metavar="DIR", help="run the session in DIR and keep it (default: a temp dir)"
    )
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as temporary, target() as host:
        path = Path(arguments.keep or temporary)
        path.mkdir(parents=True, exist_ok=True)
        write_session(path, host)
        terminal = run_session(path)
        outcome = search(path, terminal)
    if arguments.json:
        print(json.dumps(outcome, indent=2))
    else:
        for kind, names in outcome["artefacts"].items():  # type: ignore[attr-defined]
            print(f"{kind:12} {len(names)} file(s)" if kind != "terminal" else f"{kind:12} searched")
        for leak in outcome["found"]:  # type: ignore[attr-defined]
            print(f"LEAK {leak['secret']} in {leak['artefact']} ({leak['count']}x)")
        if outcome["missing"]:
            print(f"not written, so not searched: {', '.join(outcome['missing'])}")  # type: ignore[arg-type]
        print(f"leaks: {outcome['leaks']}")
    return 1 if outcome["leaks"] or outcome["missing"] else 0


if __name__ == "__main__":
    sys.exit(main())
