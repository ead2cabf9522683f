""".ci/run and README.md: CI runs what a new user is told to run, and the guide is current."""

import re
import subprocess
import zipfile

import pytest
from conftest import ROOT, BuiltLayer

README = (ROOT / "README.md").read_text(encoding="utf-8")


def commands(script: str) -> list[str]:
    """The lines of a shell script that do something (no comments, set or cd)."""
    lines = [line.strip() for line in script.splitlines()]
    return [line for line in lines if line and not line.startswith(("#", "set ", "cd "))]


def test_ci_runs_exactly_the_test_command() -> None:
    assert commands((ROOT / ".ci/run").read_text()) == ["./build_layer.sh test"]


def test_readme_opens_with_the_two_commands() -> None:
    first_block = README.split("```", 2)[1]
    lines = [line.split("#")[0].strip() for line in first_block.strip().splitlines()]
    assert lines == ["./build_layer.sh", "./build_layer.sh test"]


def test_every_command_the_readme_names_exists() -> None:
    usage = subprocess.run(
        [str(ROOT / "build_layer.sh"), "help"], capture_output=True, text=True, check=True
    ).stdout
    known = set(re.findall(r"^  (\w+)", usage, re.M))
    named = set(re.findall(r"\./build_layer\.sh (\w+)", README))
    assert named <= known, named - known


def test_every_configuration_variable_is_documented() -> None:
    sources = "".join(p.read_text() for p in (ROOT / "python/cached_clients").rglob("*.py"))
    variables = set(re.findall(r"CACHED_CLIENTS_[A-Z_]+", sources))
    assert {v for v in variables if f"`{v}`" not in README} == set()


@pytest.mark.layer
def test_the_aws_cli_example_matches_the_build(built_layer: BuiltLayer) -> None:
    manifest = built_layer.manifest
    runtimes = re.search(r"--compatible-runtimes ([\w. ]+)", README)[1].split()
    architectures = re.search(r"--compatible-architectures ([\w ]+?) --", README)[1].split()

    assert f"fileb://dist/{manifest['zip']}" in README
    assert runtimes == manifest["compatible_runtimes"]
    assert architectures == manifest["compatible_architectures"]


@pytest.mark.layer
def test_the_sizes_the_readme_gives_are_the_builds(built_layer: BuiltLayer) -> None:
    sizes = re.search(
        r"The zip is about (\d+) KB \(the sources about (\d+) KB of it, the rest bytecode for\s+"
        r"three runtimes\), (\d+) KB unzipped",
        README,
    )
    zip_kb, sources_kb, unzipped_kb = (int(size) * 1000 for size in sizes.groups())
    with zipfile.ZipFile(built_layer.zip_path) as archive:
        infos = archive.infolist()
    sources = sum(info.compress_size for info in infos if not info.filename.endswith(".pyc"))

    assert sources == pytest.approx(sources_kb, rel=0.15)
    # The bytecode, so the zip's size, depends on how many local interpreters built it.
    if len(built_layer.manifest["bytecode"]) == 3:
        assert built_layer.manifest["zip_bytes"] == pytest.approx(zip_kb, rel=0.15)
        assert built_layer.manifest["unzipped_bytes"] == pytest.approx(unzipped_kb, rel=0.15)
