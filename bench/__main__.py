"""``python -m bench``: run the benchmarks and print one table, every figure beside its peers."""

import argparse
import importlib
import json
import logging
import os
import platform
import sys
import time
import traceback
from collections.abc import Callable

from bench import _env
from bench._timing import Settings
from bench.report import Figure, as_json, render
from layer._args import Parser

__all__ = ["main"]

# name -> (module, function returning a list of figures), in the table's order
BENCHMARKS = {
    "get_item": ("bench.warm", "get_item_figures"),
    "assume_role": ("bench.warm", "assume_role_figures"),
    "cold_start": ("bench.cold", "run"),
    "layer_import": ("bench.layer_import", "run"),
    "stampede": ("bench.stampede", "run"),
    "memory": ("bench.memory", "run"),
    "layer_build": ("bench.layer_build", "run"),
    "spread": ("bench.fleet", "run"),
}


def _parser() -> Parser:
    parser = Parser(
        prog="build_layer.sh bench",
        description="Measure cached_clients beside its peers and print one table of ratios.",
    )
    parser.add_argument("--quick", action="store_true", help="few short rounds: a smoke test")
    parser.add_argument(
        "--only",
        action="append",
        choices=list(BENCHMARKS),
        metavar="NAME",
        help=f"run only this benchmark (repeatable): {', '.join(BENCHMARKS)}",
    )
    parser.add_argument("--rounds", type=_rounds, help="rounds per figure (default 15, quick 3)")
    parser.add_argument("--json", action="store_true", help="print JSON with every sample")
    return parser


def _rounds(text: str) -> int:
    try:
        rounds = int(text)
    except ValueError:
        rounds = 0
    if rounds < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of rounds above 0")
    return rounds


def _settings(options: argparse.Namespace) -> Settings:
    if options.quick:
        settings = Settings(rounds=3, seconds_per_round=0.05, processes=3, seeds=2, quick=True)
    else:
        settings = Settings()
    if options.rounds:
        settings = Settings(
            rounds=options.rounds,
            seconds_per_round=settings.seconds_per_round,
            processes=options.rounds,
            seeds=settings.seeds,
            quick=settings.quick,
        )
    return settings


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def machine() -> dict:
    """What the figures were measured on."""
    return {
        "machine": platform.machine(),
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "system": f"{platform.system()} {platform.release()}",
        "load_average": _loads(),
    }


def _run_one(name: str, settings: Settings) -> list[Figure]:
    module_name, function_name = BENCHMARKS[name]
    run: Callable[[Settings], list[Figure]] = getattr(
        importlib.import_module(module_name), function_name
    )
    started = time.monotonic()
    print(f"bench: {name} ...", file=sys.stderr, flush=True)
    try:
        figures = run(settings)
    except Exception as error:
        traceback.print_exc(file=sys.stderr)
        return [Figure(name, "", None, skipped=f"FAILED: {type(error).__name__}: {error}")]
    print(f"bench: {name} took {time.monotonic() - started:.1f} s", file=sys.stderr, flush=True)
    return figures


def _heading(settings: Settings, info: dict) -> str:
    mode = "quick" if settings.quick else "full"
    start, end = (" ".join(map(str, info[name])) for name in ("load_average", "load_average_end"))
    return (
        f"cached-clients bench ({mode}: {settings.rounds} rounds, median with min and max) on "
        f"{info['machine']}, {info['cpu']}, {info['cores']} cores, {info['python']}; "
        f"load average {start} at the start, {end} at the end"
    )


def _loads() -> list[float]:
    return [round(load, 2) for load in os.getloadavg()]


def main(argv: list[str] | None = None) -> int:
    """Run the chosen benchmarks; 1 when one of them failed, else 0."""
    options = _parser().parse_args(argv)
    settings = _settings(options)
    # Before any benchmark module imports boto3 or moto.
    _env.isolate()
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    info = machine()

    figures = [figure for name in options.only or BENCHMARKS for figure in _run_one(name, settings)]
    info["load_average_end"] = _loads()

    if options.json:
        print(json.dumps(as_json(figures, info), indent=2, ensure_ascii=False))
    else:
        print(render(figures, _heading(settings, info)))
    return 1 if any(figure.skipped.startswith("FAILED") for figure in figures) else 0


if __name__ == "__main__":
    sys.exit(main())
