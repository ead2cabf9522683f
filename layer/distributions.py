"""What the staged layer bundles, read from each distribution's installed metadata."""

import importlib.metadata
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

from layer.errors import LayerError

__all__ = ["RUNTIME_PROVIDED", "Distribution", "read_distributions", "unmet_requirements"]

# Every Lambda Python runtime ships these, so a bundled distribution may require them.
RUNTIME_PROVIDED = frozenset({"boto3", "botocore"})


@dataclass(frozen=True)
class Distribution:
    """One installed distribution: name, version, Requires-Python, Requires-Dist, licence."""

    name: str
    version: str
    requires_python: SpecifierSet
    requires: tuple[Requirement, ...]
    license: str | None


def read_distributions(site: Path) -> list[Distribution]:
    """Every ``*.dist-info`` under ``site``, sorted by name."""
    found = [_describe(dist) for dist in importlib.metadata.distributions(path=[str(site)])]
    names = [dist.name for dist in found]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise LayerError(
            f"{site}: more than one version of {', '.join(duplicates)} installed; "
            "pin each distribution once in the requirements"
        )
    return sorted(found, key=lambda dist: dist.name)


def unmet_requirements(distributions: list[Distribution], environment: dict[str, str]) -> list[str]:
    """Each Requires-Dist (whose marker holds in ``environment``) that the bundle does not meet."""
    versions = {dist.name: dist.version for dist in distributions}
    unmet = []
    for dist in distributions:
        for requirement in dist.requires:
            marker = requirement.marker
            if marker is not None and not marker.evaluate({**environment, "extra": ""}):
                continue
            name = canonicalize_name(requirement.name)
            if name in RUNTIME_PROVIDED:
                continue
            if name not in versions:
                unmet.append(f"{dist.name} {dist.version} requires {requirement}: not bundled")
            elif not requirement.specifier.contains(versions[name], prereleases=True):
                unmet.append(
                    f"{dist.name} {dist.version} requires {requirement}: "
                    f"bundled {name} is {versions[name]}"
                )
    return unmet


def _describe(dist: importlib.metadata.Distribution) -> Distribution:
    metadata = dist.metadata
    license_text = metadata.get("License-Expression") or metadata.get("License")
    return Distribution(
        name=canonicalize_name(metadata["Name"]),
        version=metadata["Version"],
        requires_python=SpecifierSet(metadata.get("Requires-Python") or ""),
        requires=tuple(Requirement(text) for text in dist.requires or ()),
        license=license_text,
    )
