"""Starting the real monitoring programs (Debian's prometheus-alertmanager and prometheus)
for a test: a free loopback port, a readiness wait, and a clean stop."""

import contextlib
import json
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request

import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def program(name: str) -> str:
    path = shutil.which(name) or shutil.which(name, path="/usr/bin")
    if path is None:
        pytest.fail(f"{name} is not installed: run scripts/system_deps.sh as root")
    return path


def wait_until(check, *, timeout=30.0, interval=0.05, what="condition"):
    """Poll ``check`` until it returns something truthy; fail the test after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:  # noqa: S310 - our own http://127.0.0.1 URL
            return response.status == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


@contextlib.contextmanager
def running(args: list[str], *, ready_url: str, log_path):
    """Run ``args`` until the block ends; ``ready_url`` answering 200 means it is up."""
    with open(log_path, "wb") as log:
        process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
        try:

            def up():
                if process.poll() is not None:
                    pytest.fail(f"{args[0]} exited with {process.returncode}: {log_path.read_text()[-2000:]}")
                return _ready(ready_url)

            wait_until(up, timeout=20, what=f"{args[0]} to be ready")
            yield process
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def post_json(url: str, payload) -> int:
    assert url.startswith("http://127.0.0.1:")
    request = urllib.request.Request(  # noqa: S310 - loopback http only (asserted above)
        url, data=json.dumps(payload).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
        return response.status
