"""Fake AWS credentials for this process and its children, and moto's server on 127.0.0.1."""

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

__all__ = ["FAKE_ENVIRONMENT", "ROOT", "child_environment", "free_port", "isolate", "moto_server"]

ROOT = Path(__file__).resolve().parent.parent

# Every benchmark runs against moto only; these keep boto3 away from real AWS and from
# the instance metadata service, here and in every subprocess a benchmark starts.
FAKE_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
}
_REMOVED = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "MOTO_ACCOUNT_ID", "AWS_ENDPOINT_URL")


def isolate() -> None:
    """Put the fake credentials into os.environ; call before anything imports boto3."""
    for name in _REMOVED:
        os.environ.pop(name, None)
    for name in [name for name in os.environ if name.startswith("CACHED_CLIENTS_")]:
        del os.environ[name]
    os.environ.update(FAKE_ENVIRONMENT)


def child_environment(**extra: str) -> dict[str, str]:
    """The environment for a benchmark's subprocess: this one, isolated, plus ``extra``."""
    isolate()
    return {**os.environ, **extra}


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_until_listening(url: str, process: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"moto's server exited with {process.returncode} before listening")
        try:
            urllib.request.urlopen(f"{url}/moto-api/", timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"moto's server did not answer on {url} within {timeout:.0f} s")


@contextlib.contextmanager
def moto_server() -> Iterator[str]:
    """moto's server in its own process on a free port of 127.0.0.1; yields its URL."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        env=child_environment(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_until_listening(url, process)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
