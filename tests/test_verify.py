"""``build_layer.sh verify``: every fault in a layer zip is found, named and reported."""

import json
import shutil
import stat
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import BuiltLayer

from layer.cli import main as cli
from layer.errors import LayerError
from layer.verify import verify

pytestmark = pytest.mark.layer

Transform = Callable[[zipfile.ZipInfo, bytes], list[tuple[zipfile.ZipInfo, bytes]]]


def test_the_built_layer_has_no_problem(
    built_layer: BuiltLayer, capsys: pytest.CaptureFixture
) -> None:
    assert verify(built_layer.zip_path) == []
    assert cli(["verify", str(built_layer.zip_path)]) == 0
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize("damage", ["data", "crc"])
def test_a_corrupted_zip_is_refused_naming_the_entry(
    built_layer: BuiltLayer, tmp_path: Path, capsys: pytest.CaptureFixture, damage: str
) -> None:
    damaged = copy_layer(built_layer, tmp_path)
    corrupt = flip_a_byte_inside if damage == "data" else flip_the_recorded_crc
    corrupt(damaged, "python/cachetools/func.py")

    assert cli(["verify", str(damaged)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("python/cachetools/func.py: corrupted entry ("), lines
    if damage == "crc":
        assert "Bad CRC-32" in lines[0]


def test_a_file_that_is_not_a_zip_is_refused(tmp_path: Path) -> None:
    fake = tmp_path / "cached-clients-1.0.0.zip"
    fake.write_bytes(b"PK\x03\x04 but nothing after")

    assert verify(fake) == [
        "cached-clients-1.0.0.zip: not a readable zip file (File is not a zip file)"
    ]


def test_a_zip_without_the_python_prefix_is_refused(
    built_layer: BuiltLayer, tmp_path: Path
) -> None:
    def strip_prefix(info: zipfile.ZipInfo, data: bytes) -> list:
        name = info.filename.removeprefix("python/")
        return [(renamed(info, name), data)] if name else []

    flat = rewrite(built_layer, tmp_path, strip_prefix)
    problems = verify(flat, built_layer.manifest_path, smoke=False)

    assert "cachetools/__init__.py: outside python/, so not on the function's sys.path" in problems
    assert "python/cached_clients/: missing; the layer must bundle cached_clients" in problems
    assert "python/cachetools/: missing; the layer must bundle cachetools" in problems


def test_an_entry_only_its_owner_can_read_is_refused(
    built_layer: BuiltLayer, tmp_path: Path
) -> None:
    def private(info: zipfile.ZipInfo, data: bytes) -> list:
        if info.filename == "python/cachetools/keys.py":
            info.external_attr = (stat.S_IFREG | 0o600) << 16
        return [(info, data)]

    problems = verify(rewrite(built_layer, tmp_path, private, keep_manifest=False), smoke=False)

    assert len(problems) == 1, problems
    assert problems[0].startswith("python/cachetools/keys.py: mode 0600 is unreadable")


def test_links_absolute_and_escaping_paths_are_each_refused(
    built_layer: BuiltLayer, tmp_path: Path
) -> None:
    link = zipfile.ZipInfo("python/cachetools/link.py", (1980, 1, 1, 0, 0, 0))
    link.create_system = 3
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    extra = [
        (link, b"/etc/passwd"),
        (zipfile.ZipInfo("/python/absolute.py"), b""),
        (zipfile.ZipInfo("python/../escape.py"), b""),
    ]

    def add(info: zipfile.ZipInfo, data: bytes) -> list:
        return [(info, data), *extra] if info.filename == "python/" else [(info, data)]

    problems = verify(rewrite(built_layer, tmp_path, add, keep_manifest=False), smoke=False)

    assert "python/cachetools/link.py: symbolic link; Lambda layers hold regular files" in problems
    assert "/python/absolute.py: absolute path" in problems
    assert "python/../escape.py: '..' in the path leads outside the layer" in problems


def test_every_problem_is_reported_at_once(built_layer: BuiltLayer, tmp_path: Path) -> None:
    def several(info: zipfile.ZipInfo, data: bytes) -> list:
        if info.filename.startswith("python/cached_clients/"):
            return []
        if info.filename == "python/cachetools/keys.py":
            info.external_attr = (stat.S_IFREG | 0o600) << 16
        if info.filename == "python/":
            return [(info, data), (zipfile.ZipInfo("lib/stray.py"), b"")]
        return [(info, data)]

    problems = verify(rewrite(built_layer, tmp_path, several), smoke=False)
    faults = {problem.split(": ", 1)[0] for problem in problems}

    assert {
        "python/cachetools/keys.py",
        "lib/stray.py",
        "python/cached_clients/",
        "python/cached_clients/__init__.py",
        "cached-clients-1.0.0.json",
    } <= faults


def test_a_manifest_that_disagrees_with_the_zip_is_reported(
    built_layer: BuiltLayer, tmp_path: Path
) -> None:
    zip_path = copy_layer(built_layer, tmp_path)
    manifest = dict(built_layer.manifest)
    manifest["files"] = [dict(item) for item in manifest["files"]]
    manifest["files"][0]["sha256"] = "0" * 64
    manifest["distributions"] = {**manifest["distributions"], "cachetools": "7.0.0"}
    manifest["compatible_runtimes"] = ["python3.10", *manifest["compatible_runtimes"]]
    zip_path.with_suffix(".json").write_text(json.dumps(manifest))

    problems = verify(zip_path, smoke=False)

    changed = manifest["files"][0]["path"]
    assert f"{changed}: size or sha256 differs from {zip_path.stem}.json" in problems
    assert any(p.startswith(f"{zip_path.stem}.json: distributions says") for p in problems)
    assert any(p.startswith(f"{zip_path.stem}.json: claims python3.10, which is") for p in problems)


def test_a_missing_manifest_is_a_problem(built_layer: BuiltLayer, tmp_path: Path) -> None:
    lonely = tmp_path / built_layer.zip_path.name
    shutil.copy(built_layer.zip_path, lonely)

    problems = verify(lonely, smoke=False)

    assert problems == [
        f"{lonely.with_suffix('.json')}: no manifest for {lonely.name}; run ./build_layer.sh"
    ]


def test_a_missing_zip_is_one_error_line(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(LayerError, match=r"no such file; run \./build_layer\.sh"):
        verify(tmp_path / "absent.zip")
    assert cli(["verify", str(tmp_path / "absent.zip")]) == 1
    assert capsys.readouterr().err.count("\n") == 1


def test_bytecode_the_runtime_cannot_use_is_reported(
    built_layer: BuiltLayer, tmp_path: Path
) -> None:
    tag = sys.implementation.cache_tag
    dropped = f"python/cachetools/__pycache__/func.{tag}.pyc"
    timestamped = f"python/cachetools/__pycache__/keys.{tag}.pyc"

    def degrade(info: zipfile.ZipInfo, data: bytes) -> list:
        if info.filename == dropped:
            return []
        if info.filename == timestamped:
            data = data[:4] + bytes(4) + data[8:]
        return [(info, data)]

    problems = verify(rewrite(built_layer, tmp_path, degrade, keep_manifest=False))
    runtime = f"python{sys.version_info[0]}.{sys.version_info[1]}"

    assert any(p.startswith(f"{timestamped}: timestamp-based bytecode") for p in problems)
    assert (
        f"python/cachetools/func.py: compiled from source on {runtime}; "
        "its shipped bytecode was not usable"
    ) in problems


def test_an_import_that_fails_or_pulls_in_boto3_is_reported(
    built_layer: BuiltLayer, tmp_path: Path
) -> None:
    broken = {
        "python/cachetools/func.py": b"raise RuntimeError('broken on purpose')\n",
        "python/cached_clients/__init__.py": b"import boto3\n__version__ = '1.0.0'\n",
    }

    def replace(info: zipfile.ZipInfo, data: bytes) -> list:
        if "/__pycache__/func." in info.filename or "cached_clients/__pycache__/__init__" in (
            info.filename
        ):
            return []
        return [(info, broken.get(info.filename, data))]

    problems = verify(rewrite(built_layer, tmp_path, replace, keep_manifest=False))
    smoke = [p for p in problems if p.startswith("python3.11 (")]

    assert any("import cached_clients imported boto3" in p for p in smoke), problems
    assert any("import cachetools.func failed: RuntimeError: broken on purpose" in p for p in smoke)


def test_an_extension_for_the_wrong_platform_is_reported(
    built_layer: BuiltLayer, tmp_path: Path
) -> None:
    aarch64 = bytearray(64)
    aarch64[:6], aarch64[18:20] = b"\x7fELF\x02\x01", (0xB7).to_bytes(2, "little")
    extension = zipfile.ZipInfo("python/cachetools/_fast.abi3.so", (1980, 1, 1, 0, 0, 0))
    extension.create_system, extension.external_attr = 3, (stat.S_IFREG | 0o644) << 16

    def add(info: zipfile.ZipInfo, data: bytes) -> list:
        extra = [(extension, bytes(aarch64))] if info.filename == "python/" else []
        return [(info, data), *extra]

    problems = verify(rewrite(built_layer, tmp_path, add), smoke=False)

    assert "python/cachetools/_fast.abi3.so: compiled for arm64, cannot load on x86_64" in problems


# Helpers


def copy_layer(built_layer: BuiltLayer, directory: Path) -> Path:
    """The built zip and its manifest, copied where a test may damage them."""
    zip_path = directory / built_layer.zip_path.name
    shutil.copy(built_layer.zip_path, zip_path)
    shutil.copy(built_layer.manifest_path, zip_path.with_suffix(".json"))
    return zip_path


def rewrite(
    built_layer: BuiltLayer, directory: Path, transform: Transform, *, keep_manifest: bool = True
) -> Path:
    """A copy of the built zip with each entry passed through ``transform``."""
    target = directory / built_layer.zip_path.name
    with zipfile.ZipFile(built_layer.zip_path) as source, zipfile.ZipFile(target, "w") as out:
        for info in source.infolist():
            for new_info, data in transform(info, source.read(info)):
                out.writestr(new_info, data)

    if keep_manifest:
        shutil.copy(built_layer.manifest_path, target.with_suffix(".json"))
    else:
        rebuild_manifest(built_layer, target)
    return target


def rebuild_manifest(built_layer: BuiltLayer, zip_path: Path) -> None:
    """A manifest that matches ``zip_path``, so only the fault under test is reported."""
    from layer.manifest import file_records, zip_digests

    records = file_records(zip_path)
    manifest = {
        **built_layer.manifest,
        **zip_digests(zip_path),
        "files": records,
        "unzipped_bytes": sum(record["size"] for record in records),
    }
    zip_path.with_suffix(".json").write_text(json.dumps(manifest))


def renamed(info: zipfile.ZipInfo, name: str) -> zipfile.ZipInfo:
    copy = zipfile.ZipInfo(name, info.date_time)
    copy.create_system, copy.external_attr = info.create_system, info.external_attr
    copy.compress_type = info.compress_type
    return copy


def flip_a_byte_inside(zip_path: Path, name: str) -> None:
    """Change one byte in the middle of an entry's compressed data, leaving headers intact."""
    with zipfile.ZipFile(zip_path) as archive:
        info = archive.getinfo(name)
    data = bytearray(zip_path.read_bytes())
    name_length = int.from_bytes(data[info.header_offset + 26 : info.header_offset + 28], "little")
    extra_length = int.from_bytes(data[info.header_offset + 28 : info.header_offset + 30], "little")
    start = info.header_offset + 30 + name_length + extra_length
    data[start + info.compress_size // 2] ^= 0xFF
    zip_path.write_bytes(bytes(data))


def flip_the_recorded_crc(zip_path: Path, name: str) -> None:
    """Change the CRC-32 that the central directory records for ``name``."""
    data = bytearray(zip_path.read_bytes())
    encoded = name.encode()
    # The name follows a 46-byte central header that starts PK\1\2 and gives its length.
    (header,) = [
        start - 46
        for start in range(len(data))
        if data.startswith(encoded, start)
        and data[start - 46 : start - 42] == b"PK\x01\x02"
        and int.from_bytes(data[start - 18 : start - 16], "little") == len(encoded)
    ]
    data[header + 16] ^= 0xFF
    zip_path.write_bytes(bytes(data))
