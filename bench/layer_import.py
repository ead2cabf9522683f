"""Import of the unpacked, read-only layer per local interpreter, with and without bytecode."""

import dataclasses
import os
import shutil
import stat
import subprocess
import tempfile
import zipfile
from pathlib import Path

from bench import _layer
from bench._timing import Settings, fresh_processes
from bench.report import Figure, Goal, Row

__all__ = ["VERSIONS", "interpreters", "run"]

VERSIONS = ("3.11", "3.12", "3.13")

# Runs in the child: the layer's python/ directory first on the path, as /opt/python is
# in Lambda, then the imports a cold start pays for, timed by the child itself.
CHILD = """
import sys, time
layer = sys.argv[1]
sys.path.insert(0, layer)
started = time.perf_counter()
import cached_clients, cachetools
elapsed = time.perf_counter() - started
assert cached_clients.__file__.startswith(layer), cached_clients.__file__
assert cachetools.__file__.startswith(layer), cachetools.__file__
print(elapsed)
"""


def _pyenv_python(version: str) -> str | None:
    if not shutil.which("pyenv"):
        return None
    done = subprocess.run(["pyenv", "prefix", version], capture_output=True, text=True, check=False)
    candidate = Path(done.stdout.strip(), "bin", "python3")
    return str(candidate) if done.returncode == 0 and candidate.exists() else None


def interpreters() -> dict[str, str]:
    """Each local CPython among VERSIONS (pyenv's, else one on PATH), by version."""
    found = {}
    for version in VERSIONS:
        path = _pyenv_python(version) or shutil.which(f"python{version}")
        if path:
            found[version] = path
    return found


def _read_only(root: Path) -> None:
    for directory, _, files in os.walk(root):
        for name in files:
            path = Path(directory, name)
            path.chmod(path.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
        Path(directory).chmod(0o555)


def _unpack(zip_path: Path, scratch: Path) -> dict[str, Path]:
    layouts = {}
    for name in ("with", "without"):
        opt = scratch / name
        with zipfile.ZipFile(zip_path) as archive:
            archive.extractall(opt)
        if name == "without":
            for cache in list(opt.rglob("__pycache__")):
                shutil.rmtree(cache)
        _read_only(opt)
        layouts[name] = opt / "python"
    return layouts


def _figure(version: str, python: str, layouts: dict[str, Path], settings: Settings) -> Figure:
    # -B: the root user may write into a read-only directory; nothing may be cached here.
    commands = {
        f"with its bytecode ({version})": [python, "-I", "-B", "-c", CHILD, str(layouts["with"])],
        f"without bytecode ({version})": [python, "-I", "-B", "-c", CHILD, str(layouts["without"])],
    }
    samples = fresh_processes(commands, settings.processes, float)
    ours, peer = (Row(name, [s * 1000 for s in values]) for name, values in samples.items())
    peer = Row(peer.side, peer.samples, Goal.ratio_at_most(0.75))
    return Figure(f"import of the read-only layer, {version}", "ms", ours, [peer])


def run(settings: Settings) -> list[Figure]:
    """One figure per local interpreter, from one unpacked copy of the built zip."""
    reason = _layer.missing()
    if reason:
        return [Figure("import of the read-only layer", "", None, skipped=reason)]
    found = interpreters()
    if not found:
        return [Figure("import of the read-only layer", "", None, skipped="no local CPython 3.11+")]

    build = _layer.first_build()
    with tempfile.TemporaryDirectory(prefix="cached-clients-import-") as scratch:
        try:
            layouts = _unpack(build.zip_path, Path(scratch))
            figures = [_figure(v, python, layouts, settings) for v, python in found.items()]
        finally:
            for directory, _, _ in os.walk(scratch):
                Path(directory).chmod(0o755)
    note = (
        "import cached_clients and cachetools from the unpacked zip made read-only, "
        f"{settings.processes} fresh processes per side taking turns (python -I -B); "
        "without bytecode = the same tree with every __pycache__ removed"
    )
    return [dataclasses.replace(figures[0], note=note), *figures[1:]]
