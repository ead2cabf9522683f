"""The one table of AWS Lambda's Python runtimes, and which of them a layer can claim."""

import datetime
from collections.abc import Iterable
from dataclasses import dataclass

from packaging.specifiers import SpecifierSet

__all__ = ["RUNTIMES", "Runtime", "compatible_runtimes", "supported_runtimes", "today_utc"]


@dataclass(frozen=True)
class Runtime:
    """A Lambda Python runtime: its identifier, its Python version, the day it is deprecated."""

    name: str
    version: tuple[int, int]
    deprecated_on: datetime.date

    @property
    def version_text(self) -> str:
        """The Python version as "3.12"."""
        return f"{self.version[0]}.{self.version[1]}"

    def supported_on(self, day: datetime.date) -> bool:
        """True while the runtime is not yet deprecated on that day."""
        return day < self.deprecated_on


# Deprecation dates from https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html
# (from that day on, Lambda stops applying security patches to the runtime).
RUNTIMES = (
    Runtime("python3.8", (3, 8), datetime.date(2024, 10, 14)),
    Runtime("python3.9", (3, 9), datetime.date(2025, 12, 15)),
    Runtime("python3.10", (3, 10), datetime.date(2026, 10, 31)),
    Runtime("python3.11", (3, 11), datetime.date(2027, 6, 30)),
    Runtime("python3.12", (3, 12), datetime.date(2028, 10, 31)),
    Runtime("python3.13", (3, 13), datetime.date(2029, 6, 30)),
    Runtime("python3.14", (3, 14), datetime.date(2029, 6, 30)),
)


def today_utc() -> datetime.date:
    """Today's date in UTC, the calendar Lambda's deprecation dates use."""
    return datetime.datetime.now(datetime.UTC).date()


def supported_runtimes(today: datetime.date | None = None) -> list[Runtime]:
    """The runtimes not deprecated on ``today`` (default: today in UTC), oldest first."""
    day = today or today_utc()
    return [runtime for runtime in RUNTIMES if runtime.supported_on(day)]


def compatible_runtimes(
    requires_python: Iterable[SpecifierSet], today: datetime.date | None = None
) -> list[Runtime]:
    """The supported runtimes whose Python version every ``Requires-Python`` given admits."""
    specifiers = list(requires_python)
    return [
        runtime
        for runtime in supported_runtimes(today)
        if all(specifier.contains(runtime.version_text) for specifier in specifiers)
    ]
