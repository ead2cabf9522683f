"""The layer's sizes, and its import time from read-only /opt with and without its bytecode.

Run: ``.venv/bin/python -m bench.layer_size_and_import [ZIP] [--runs N]``. Each import is
timed in a fresh isolated interpreter (as a cold start is), median of N, per local runtime.
"""

import argparse
import statistics
import subprocess
import tempfile
import zipfile
from pathlib import Path

from layer.interpreters import Interpreter, discover
from layer.manifest import load_manifest
from layer.runtimes import RUNTIMES
from layer.unpack import read_only_opt

__all__ = ["main"]

PROJECT = Path(__file__).resolve().parent.parent
_TIMED_IMPORT = (
    "import sys, time; sys.path.insert(0, {layer!r}); start = time.perf_counter(); "
    "import cachetools, cached_clients; print(time.perf_counter() - start)"
)


def main(argv: list[str] | None = None) -> int:
    """Print the sizes, then one import-time line per local interpreter."""
    parser = argparse.ArgumentParser(prog="python -m bench.layer_size_and_import")
    parser.add_argument("zip", nargs="?", type=Path, default=_default_zip())
    parser.add_argument("--runs", type=int, default=15)
    arguments = parser.parse_args(argv)

    manifest = load_manifest(arguments.zip)
    _print_sizes(arguments.zip)
    versions = [r.version for r in RUNTIMES if r.name in manifest["compatible_runtimes"]]
    with tempfile.TemporaryDirectory() as work:
        sources_only = _without_bytecode(arguments.zip, Path(work) / "sources.zip")
        print(f"the same zip without bytecode: {sources_only.stat().st_size:,} bytes")
        for interpreter in discover(versions):
            shipped = _median_import(interpreter, arguments.zip, arguments.runs)
            compiled = _median_import(interpreter, sources_only, arguments.runs)
            print(
                f"import {interpreter.runtime_name}: {shipped * 1000:.2f} ms with bytecode, "
                f"{compiled * 1000:.2f} ms without ({1 - shipped / compiled:.0%} less)"
            )
    return 0


def _default_zip() -> Path:
    return next(iter(sorted((PROJECT / "dist").glob("cached-clients-*.zip"))), Path("missing"))


def _print_sizes(zip_path: Path) -> None:
    with zipfile.ZipFile(zip_path) as archive:
        infos = archive.infolist()
    bytecode = sum(i.compress_size for i in infos if i.filename.endswith(".pyc"))
    others = sum(i.compress_size for i in infos if not i.filename.endswith(".pyc"))
    print(f"zip: {zip_path.stat().st_size:,} bytes, {len(infos)} entries")
    print(f"compressed sources and metadata (no .pyc): {others:,} bytes")
    print(f"compressed bytecode: {bytecode:,} bytes")
    print(f"unzipped: {sum(i.file_size for i in infos):,} bytes")


def _without_bytecode(zip_path: Path, target: Path) -> Path:
    with zipfile.ZipFile(zip_path) as source, zipfile.ZipFile(target, "w") as out:
        for info in source.infolist():
            if "__pycache__/" not in info.filename:
                out.writestr(info, source.read(info))
    return target


def _median_import(interpreter: Interpreter, zip_path: Path, runs: int) -> float:
    with read_only_opt(zip_path) as opt:
        code = _TIMED_IMPORT.format(layer=str(opt / "python"))
        command = [str(interpreter.path), "-I", "-S", "-B", "-c", code]
        timings = [
            float(subprocess.run(command, capture_output=True, text=True, check=True).stdout)
            for _ in range(runs)
        ]
    return statistics.median(timings)


if __name__ == "__main__":
    raise SystemExit(main())
