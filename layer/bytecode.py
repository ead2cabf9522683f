"""Bytecode that a read-only /opt can use: compiled per interpreter, never checked at import."""

import os
import subprocess
from pathlib import Path

from layer.errors import LayerError
from layer.interpreters import Interpreter

__all__ = ["OPT", "compile_tree", "pyc_fault"]

OPT = "/opt"  # where Lambda unpacks layers; compiled code names its source file under it

_HASH_BASED = 0b01
_CHECK_SOURCE = 0b10


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
    # Set ordering inside constants (frozensets) follows string hashing, so a fixed seed
    # is what makes the marshalled bytecode the same on every build.
    environment = {key: value for key, value in os.environ.items() if not key.startswith("PYTHON")}
    environment["PYTHONHASHSEED"] = "0"
    return environment
