"""Memory after 100,000 distinct ~2 KB items: ours under a 32 MiB budget, the seed unbounded."""

import json
import subprocess
import sys
from pathlib import Path

from bench import _env
from bench._ours import missing
from bench._timing import Settings
from bench.report import Figure, Goal, Row

__all__ = ["run"]

CHILD = Path(__file__).with_name("_memory_child.py")
MIB = 1024 * 1024
# The item's name is padded so that its GetItem answer is about 2 KB of JSON.
PADDING = 1800


def _scale(settings: Settings) -> tuple[int, int]:
    items, budget = 100_000, 32 * MIB
    return (items // 10, budget // 10) if settings.quick else (items, budget)


def _fill(items: int, budget: int, sides: list[str]) -> dict:
    command = [sys.executable, str(CHILD), str(items), str(PADDING), *sides]
    environment = _env.child_environment(CACHED_CLIENTS_MAX_BYTES=str(budget))
    done = subprocess.run(command, env=environment, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"memory child exited {done.returncode}: {done.stderr.strip()}")
    return json.loads(done.stdout)


def _note(items: int, budget: int, report: dict, reason: str) -> str:
    results = report["results"]
    note = (
        f"{items:,} distinct items ({report['item_json_bytes']:,} bytes of GetItem JSON each) "
        "read once each in one child process, ours first, then the seed with "
        f"maxsize={items:,}; tracemalloc peak from the first item to the last, one round "
        "(the figure is deterministic); GetItem answered by a stand-in for the HTTP endpoint "
        "inside botocore (request validated and serialized, answer deserialized as usual)"
    )
    if "ours" in results:
        stats = results["ours"]["stats"]
        note += (
            f"; ours kept {stats['entries']:,} entries, {stats['bytes'] / MIB:.1f} MiB by its "
            f"own count, {stats['evictions']:,} evictions"
        )
    seconds = ", ".join(f"{side} {result['seconds']:.0f} s" for side, result in results.items())
    return note + f"; fill time under tracemalloc: {seconds}" + (f"; {reason}" if reason else "")


def run(settings: Settings) -> list[Figure]:
    """One figure: each side's tracemalloc peak, and the budget ours must stay near."""
    items, budget = _scale(settings)
    reason = missing("get_item", "stats", "clear")
    report = _fill(items, budget, ["seed"] if reason else ["ours", "seed"])
    results = report["results"]
    peak = {side: [result["peak"] / MIB] for side, result in results.items()}

    ours = Row(f"ours: budget {budget / MIB:g} MiB", peak["ours"]) if "ours" in peak else None
    peers = [
        Row(f"the budget, {budget / MIB:g} MiB", [budget / MIB], Goal.ratio_at_most(1.25)),
        Row(f"seed: ttl_cache(maxsize={items:,})", peak["seed"]),
    ]
    title = f"memory after {items:,} ~2 KB items"
    note = _note(items, budget, report, f"ours not measured: {reason}" if reason else "")
    return [Figure(title, "MiB", ours, peers, note=note)]
