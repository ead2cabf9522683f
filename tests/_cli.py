"""Run the tooling's CLI as build_layer.sh does, ``python -m layer COMMAND``, in a subprocess."""

import json
import os
import subprocess
import sys
from pathlib import Path

__all__ = ["ROOT", "Result", "run_cli"]

ROOT = Path(__file__).resolve().parent.parent


class Result:
    """What one CLI run left behind: exit code, stdout parsed as JSON when it is, stderr lines."""

    def __init__(self, completed: subprocess.CompletedProcess) -> None:
        self.returncode = completed.returncode
        self.stdout = completed.stdout
        self.stderr = completed.stderr
        self.stderr_lines = completed.stderr.splitlines()

    def json(self) -> dict:
        """stdout as the one JSON document it must be."""
        return json.loads(self.stdout)

    def __repr__(self) -> str:
        return f"Result({self.returncode}, stdout={self.stdout!r}, stderr={self.stderr!r})"


def run_cli(*args: str, env: dict[str, str] | None = None) -> Result:
    """Run ``python -m layer ARGS`` from the project root with this test process's interpreter."""
    completed = subprocess.run(
        [sys.executable, "-m", "layer", *args],
        cwd=ROOT,
        env=os.environ.copy() if env is None else env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    return Result(completed)
