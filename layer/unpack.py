"""Unpack a layer zip the way Lambda lays out ``/opt``: a tree the function cannot write to."""

import contextlib
import datetime
import os
import shutil
import stat
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

from layer.entries import path_fault

__all__ = ["read_only_opt"]


@contextlib.contextmanager
def read_only_opt(zip_path: Path) -> Iterator[Path]:
    """Yield a temporary ``opt`` directory holding the zip's safe entries, every bit a-w."""
    with tempfile.TemporaryDirectory(prefix="cached-clients-opt-") as work:
        opt = Path(work) / "opt"
        opt.mkdir()
        try:
            _extract(zip_path, opt)
            _make_read_only(opt)
            yield opt
        finally:
            _make_writable(opt)


def _extract(zip_path: Path, opt: Path) -> None:
    with zipfile.ZipFile(zip_path) as archive:
        for info in archive.infolist():
            mode = info.external_attr >> 16
            if path_fault(info.filename) or stat.S_ISLNK(mode):
                continue  # verify reports these; Lambda would not place them usefully either
            target = opt / info.filename
            if info.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            with archive.open(info) as source, target.open("wb") as destination:
                shutil.copyfileobj(source, destination)
            os.chmod(target, stat.S_IMODE(mode) or 0o644)
            _set_mtime(target, info.date_time)


def _set_mtime(target: Path, date_time: tuple[int, ...]) -> None:
    """Give the file its entry's time, as unzip does; a time that is no date is left out."""
    try:
        timestamp = datetime.datetime(*date_time, tzinfo=datetime.UTC).timestamp()
    except ValueError:
        return  # a damaged header (month 0...): the file keeps the time it was written
    os.utime(target, (timestamp, timestamp))


def _make_read_only(opt: Path) -> None:
    for directory, _, files in os.walk(opt, topdown=False):
        for name in files:
            path = Path(directory, name)
            path.chmod(stat.S_IMODE(path.stat().st_mode) & ~0o222)
        Path(directory).chmod(0o555)


def _make_writable(opt: Path) -> None:
    for directory, _, files in os.walk(opt):
        Path(directory).chmod(0o755)
        for name in files:
            path = Path(directory, name)
            path.chmod(stat.S_IMODE(path.stat().st_mode) | 0o200)
