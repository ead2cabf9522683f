"""Stand-ins for what Lambda's runtime provides (boto3...), installed once beside the venv."""

import contextlib
import fcntl
import hashlib
import logging
import shutil
import subprocess
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

from packaging.requirements import Requirement

from layer.errors import LayerError
from layer.interpreters import Interpreter

__all__ = ["runtime_packages"]

logger = logging.getLogger(__name__)

PROJECT = Path(__file__).resolve().parent.parent
PINS = PROJECT / "requirements-dev.txt"


def runtime_packages(names: Iterable[str], interpreters: Iterable[Interpreter]) -> Path:
    """A directory holding ``names`` at the versions pinned for development, with bytecode."""
    wanted = sorted(names)
    constraints = _constraints()
    key = hashlib.sha256("\n".join([*wanted, constraints]).encode()).hexdigest()[:12]
    target = Path(sys.prefix) / "lambda-runtime" / f"{'-'.join(wanted)}-{key}"
    target.parent.mkdir(parents=True, exist_ok=True)

    with _locked(target.parent / ".lock"):
        if not (target / ".complete").is_file():
            _install(wanted, constraints, target)
        for interpreter in interpreters:
            _compile_once(target, interpreter)
    return target


def _constraints() -> str:
    """Every development pin as a constraint (pip refuses extras in constraints)."""
    lines = []
    for line in PINS.read_text(encoding="utf-8").splitlines():
        text = line.split("#", 1)[0].strip()
        if text:
            requirement = Requirement(text)
            lines.append(f"{requirement.name}{requirement.specifier}")
    return "\n".join(lines) + "\n"


def _install(names: list[str], constraints: str, target: Path) -> None:
    logger.info("installing %s for the runtime stand-in into %s", ", ".join(names), target)
    partial = target.with_name(f"{target.name}.partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir()
    (partial / ".constraints.txt").write_text(constraints, encoding="utf-8")
    command = [
        *(sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"),
        *("--target", str(partial), "--no-compile", "--only-binary=:all:"),
        *("-c", str(partial / ".constraints.txt"), *names),
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise LayerError(
            f"installing {', '.join(names)} for the runtime stand-in failed: "
            f"{result.stderr.strip().splitlines()[-1:]}; check access to the package index"
        )
    (partial / ".complete").touch()
    shutil.rmtree(target, ignore_errors=True)
    partial.rename(target)


def _compile_once(target: Path, interpreter: Interpreter) -> None:
    stamp = target / f".compiled-{interpreter.cache_tag}"
    if stamp.is_file():
        return
    command = [str(interpreter.path), "-s", "-m", "compileall", "-q", "-j", "0", str(target)]
    # Bytecode here only spares every smoke run from compiling botocore; a module this
    # interpreter cannot compile is left for import time to report.
    subprocess.run(command, capture_output=True, check=False)
    stamp.touch()


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
