"""Bytecode that a read-only /opt can use: compiled per interpreter, never checked at import."""

import logging
import os
import re
import subprocess
from collections.abc import Iterable
from pathlib import Path

from layer.errors import LayerError
from layer.interpreters import Interpreter, discover
from layer.runtimes import Runtime

__all__ = ["OPT", "cache_path", "compile_layer", "compile_tree", "pyc_fault", "tags_of"]

logger = logging.getLogger(__name__)

OPT = "/opt"  # where Lambda unpacks layers; compiled code names its source file under it

_HASH_BASED = 0b01
_CHECK_SOURCE = 0b10
_TAG = re.compile(r"/__pycache__/[^/]+\.(cpython-\d+)\.pyc$")


def compile_layer(
    stage: Path, runtimes: list[Runtime], only: Iterable[tuple[int, int]] | None = None
) -> dict[str, str]:
    """Compile with each local interpreter among ``runtimes``, or ``only`` those; tag -> version."""
    interpreters = _chosen(runtimes, only)
    for interpreter in interpreters:
        logger.info("compiling for %s", interpreter)
        compile_tree(interpreter, stage)

    covered = {interpreter.runtime_name for interpreter in interpreters}
    for runtime in runtimes:
        if runtime.name not in covered:
            logger.warning(
                "no bytecode for %s: its cold starts will compile the layer's modules",
                runtime.name,
            )
    return {interpreter.cache_tag: interpreter.full_version for interpreter in interpreters}


def _chosen(runtimes: list[Runtime], only: Iterable[tuple[int, int]] | None) -> list[Interpreter]:
    versions = [runtime.version for runtime in runtimes]
    if only is None:
        return discover(versions)

    wanted = sorted(set(only))
    outside = [f"{major}.{minor}" for major, minor in wanted if (major, minor) not in versions]
    if outside:
        names = ", ".join(runtime.name for runtime in runtimes)
        raise LayerError(
            f"--interpreters {', '.join(outside)}: not among the compatible runtimes ({names}); "
            "name only those"
        )
    found = discover(wanted)
    missing = sorted(set(wanted) - {interpreter.version for interpreter in found})
    if missing:
        raise LayerError(
            f"--interpreters {', '.join(f'{major}.{minor}' for major, minor in missing)}: "
            "no local interpreter found "
            "(looked at this Python and pyenv's); install it or leave it out"
        )
    return found


def compile_tree(interpreter: Interpreter, stage: Path) -> None:
    """Compile every module under ``stage/python`` with ``interpreter``, naming /opt paths."""
    command = [
        str(interpreter.path),
        "-s",
        "-m",
        "compileall",
        "-q",
        "--invalidation-mode",
        "unchecked-hash",
        "-s",
        str(stage),
        "-p",
        OPT,
        str(stage / "python"),
    ]
    result = subprocess.run(
        command, env=_compile_environment(), capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        output = (result.stdout + result.stderr).strip().splitlines()
        raise LayerError(
            f"compiling the layer with {interpreter} failed: {' / '.join(output[-3:])}; "
            "a bundled module does not support that Python, so it cannot be a compatible runtime"
        )


def cache_path(source: str, tag: str) -> str:
    """Where the import system looks for the ``tag`` bytecode of the module file ``source``."""
    directory, _, file = source.rpartition("/")
    return f"{directory}/__pycache__/{file.removesuffix('.py')}.{tag}.pyc"


def tags_of(names: Iterable[str]) -> set[str]:
    """The cache tags (``cpython-312``) of the bytecode files among ``names``."""
    return {match[1] for name in names if (match := _TAG.search(name))}


def pyc_fault(name: str, head: bytes) -> str | None:
    """Why the .pyc entry ``name`` would be recompiled or ignored in Lambda, or None."""
    if len(head) < 16:
        return f"{name}: truncated bytecode header"

    flags = int.from_bytes(head[4:8], "little")
    if not flags & _HASH_BASED:
        return (
            f"{name}: timestamp-based bytecode is dropped whenever the source's mtime differs, "
            "and read-only /opt cannot take a fresh one (rebuild with unchecked-hash bytecode)"
        )
    if flags & _CHECK_SOURCE:
        return f"{name}: checked-hash bytecode makes every import read and hash the source too"
    return None


def _compile_environment() -> dict[str, str]:
    # Where marshal writes frozenset constants in hash order, only a fixed seed keeps the
    # bytecode the same on every build; where it sorts them, the seed costs nothing.
    environment = {key: value for key, value in os.environ.items() if not key.startswith("PYTHON")}
    environment["PYTHONHASHSEED"] = "0"
    return environment
