"""The server process: loopback-only binding, the command line, startup errors, clean shutdown and reaping."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from loadtests.platform_api.config import ApiConfig
from loadtests.platform_api.server import REPO_ROOT, PlatformApiServer, PlatformApiStartupError

NON_LOOPBACK = ["0.0.0.0", "::", "10.1.2.3", "192.168.0.10", "8.8.8.8", "example.com", ""]


def _run_cli(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "loadtests.platform_api", *args],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _assert_gone(process: subprocess.Popen[bytes] | None) -> None:
    """Exited and reaped: not even a zombie is left to signal."""
    assert process is not None and process.returncode is not None
    with pytest.raises(ProcessLookupError):
        os.kill(process.pid, 0)


@pytest.mark.parametrize("host", NON_LOOPBACK)
def test_config_refuses_non_loopback_hosts(host: str) -> None:
    with pytest.raises(ValueError, match="loopback"):
        ApiConfig(host=host)
    with pytest.raises(ValueError, match="loopback"):
        PlatformApiServer(host=host)


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.0.10"])
def test_cli_refuses_non_loopback_bind(tmp_path: Path, host: str) -> None:
    process = _run_cli("--host", host, "--db", str(tmp_path / "api.db"))
    stdout, stderr = process.communicate(timeout=30)
    assert process.returncode == 2
    assert "loopback" in stderr
    assert "PLATFORM_API_LISTENING" not in stdout
    assert not (tmp_path / "api.db").exists()


def test_cli_announces_its_url_and_stops_cleanly_on_sigint(tmp_path: Path) -> None:
    port_file = tmp_path / "port"
    process = _run_cli(
        "--host", "127.0.0.1", "--port", "0", "--db", str(tmp_path / "api.db"), "--port-file", str(port_file)
    )
    try:
        deadline = time.monotonic() + 15
        while not port_file.exists() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        port = int(port_file.read_text())
        with requests.Session() as http:
            http.trust_env = False
            assert http.get(f"http://127.0.0.1:{port}/health").json() == {"status": "ok"}
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate()
    assert process.returncode == 0, stderr
    assert stdout.splitlines() == [f"PLATFORM_API_LISTENING http://127.0.0.1:{port}"]


def test_the_process_is_reaped_and_its_files_removed() -> None:
    server = PlatformApiServer()
    with server:
        workdir = server.db_path.parent
        assert server.db_path.exists()
        process = server.process
    _assert_gone(process)
    assert process is not None and process.returncode == 0  # SIGTERM is a clean stop
    assert not workdir.exists()
    with pytest.raises(RuntimeError, match="not running"):
        server.url  # noqa: B018


def test_open_keep_alive_connections_do_not_hold_up_the_stop() -> None:
    with requests.Session() as http:
        http.trust_env = False
        server = PlatformApiServer()
        with server:
            http.get(f"{server.url}/health")  # leaves an idle keep-alive connection open
            started = time.monotonic()
        assert time.monotonic() - started < 3
    _assert_gone(server.process)


def test_an_early_exit_is_reported_with_the_server_output(api: PlatformApiServer) -> None:
    taken = PlatformApiServer(port=api.port)
    with pytest.raises(
        PlatformApiStartupError, match=r"(?s)exited with status 1 during startup.*Address already in use"
    ):
        taken.start()
    _assert_gone(taken.process)


def test_a_slow_start_is_reported() -> None:
    slow = PlatformApiServer(startup_timeout_s=0.05)
    with pytest.raises(PlatformApiStartupError, match=r"did not answer GET /health within 0.05 s"):
        slow.start()
    _assert_gone(slow.process)


def test_the_manager_owns_the_database_and_port_file() -> None:
    with pytest.raises(TypeError, match="db, port_file"):
        PlatformApiServer(db="/tmp/x.db", port_file="/tmp/port")


def test_metrics(api: PlatformApiServer, http: requests.Session) -> None:
    before = http.get(f"{api.url}/metrics").json()
    http.get(f"{api.url}/health")
    after = http.get(f"{api.url}/metrics").json()
    assert after["requests_total"] == before["requests_total"] + 2
    assert after["responses_by_status"]["200"] == before["responses_by_status"]["200"] + 2
    assert api.process is not None and after["pid"] == api.process.pid
    assert after["rss_bytes"] > 10 * 2**20
    assert after["uptime_s"] > before["uptime_s"]
