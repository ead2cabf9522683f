"""build_layer.sh itself: how it sets up .venv and how it reads its first argument."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

from conftest import ROOT

# Stands in for Python: records each call, makes a "venv" by copying itself, succeeds.
FAKE_PYTHON = """#!/bin/sh
echo "$0 $*" >> "$CALLS"
if [ "$1" = "-m" ] && [ "$2" = "venv" ]; then
    mkdir -p "$3/bin" && cp "$0" "$3/bin/python"
fi
if [ "$1" = "-V" ]; then
    echo "Python 3.11.0"
fi
exit 0
"""


def test_a_new_venv_gets_the_pinned_pip(tmp_path: Path) -> None:
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    for name in ("build_layer.sh", "requirements-dev.txt", "pyproject.toml"):
        shutil.copy2(ROOT / name, checkout / name)
    fake = tmp_path / "fake-python"
    fake.write_text(FAKE_PYTHON)
    fake.chmod(0o755)
    calls = tmp_path / "calls.log"

    environment = {**os.environ, "PYTHON": str(fake), "CALLS": str(calls)}
    subprocess.run(
        [str(checkout / "build_layer.sh"), "verify"], env=environment, check=True, timeout=60
    )

    venv_python = str(checkout / ".venv" / "bin" / "python")
    pip_calls = [
        line.split()[1:]
        for line in calls.read_text().splitlines()
        if line.startswith(venv_python) and " -m pip " in line
    ]
    assert pip_calls[0] == ["-m", "pip", "install", "--quiet", "pip==26.3"]
    assert not any("--upgrade" in call for call in pip_calls), pip_calls


def test_the_venv_runs_the_pinned_pip() -> None:
    version = subprocess.run(
        [sys.executable, "-m", "pip", "--version"], capture_output=True, text=True, check=True
    ).stdout
    assert version.startswith("pip 26.3 "), version


def test_options_alone_go_to_build(tmp_path: Path) -> None:
    result = subprocess.run(
        [str(ROOT / "build_layer.sh"), "--output-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(tmp_path / "cached-clients-1.0.0.zip")
    assert (tmp_path / "cached-clients-1.0.0.json").is_file()


def test_help_still_shows_the_usage() -> None:
    for flag in ("-h", "--help"):
        result = subprocess.run(
            [str(ROOT / "build_layer.sh"), flag], capture_output=True, text=True, check=True
        )
        assert result.stdout.startswith("usage: ./build_layer.sh [COMMAND] [ARGS...]")


def test_a_python_named_that_is_not_one_is_refused(tmp_path: Path) -> None:
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    for name in ("build_layer.sh", "requirements-dev.txt", "pyproject.toml"):
        shutil.copy2(ROOT / name, checkout / name)

    environment = {**os.environ, "PYTHON": str(tmp_path / "no-such-python")}
    result = subprocess.run(
        [str(checkout / "build_layer.sh"), "verify"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode != 0
    assert result.stderr.splitlines() == [
        f"build_layer.sh: PYTHON={tmp_path / 'no-such-python'} is not a Python 3.11+; "
        "fix it or unset it"
    ]
    assert not (checkout / ".venv").exists()


def test_a_link_to_the_script_finds_the_checkout(tmp_path: Path) -> None:
    link = tmp_path / "build_layer.sh"
    link.symlink_to(ROOT / "build_layer.sh")

    result = subprocess.run(
        [str(link), "build", "--help"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: build_layer.sh build")
