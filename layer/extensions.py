"""Compiled extensions in a layer: which architecture and Python each one can load on."""

import re
from dataclasses import dataclass

__all__ = ["ARCHITECTURES", "Extension", "inspect_extension", "is_extension"]

ARCHITECTURES = ("arm64", "x86_64")  # Lambda's names, sorted as Lambda lists them

_ELF_MAGIC = b"\x7fELF"
_ELF_MACHINES = {0x3E: "x86_64", 0xB7: "arm64"}
_SUFFIX = re.compile(r"\.(so(\.\d+)*|pyd|dll|dylib)$")
_CPYTHON_TAG = re.compile(r"\.cpython-(\d)(\d+)[-.]")


@dataclass(frozen=True)
class Extension:
    """A compiled file: its architecture (None if not a Linux ELF binary) and Python, if tied."""

    path: str
    architecture: str | None
    python: tuple[int, int] | None

    def fault(self, architectures: list[str]) -> str | None:
        """Why this file cannot load on every one of ``architectures``, or None if it can."""
        if self.architecture is None:
            return f"{self.path}: not a Linux ELF binary, so no Lambda runtime can load it"
        wrong = [name for name in architectures if name != self.architecture]
        if wrong:
            return (
                f"{self.path}: compiled for {self.architecture}, cannot load on {', '.join(wrong)}"
            )
        return None


def is_extension(path: str) -> bool:
    """True for a shared library or extension module by its file name."""
    return bool(_SUFFIX.search(path.rsplit("/", 1)[-1]))


def inspect_extension(path: str, head: bytes) -> Extension:
    """Describe the compiled file at ``path`` from its first bytes (at least 20)."""
    tag = _CPYTHON_TAG.search(path.rsplit("/", 1)[-1])
    python = (int(tag.group(1)), int(tag.group(2))) if tag else None
    return Extension(path, _elf_architecture(head), python)


def _elf_architecture(head: bytes) -> str | None:
    if len(head) < 20 or not head.startswith(_ELF_MAGIC):
        return None

    # e_machine sits at offset 18, in the byte order that EI_DATA (offset 5) names.
    order = "little" if head[5] == 1 else "big"
    return _ELF_MACHINES.get(int.from_bytes(head[18:20], order), "an unknown machine")
