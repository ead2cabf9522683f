"""The build's output directory: made and checked before any work, and not left behind empty."""

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from layer.errors import LayerError

__all__ = ["output_directory", "replacing"]


@contextlib.contextmanager
def output_directory(path: Path) -> Iterator[Path]:
    """Yield ``path`` as a writable directory; directories made for it go if the body fails."""
    made = _missing(path)
    _create(path)
    try:
        _check_writable(path)
        yield path
    except BaseException:
        _remove_empty(made)
        raise


@contextlib.contextmanager
def replacing(path: Path) -> Iterator[Path]:
    """Yield a hidden file beside ``path`` to write; it becomes ``path`` in one step at the end.

    Readers never see half a file; if writing or renaming fails, the partial file goes and
    the failure is one line.
    """
    partial = path.with_name(f".{path.name}.partial")
    try:
        yield partial
        os.replace(partial, path)
    except OSError as error:
        partial.unlink(missing_ok=True)
        raise LayerError(
            f"{path}: cannot write it ({error.strerror}); "
            "move what is in the way, or give another --output-dir"
        ) from None


def _missing(path: Path) -> list[Path]:
    """``path`` and its ancestors that do not exist yet, deepest first."""
    missing = []
    for directory in (path, *path.parents):
        if directory.exists() or directory.is_symlink():
            break
        missing.append(directory)
    return missing


def _create(path: Path) -> None:
    try:
        path.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise LayerError(f"--output-dir {path}: is a file; give a directory") from None
    except NotADirectoryError:
        raise LayerError(
            f"--output-dir {path}: a part of that path is a file; give a directory"
        ) from None
    except OSError as error:
        raise LayerError(
            f"--output-dir {path}: cannot create it ({error.strerror}); "
            "give a directory you can write to"
        ) from None


def _check_writable(path: Path) -> None:
    try:
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as error:
        raise LayerError(
            f"--output-dir {path}: cannot write there ({error.strerror}); "
            "give a directory you can write to"
        ) from None


def _remove_empty(directories: list[Path]) -> None:
    for directory in directories:
        try:
            directory.rmdir()
        except OSError:
            return
