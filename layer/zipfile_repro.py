"""Write a directory tree as a zip that depends on nothing but the files' names and bytes."""

import os
import time
import zipfile
from collections.abc import Mapping
from pathlib import Path

from layer.errors import LayerError

__all__ = ["DIRECTORY_MODE", "FILE_MODE", "entry_date_time", "write_zip"]

FILE_MODE = 0o644
DIRECTORY_MODE = 0o755

_ZIP_EPOCH = 315532800  # 1980-01-01T00:00:00Z, the earliest time a zip entry can hold
_ZIP_LAST = 4354819198  # 2107-12-31T23:59:58Z, the latest
_UNIX = 3  # "version made by" host system, so readers honour the Unix modes
_MSDOS_DIRECTORY = 0x10


def entry_date_time(environ: Mapping[str, str] = os.environ) -> tuple[int, ...]:
    """The one timestamp of every entry: ``SOURCE_DATE_EPOCH`` if set, else 1980-01-01."""
    value = environ.get("SOURCE_DATE_EPOCH", "").strip()
    try:
        epoch = int(value) if value else _ZIP_EPOCH
    except ValueError:
        raise LayerError(
            f"SOURCE_DATE_EPOCH={value!r} is not whole seconds since 1970; fix or unset it"
        ) from None

    epoch = min(max(epoch, _ZIP_EPOCH), _ZIP_LAST)
    # A zip stores seconds halved; rounding down here makes what we write what we read back.
    epoch -= epoch % 2
    return tuple(time.gmtime(epoch)[:6])


def write_zip(root: Path, destination: Path, date_time: tuple[int, ...]) -> None:
    """Zip everything under ``root``: names sorted, one timestamp, files 0644, dirs 0755."""
    names = sorted(_entry_names(root))
    with zipfile.ZipFile(destination, "w") as archive:
        for name in names:
            if name.endswith("/"):
                archive.writestr(_info(name, date_time, DIRECTORY_MODE, directory=True), b"")
            else:
                info = _info(name, date_time, FILE_MODE, directory=False)
                archive.writestr(info, (root / name).read_bytes(), compresslevel=9)


def _entry_names(root: Path) -> list[str]:
    names = []
    for directory, subdirectories, files in os.walk(root):
        relative = Path(directory).relative_to(root).as_posix()
        prefix = "" if relative == "." else f"{relative}/"
        names.extend(f"{prefix}{name}/" for name in subdirectories)
        names.extend(f"{prefix}{name}" for name in files)
    return names


def _info(name: str, date_time: tuple[int, ...], mode: int, *, directory: bool) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time)
    info.create_system = _UNIX
    if directory:
        info.external_attr = ((0o040000 | mode) << 16) | _MSDOS_DIRECTORY
        info.compress_type = zipfile.ZIP_STORED
    else:
        info.external_attr = (0o100000 | mode) << 16
        info.compress_type = zipfile.ZIP_DEFLATED
    return info
