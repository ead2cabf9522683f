"""Read a layer zip's entries defensively and find what Lambda would trip over in them."""

import hashlib
import re
import stat
import zipfile
import zlib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from layer.bytecode import pyc_fault
from layer.extensions import inspect_extension, is_extension

__all__ = [
    "REQUIRED_PACKAGES",
    "Entry",
    "check_entries",
    "path_conflicts",
    "path_fault",
    "read_entries",
]

REQUIRED_PACKAGES = ("cached_clients", "cachetools")
_HEAD_BYTES = 64
# A mode without a file type (some zip tools record only the permissions) is a plain file too.
_PLAIN_TYPES = {0, stat.S_IFREG, stat.S_IFDIR}
_PYC = re.compile(r"^(?P<dir>(.*/)?)__pycache__/(?P<module>[^/.]+)\.(?P<tag>[^/.]+)\.pyc$")


@dataclass(frozen=True)
class Entry:
    """One zip entry: name, Unix mode (None if not recorded), size, digest, first bytes."""

    name: str
    mode: int | None
    size: int
    sha256: str | None
    head: bytes
    data: bytes | None  # kept for dist-info METADATA only
    fault: str | None  # why its bytes could not be read

    @property
    def is_dir(self) -> bool:
        """True for a directory entry."""
        return self.name.endswith("/") or (self.mode is not None and stat.S_ISDIR(self.mode))

    @property
    def is_link(self) -> bool:
        """True for a symbolic link."""
        return self.mode is not None and stat.S_ISLNK(self.mode)


def read_entries(zip_path: Path) -> tuple[list[Entry], list[str]]:
    """Every entry, its bytes checked against its CRC; problems if the zip cannot be opened."""
    try:
        with zipfile.ZipFile(zip_path) as archive:
            return [_read(archive, info) for info in archive.infolist()], []
    # NotImplementedError: an entry claims to need a newer zip version than Python reads.
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError) as error:
        return [], [f"{zip_path.name}: not a readable zip file ({error})"]


def path_fault(name: str) -> str | None:
    """Why Lambda would not put the entry ``name`` on the path as intended, or None."""
    path = PurePosixPath(name)
    if not path.parts:
        return f"{name!r}: empty entry name"
    if name.startswith("/") or "\\" in name or re.match(r"^[A-Za-z]:", name):
        return f"{name}: absolute path"
    if ".." in path.parts:
        return f"{name}: '..' in the path leads outside the layer"
    if any(segment in {"", "."} for segment in name.rstrip("/").split("/")):
        # Two spellings of one path would let a later entry silently replace an earlier one.
        return f"{name}: '.' or an empty segment in the path; name each entry one way only"
    if path.parts[0] != "python":
        return f"{name}: outside python/, so not on the function's sys.path"
    return None


def check_entries(entries: list[Entry], architectures: list[str]) -> list[str]:
    """Every layout problem: paths, links, modes, corruption, bytecode, binaries, packages."""
    problems = [f"{name}: appears more than once" for name, n in _counts(entries) if n > 1]
    for entry in entries:
        problems += _entry_problems(entry, architectures)
    problems += path_conflicts(entries)

    names = {entry.name for entry in entries}
    problems += _stray_bytecode(names)
    problems += _test_directories(names)
    for package in REQUIRED_PACKAGES:
        if f"python/{package}/__init__.py" not in names:
            problems.append(f"python/{package}/: missing; the layer must bundle {package}")
    return problems


def path_conflicts(entries: list[Entry]) -> list[str]:
    """Files that other entries need as directories: no unpacking can place both."""
    files = {entry.name for entry in entries if not entry.is_dir}
    clashes: dict[str, str] = {}
    for entry in entries:
        for directory in _directories_of(entry):
            if directory in files:
                clashes.setdefault(directory, entry.name)
    return [
        f"{file}: a file, but {other} needs it to be a directory"
        for file, other in sorted(clashes.items())
    ]


def _directories_of(entry: Entry) -> list[str]:
    """The directories that unpacking ``entry`` needs: its parents, and itself if a directory."""
    parts = PurePosixPath(entry.name).parts
    depth = len(parts) if entry.is_dir else len(parts) - 1
    return ["/".join(parts[:count]) for count in range(1, depth + 1)]


def _read(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> Entry:
    mode = (
        info.external_attr >> 16 if info.create_system == 3 and info.external_attr >> 16 else None
    )
    digest, head, data, fault = hashlib.sha256(), b"", None, None
    keep = info.filename.endswith(".dist-info/METADATA")
    if not (mode is not None and stat.S_ISLNK(mode)) and not info.is_dir():
        try:
            content = archive.read(info)
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, RuntimeError) as error:
            fault = f"{info.filename}: corrupted entry ({error})"
        else:
            digest.update(content)
            head, data = content[:_HEAD_BYTES], content if keep else None
    return Entry(info.filename, mode, info.file_size, digest.hexdigest(), head, data, fault)


def _entry_problems(entry: Entry, architectures: list[str]) -> list[str]:
    problems = [problem for problem in (path_fault(entry.name), entry.fault) if problem]
    if entry.is_link:
        problems.append(f"{entry.name}: symbolic link; Lambda layers hold regular files")
    elif entry.mode is not None and stat.S_IFMT(entry.mode) not in _PLAIN_TYPES:
        problems.append(f"{entry.name}: a pipe, socket or device; Lambda layers hold regular files")
    elif entry.mode is not None and not _readable(entry):
        problems.append(
            f"{entry.name}: mode {stat.S_IMODE(entry.mode):04o} is unreadable for the function, "
            "which does not run as the files' owner (use 0644 for files, 0755 for directories)"
        )
    if entry.fault is None and entry.name.endswith(".pyc"):
        problems.append(pyc_fault(entry.name, entry.head))
    if entry.fault is None and is_extension(entry.name):
        problems.append(inspect_extension(entry.name, entry.head).fault(architectures))
    return [problem for problem in problems if problem]


def _readable(entry: Entry) -> bool:
    needed = stat.S_IROTH | stat.S_IXOTH if entry.is_dir else stat.S_IROTH
    return entry.mode & needed == needed


def _counts(entries: list[Entry]) -> list[tuple[str, int]]:
    return sorted(Counter(entry.name for entry in entries).items())


def _stray_bytecode(names: set[str]) -> list[str]:
    """Bytecode in __pycache__ whose source is absent: Python never loads it from there."""
    problems = []
    for name in sorted(names):
        match = _PYC.match(name)
        if match and f"{match['dir']}{match['module']}.py" not in names:
            problems.append(f"{name}: stray bytecode, no {match['module']}.py beside it")
    return problems


def _test_directories(names: set[str]) -> list[str]:
    found = set()
    for name in names:
        parts = PurePosixPath(name).parts
        if "tests" in parts[:-1] or (name.endswith("/") and parts[-1] == "tests"):
            found.add("/".join(parts[: parts.index("tests") + 1]) + "/")
    return [f"{name}: tests have no place in a layer" for name in sorted(found)]
