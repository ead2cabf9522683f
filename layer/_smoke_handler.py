"""Run by each runtime's interpreter (-I -S -B): import the layer as Lambda would, report JSON.

Arguments: the layer's python/ directory, the runtime stand-in directory (boto3), and the
expected distributions as JSON. Prints one JSON object: problems found (bytecode compiled from
other source included), and every layer file that had to be compiled from source because no
usable bytecode was shipped for it.
"""

import importlib
import importlib.machinery
import importlib.util
import json
import os
import pathlib
import pkgutil
import sys

__all__ = ["handler", "main"]


def main() -> None:
    """Set up Lambda's path, run the smoke handler once, print what happened."""
    layer, runtime, expected = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    compiled = _record_compilation()

    # Lambda puts /opt/python ahead of the runtime's own packages.
    sys.path.insert(0, layer)
    sys.path.append(runtime)

    problems = _stale_bytecode(layer)
    problems += handler({"layer": layer, "distributions": expected}, None)
    # Each runtime imports from a temporary copy; name it /opt, where Lambda puts it.
    opt = os.path.dirname(layer)
    problems = [problem.replace(opt, "/opt") for problem in problems]
    report = {"problems": problems, "compiled": [path for path in compiled if layer in path]}
    print(json.dumps(report))


def handler(event: dict, context: object) -> list[str]:
    """Import the layer, call what needs no network, then import every module it holds."""
    problems = _check_import(event["layer"], event["distributions"])
    if not problems:
        problems += _check_calls()
    problems += _import_everything(event["layer"])
    # A module that fails fails again each time it is imported: say so once.
    return list(dict.fromkeys(problems))


def _record_compilation() -> list[str]:
    # The loader calls source_to_code only when it found no bytecode it could use.
    compiled: list[str] = []
    loader = importlib.machinery.SourceFileLoader
    original = loader.source_to_code

    def recording(self, data, path, *args, **kwargs):
        compiled.append(str(path))
        return original(self, data, path, *args, **kwargs)

    loader.source_to_code = recording
    return compiled


def _stale_bytecode(layer: str) -> list[str]:
    """Sources whose unchecked-hash bytecode for this Python was compiled from other bytes.

    The import system never looks at the source of such bytecode, so it would run the old
    code; only this interpreter knows the key of its own source hash.
    """
    root = pathlib.Path(layer)
    problems = []
    for pyc in sorted(root.rglob(f"__pycache__/*.{sys.implementation.cache_tag}.pyc")):
        source = pyc.parent.parent / f"{pyc.name.split('.')[0]}.py"
        header = pyc.read_bytes()[:16]
        hash_based = int.from_bytes(header[4:8], "little") & 0b01
        if not (source.is_file() and header[:4] == importlib.util.MAGIC_NUMBER and hash_based):
            continue  # verify reports these from the zip's entries, or as compiled from source
        if header[8:16] != importlib.util.source_hash(source.read_bytes()):
            name = source.relative_to(root.parent).as_posix()
            problems.append(f"{name}: bytecode was compiled from different source")
    return problems


def _check_import(layer: str, expected: dict) -> list[str]:
    modules, failures = [], []
    for name in ("cached_clients", "cachetools"):
        try:
            modules.append(importlib.import_module(name))
        except Exception as error:
            failures.append(_failed(name, error))
    if failures:
        return failures

    cached_clients, cachetools = modules
    problems = []
    for module in (cached_clients, cachetools):
        if not str(module.__file__).startswith(layer):
            problems.append(f"{module.__name__} came from {module.__file__}, not the layer")
    if "boto3" in sys.modules or "botocore" in sys.modules:
        problems.append("import cached_clients imported boto3; the import must stay cheap")
    for module, name in ((cached_clients, "cached-clients"), (cachetools, "cachetools")):
        version = getattr(module, "__version__", None)
        if name in expected and version != expected[name]:
            problems.append(f"{module.__name__}.__version__ is {version!r}, not {expected[name]}")
    return problems


def _check_calls() -> list[str]:
    import cached_clients

    try:
        cached_clients.clear()
        stats = cached_clients.stats()
    except Exception as error:
        return [f"cached_clients.stats()/clear() failed: {type(error).__name__}: {error}"]

    problems = []
    for cache in ("sts", "dynamodb"):
        counters = stats.get(cache) if isinstance(stats, dict) else None
        if not isinstance(counters, dict) or counters.get("entries") != 0:
            problems.append(f"cached_clients.stats()[{cache!r}] after clear() is {counters!r}")
    return problems


def _import_everything(layer: str) -> list[str]:
    problems = []

    def failed(name: str) -> None:
        problems.append(_failed(name, sys.exc_info()[1]))

    for module in pkgutil.walk_packages([layer], onerror=failed):
        try:
            importlib.import_module(module.name)
        except Exception as error:
            problems.append(_failed(module.name, error))
    return problems


def _failed(name: str, error: BaseException | None) -> str:
    return f"import {name} failed: {type(error).__name__}: {error}"


if __name__ == "__main__":
    main()
