"""Stage the layer's ``python/`` tree: our wheel plus the pins, installed for Lambda's platform."""

import csv
import io
import logging
import shutil
import subprocess
import sys
from pathlib import Path

from layer._sources import copy_python_tree
from layer.errors import LayerError

__all__ = ["PLATFORMS", "build_wheel", "install", "tidy"]

logger = logging.getLogger(__name__)

# What the build backend reads besides python/ (pyproject.toml names the readme and licence).
PROJECT_FILES = ("pyproject.toml", "LICENSE")
# The wheel's long description stands in for README.md, so that editing the guide leaves the
# layer's bytes (and CodeSha256, hence the published version) as they are.
_README = "The cached-clients Lambda layer's runtime library; its guide is the project's README.\n"
PLATFORMS = {"arm64": "manylinux2014_aarch64", "x86_64": "manylinux2014_x86_64"}
# pip's own records of how it installed: one holds the absolute path of the local wheel.
_PIP_RECORDS = ("direct_url.json", "INSTALLER", "REQUESTED")


def build_wheel(project: Path, workdir: Path) -> Path:
    """Build the cached_clients wheel from a copy of the sources (git's, in a checkout)."""
    source = workdir / "source"
    source.mkdir()
    for name in PROJECT_FILES:
        shutil.copy2(project / name, source / name)
    (source / "README.md").write_text(_README, encoding="utf-8")
    copy_python_tree(project, source)

    wheels = workdir / "wheel"
    _run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(wheels)],
        "building the cached-clients wheel",
        cwd=source,
    )
    return next(wheels.glob("*.whl"))


def install(
    python_dir: Path, requirements: Path, wheel: Path, *, architecture: str, python_version: str
) -> None:
    """Install the pinned requirements, then the wheel alone, as Lambda's platform needs them."""
    pip = [
        *(sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"),
        *("--target", str(python_dir), "--platform", PLATFORMS[architecture]),
        *("--implementation", "cp", "--python-version", python_version),
        *("--only-binary=:all:", "--no-compile", "--no-warn-script-location"),
    ]
    _run([*pip, "--require-hashes", "-r", str(requirements)], f"installing {requirements.name}")
    _run([*pip, "--no-deps", str(wheel)], f"installing {wheel.name}")


def tidy(python_dir: Path) -> list[str]:
    """Drop what a layer must not ship (scripts, tests, bytecode, pip's records); say what went."""
    _refuse_links(python_dir)
    doomed = [python_dir / "bin"] if (python_dir / "bin").is_dir() else []
    doomed += [path for path in python_dir.rglob("*") if _unwanted(path, python_dir)]

    removed = []
    for path in sorted(doomed):
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()
        else:
            continue  # inside a directory removed just before
        removed.append(path.relative_to(python_dir).as_posix())

    for record in python_dir.glob("*.dist-info/RECORD"):
        _drop_missing_rows(record, python_dir)
    return removed


def _unwanted(path: Path, python_dir: Path) -> bool:
    if path.is_dir():
        return path.name in {"tests", "__pycache__"}
    if path.suffix in {".pyc", ".pyo"}:
        return True
    return path.parent.name.endswith(".dist-info") and path.name in _PIP_RECORDS


def _refuse_links(python_dir: Path) -> None:
    links = [path for path in python_dir.rglob("*") if path.is_symlink()]
    if links:
        names = ", ".join(path.relative_to(python_dir).as_posix() for path in links)
        raise LayerError(
            f"python/{names}: symbolic link; a layer holds regular files only "
            "(a distribution that installs links cannot be bundled as is)"
        )


def _drop_missing_rows(record: Path, python_dir: Path) -> None:
    """Keep RECORD true to what ships: only rows whose file is still there."""
    rows = list(csv.reader(io.StringIO(record.read_text(encoding="utf-8"))))
    kept = [row for row in rows if row and (python_dir / row[0]).is_file()]
    if len(kept) != len(rows):
        output = io.StringIO()
        csv.writer(output, lineterminator="\n").writerows(kept)
        record.write_text(output.getvalue(), encoding="utf-8")


def _run(command: list[str], what: str, cwd: Path | None = None) -> None:
    logger.info("%s", what)
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        lines = (result.stdout + result.stderr).strip().splitlines()
        errors = [line for line in lines if line.startswith("ERROR")] or lines[-3:]
        raise LayerError(f"{what} failed: {' / '.join(errors)}; fix that and build again")
