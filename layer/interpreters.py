"""Find the local CPython interpreters that can stand in for Lambda's Python runtimes."""

import functools
import json
import logging
import shutil
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Interpreter", "discover"]

logger = logging.getLogger(__name__)

_PROBE = (
    "import json, sys; print(json.dumps([sys.implementation.name, "
    "list(sys.version_info[:3]), sys.implementation.cache_tag]))"
)


@dataclass(frozen=True)
class Interpreter:
    """A local CPython: its executable, version and bytecode cache tag (``cpython-312``)."""

    path: Path
    version: tuple[int, int]
    full_version: str
    cache_tag: str

    @property
    def runtime_name(self) -> str:
        """The Lambda runtime this interpreter stands in for, as "python3.12"."""
        return f"python{self.version[0]}.{self.version[1]}"

    def __str__(self) -> str:
        return f"{self.runtime_name} ({self.path})"


def discover(versions: Iterable[tuple[int, int]]) -> list[Interpreter]:
    """One interpreter per wanted version: the running one first, then pyenv's, oldest first."""
    wanted = tuple(sorted(set(versions)))
    found: dict[tuple[int, int], Interpreter] = {}
    for path in [Path(sys.executable), *_pyenv_candidates(wanted)]:
        interpreter = _probe(path)
        if interpreter and interpreter.version in wanted:
            found.setdefault(interpreter.version, interpreter)

    return [found[version] for version in sorted(found)]


@functools.cache
def _pyenv_candidates(versions: tuple[tuple[int, int], ...]) -> list[Path]:
    pyenv = shutil.which("pyenv")
    if pyenv is None:
        return []

    candidates = []
    for major, minor in versions:
        result = subprocess.run(
            [pyenv, "prefix", f"{major}.{minor}"], capture_output=True, text=True, check=False
        )
        prefix = Path(result.stdout.strip().split(":")[0])
        if result.returncode == 0 and (prefix / "bin" / "python").is_file():
            candidates.append(prefix / "bin" / "python")
    return candidates


@functools.cache
def _probe(path: Path) -> Interpreter | None:
    try:
        result = subprocess.run(
            [str(path), "-I", "-c", _PROBE], capture_output=True, text=True, timeout=30, check=True
        )
    except (OSError, subprocess.SubprocessError) as error:
        logger.debug("%s does not run: %s", path, error)
        return None

    implementation, version, cache_tag = json.loads(result.stdout)
    if implementation != "cpython":
        return None
    return Interpreter(path, (version[0], version[1]), ".".join(map(str, version)), cache_tag)
