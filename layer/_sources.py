"""Which files of ``python/`` the layer is built from: what git tracks, in a git checkout."""

import fnmatch
import logging
import os
import shutil
import subprocess
from pathlib import Path, PurePosixPath

__all__ = ["copy_python_tree"]

logger = logging.getLogger(__name__)

_NEVER = ("__pycache__", "*.pyc", "*.egg-info")


def copy_python_tree(project: Path, destination: Path) -> None:
    """Copy ``project/python`` to ``destination/python``: in a git checkout, tracked files only.

    A scratch file in the working tree must not ship just because it is there; outside a
    checkout (an unpacked source archive) the tree is taken as it is.
    """
    tracked = _git_files(project, "--cached")
    if not tracked:
        if tracked is not None:
            logger.info("git tracks nothing under python/, so the tree is taken as it is")
        shutil.copytree(project / "python", destination / "python", ignore=_ignored)
        return

    for name in tracked:
        if (project / name).is_file() and not _never_shipped(name):
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(project / name, destination / name)
    for name in _git_files(project, "--others", "--exclude-standard") or []:
        logger.warning("left out %s: git does not track it (git add it to ship it)", name)


def _git_files(project: Path, *selection: str) -> list[str] | None:
    """Paths under python/ that ``git ls-files SELECTION`` lists; None outside a checkout."""
    command = ["git", "-C", str(project), "ls-files", "-z", *selection, "--", "python"]
    try:
        result = subprocess.run(command, capture_output=True, check=False)
    except OSError:
        return None  # no git here: nothing can be a checkout
    if result.returncode != 0:
        return None
    return sorted(os.fsdecode(name) for name in result.stdout.split(b"\0") if name)


def _never_shipped(name: str) -> bool:
    parts = PurePosixPath(name).parts
    return any(fnmatch.fnmatch(part, pattern) for part in parts for pattern in _NEVER)


def _ignored(directory: str, names: list[str]) -> set[str]:
    return {name for name in names if _never_shipped(name)}
