"""Import of the unpacked, read-only layer per local interpreter, with and without bytecode."""

import contextlib
import dataclasses
import tempfile
import zipfile
from pathlib import Path

from bench import _layer
from bench._timing import Settings, fresh_processes
from bench.report import Figure, Goal, Row

__all__ = ["run", "without_bytecode"]

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


def without_bytecode(zip_path: Path, target: Path) -> Path:
    """A copy of the zip with every ``__pycache__`` entry left out."""
    with zipfile.ZipFile(zip_path) as source, zipfile.ZipFile(target, "w") as out:
        for info in source.infolist():
            if "__pycache__/" not in info.filename:
                out.writestr(info, source.read(info))
    return target


def _interpreters(manifest: dict) -> list:
    from layer.interpreters import discover
    from layer.runtimes import RUNTIMES

    compatible = set(manifest["compatible_runtimes"])
    return discover(runtime.version for runtime in RUNTIMES if runtime.name in compatible)


def _figure(interpreter, layouts: dict[str, Path], settings: Settings) -> Figure:
    version = f"{interpreter.version[0]}.{interpreter.version[1]}"
    # -B: root may write into a read-only directory, and nothing may be cached there.
    command = [str(interpreter.path), "-I", "-B", "-c", CHILD]
    commands = {
        f"with its bytecode ({version})": [*command, str(layouts["with"])],
        f"without bytecode ({version})": [*command, str(layouts["without"])],
    }
    samples = fresh_processes(commands, settings.processes, float)
    ours, peer = (Row(name, [s * 1000 for s in values]) for name, values in samples.items())
    peer = Row(peer.side, peer.samples, Goal.ratio_at_most(0.75))
    return Figure(f"import of the read-only layer, {version}", "ms", ours, [peer])


def run(settings: Settings) -> list[Figure]:
    """One figure per local interpreter among the layer's compatible runtimes."""
    reason = _layer.missing()
    if reason:
        return [Figure("import of the read-only layer", "", None, skipped=reason)]
    from layer.unpack import read_only_opt

    build = _layer.first_build()
    interpreters = _interpreters(build.manifest)
    if not interpreters:
        return [Figure("import of the read-only layer", "", None, skipped="no local runtime")]

    with tempfile.TemporaryDirectory(prefix="cached-clients-import-") as scratch:
        sources = without_bytecode(build.zip_path, Path(scratch) / "sources.zip")
        with contextlib.ExitStack() as stack:
            layouts = {
                "with": stack.enter_context(read_only_opt(build.zip_path)) / "python",
                "without": stack.enter_context(read_only_opt(sources)) / "python",
            }
            figures = [_figure(one, layouts, settings) for one in interpreters]
    note = (
        "import cached_clients and cachetools from the zip unpacked read-only like /opt, "
        f"{settings.processes} fresh processes per side taking turns (python -I -B); "
        "without bytecode = the same zip with every __pycache__ entry left out; the time "
        "includes the standard modules the layer imports (logging, datetime, decimal...)"
    )
    return [dataclasses.replace(figures[0], note=note), *figures[1:]]
