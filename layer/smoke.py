"""Import a layer zip under every local interpreter it claims, as Lambda would run it."""

import json
import logging
import os
import subprocess
from pathlib import Path

from layer.bytecode import cache_path, tags_of
from layer.interpreters import Interpreter, discover
from layer.runtime_packages import runtime_packages
from layer.runtimes import RUNTIMES
from layer.unpack import read_only_opt

__all__ = ["RUNTIME_STAND_IN", "smoke_test"]

logger = logging.getLogger(__name__)

SMOKE_HANDLER = Path(__file__).with_name("_smoke_handler.py")
RUNTIME_STAND_IN = ("boto3", "botocore")  # what every Lambda Python runtime ships
_TIMEOUT = 120


def smoke_test(
    zip_path: Path, runtimes: list[str], distributions: dict[str, str], names: set[str]
) -> list[str]:
    """Problems found running the smoke handler from a read-only copy of the layer."""
    versions = [runtime.version for runtime in RUNTIMES if runtime.name in runtimes]
    interpreters = discover(versions)
    if not interpreters:
        return [
            f"{zip_path.name}: no local interpreter for {', '.join(runtimes)}, so nothing "
            "proved the layer imports; install one (pyenv install 3.12)"
        ]

    for tag in sorted(tags_of(names) - {interpreter.cache_tag for interpreter in interpreters}):
        logger.warning("no local interpreter checks the %s bytecode against its source", tag)

    stand_in = runtime_packages(RUNTIME_STAND_IN, interpreters)
    seen_on: dict[str, list[str]] = {}
    for interpreter in interpreters:
        logger.info("importing the layer with %s", interpreter)
        with read_only_opt(zip_path) as opt:
            report = _run(interpreter, opt / "python", stand_in, distributions)
        compiled = _compiled(interpreter, report["compiled"], opt, names)
        for problem in [*report["problems"], *compiled]:
            seen_on.setdefault(problem, []).append(interpreter.runtime_name)
    # One fault usually shows on every runtime: one line for it, naming where it happened.
    return [f"{problem} (on {', '.join(names)})" for problem, names in seen_on.items()]


def _run(
    interpreter: Interpreter, layer: Path, stand_in: Path, distributions: dict[str, str]
) -> dict:
    # -I: no user site, no PYTHON* variables; -S: none of this interpreter's site-packages;
    # -B: nothing written back, as /opt cannot be written (root ignores the chmod).
    command = [str(interpreter.path), "-I", "-S", "-B", str(SMOKE_HANDLER)]
    command += [str(layer), str(stand_in), json.dumps(distributions)]
    try:
        result = subprocess.run(
            command,
            env=_lambda_environment(interpreter, layer),
            capture_output=True,
            text=True,
            timeout=_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return {"problems": [f"the smoke handler ran over {_TIMEOUT} s"], "compiled": []}

    try:
        return json.loads(result.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        tail = " / ".join(result.stderr.strip().splitlines()[-3:])
        return {
            "problems": [f"the smoke handler crashed ({result.returncode}): {tail}"],
            "compiled": [],
        }


def _compiled(
    interpreter: Interpreter, compiled: list[str], opt: Path, names: set[str]
) -> list[str]:
    sources = sorted({Path(path).relative_to(opt).as_posix() for path in compiled})
    tag = interpreter.cache_tag
    if tag in tags_of(names):
        return [
            f"{source}: compiled from source; "
            + (
                "its shipped bytecode was not usable"
                if cache_path(source, tag) in names
                else "no bytecode was shipped for it"
            )
            for source in sources
        ]
    if sources:
        logger.warning(
            "no %s bytecode in the layer: %d modules compile at every cold start on %s",
            tag,
            len(sources),
            interpreter.runtime_name,
        )
    return []


def _lambda_environment(interpreter: Interpreter, layer: Path) -> dict[str, str]:
    """What Lambda sets that matters to an import, and never the caller's credentials."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "HOME": str(layer.parent),
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{interpreter.runtime_name}",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
    }
