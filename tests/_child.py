"""Scenarios in a fresh interpreter whose monotonic clock they move, and forks inside them.

A test calls ``run("test_module:scenario", env=...)``. The child replaces time.monotonic with
a Clock before anything else is imported, so cached_clients' caches run on it; the scenario
gets the clock, and what it returns (JSON) comes back to the test.
"""

import importlib
import json
import logging
import os
import signal
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path

__all__ = ["Clock", "Forked", "fork", "run", "warnings_of_cached_clients"]

TESTS = Path(__file__).resolve().parent
_RESULT = "scenario-result: "


class Clock:
    """A monotonic clock that stands still until the scenario moves it."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move the clock forward."""
        self.now += seconds


def run(scenario: str, *, env: dict[str, str] | None = None, timeout: float = 120) -> object:
    """Run "module:function" of tests/ in a child interpreter and return what it returned."""
    environment = {**os.environ, **(env or {})}
    # Scenarios live in test modules, which import conftest, which imports bench._env.
    search_path = [str(TESTS.parent), environment.get("PYTHONPATH", "")]
    environment["PYTHONPATH"] = os.pathsep.join(filter(None, search_path))
    finished = subprocess.run(
        [sys.executable, "-c", "import _child; _child.main()", scenario],
        cwd=TESTS,
        env=environment,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert finished.returncode == 0, f"{scenario} failed:\n{finished.stderr}"
    lines = [line for line in finished.stdout.splitlines() if line.startswith(_RESULT)]
    assert lines, f"{scenario} returned nothing:\n{finished.stderr}"
    return json.loads(lines[-1].removeprefix(_RESULT))


def main() -> None:
    """The child's entry: install the clock, then import and run the scenario."""
    clock = Clock(time.monotonic())
    time.monotonic = clock
    module, function = sys.argv[1].split(":")
    result = getattr(importlib.import_module(module), function)(clock)
    print(_RESULT + json.dumps(result), flush=True)


class Forked:
    """A forked child running one function; result() waits for what it returned."""

    def __init__(self, pid: int, reader: int) -> None:
        self._pid = pid
        self._reader = reader

    def result(self) -> object:
        """The child's return value; AssertionError with its traceback if it failed."""
        with os.fdopen(self._reader, "rb") as pipe:
            payload = pipe.read()
        _, status = os.waitpid(self._pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0 and payload, payload.decode()
        outcome = json.loads(payload)
        assert "error" not in outcome, outcome.get("error")
        return outcome["value"]


def fork(function: Callable[[], object], *, alarm: int = 20) -> Forked:
    """Fork; the child runs function, sends back its result and exits (killed after alarm s)."""
    reader, writer = os.pipe()
    pid = os.fork()
    if pid:
        os.close(writer)
        return Forked(pid, reader)

    os.close(reader)
    signal.alarm(alarm)  # a child stuck on a lock its parent's thread held must not hang us
    try:
        outcome = {"value": function()}
    except BaseException:
        outcome = {"error": traceback.format_exc()}
    with os.fdopen(writer, "w") as pipe:
        pipe.write(json.dumps(outcome))
    os._exit(0)


def warnings_of_cached_clients() -> list[str]:
    """A list that fills with the messages cached_clients logs at WARNING and above."""
    messages: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            messages.append(f"{record.levelname} {record.getMessage()}")

    logging.getLogger("cached_clients").addHandler(Collect(logging.WARNING))
    return messages
