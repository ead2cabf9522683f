"""Build the layer zip with this checkout's own tooling, once per bench run unless asked again."""

import atexit
import functools
import importlib.util
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench._env import ROOT

__all__ = ["Build", "build", "first_build", "missing"]


class Build:
    """One build's zip, manifest and how long it took."""

    def __init__(self, zip_path: Path, seconds: float) -> None:
        self.zip_path = zip_path
        self.seconds = seconds
        self.manifest = json.loads(zip_path.with_suffix(".json").read_text(encoding="utf-8"))


def missing() -> str:
    """Empty when this checkout can build the layer; otherwise why the layer figures wait."""
    if importlib.util.find_spec("layer.build") is None:
        return "this checkout has no layer/build.py yet"
    return ""


def _scratch() -> Path:
    directory = Path(tempfile.mkdtemp(prefix="cached-clients-bench-"))
    atexit.register(shutil.rmtree, directory, ignore_errors=True)
    return directory


def build() -> Build:
    """Run ``python -m layer build`` into a new directory and time it."""
    output = _scratch()
    command = [sys.executable, "-m", "layer", "build", "--output-dir", str(output)]
    started = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"layer build exited {done.returncode}: {done.stderr.strip()}")
    return Build(Path(done.stdout.strip().splitlines()[-1]), seconds)


@functools.cache
def first_build() -> Build:
    """The first build of this bench run; later callers reuse its zip."""
    return build()
