"""Rounds of timeit for several sides at once, the sides taking turns within each round."""

import dataclasses
import subprocess
import timeit
from collections.abc import Callable, Mapping, Sequence

__all__ = ["Settings", "Side", "fresh_processes", "interleaved", "warm"]


@dataclasses.dataclass(frozen=True)
class Settings:
    """How hard to measure: rounds per figure and the time each side gets in a round."""

    rounds: int = 15
    seconds_per_round: float = 0.2
    processes: int = 15
    seeds: int = 5
    quick: bool = False


@dataclasses.dataclass(frozen=True)
class Side:
    """A statement to time and the names it uses."""

    statement: str
    namespace: Mapping[str, object]


def warm(sides: Mapping[str, Side]) -> None:
    """Run each side's statement once, so that every cache is filled before timing."""
    for side in sides.values():
        timeit.Timer(side.statement, globals=dict(side.namespace)).timeit(1)


def _calls_per_round(timer: timeit.Timer, seconds: float) -> int:
    calls, elapsed = timer.autorange()
    return max(1, round(calls * seconds / elapsed))


def interleaved(sides: Mapping[str, Side], settings: Settings) -> dict[str, list[float]]:
    """Seconds per call of each side, one sample per round; each round starts with a new side.

    Taking turns spreads the machine's slow and fast moments over every side alike.
    """
    timers = {
        name: timeit.Timer(side.statement, globals=dict(side.namespace))
        for name, side in sides.items()
    }
    calls = {
        name: _calls_per_round(timer, settings.seconds_per_round) for name, timer in timers.items()
    }
    samples: dict[str, list[float]] = {name: [] for name in sides}
    names = list(sides)
    for round_index in range(settings.rounds):
        shift = round_index % len(names)
        for name in names[shift:] + names[:shift]:
            samples[name].append(timers[name].timeit(calls[name]) / calls[name])
    return samples


def fresh_processes(
    commands: Mapping[str, Sequence[str]],
    runs: int,
    parse: Callable[[str], float],
    **popen: object,
) -> dict[str, list[float]]:
    """Run each command ``runs`` times, taking turns, and parse one figure from each stdout.

    One discarded run per command first warms the file system cache for every side alike.
    """
    samples: dict[str, list[float]] = {name: [] for name in commands}
    for run_index in range(runs + 1):
        for name, command in commands.items():
            done = subprocess.run(command, capture_output=True, text=True, check=False, **popen)
            if done.returncode != 0:
                raise RuntimeError(f"{name}: {command[0]} exited {done.returncode}: {done.stderr}")
            if run_index:
                samples[name].append(parse(done.stdout))
    return samples
