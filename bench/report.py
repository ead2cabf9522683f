"""Figures, goals and the one table that shows every figure beside its peers."""

import dataclasses
import statistics
from collections.abc import Callable, Sequence

__all__ = ["Figure", "Goal", "Row", "as_json", "render"]


@dataclasses.dataclass(frozen=True)
class Goal:
    """A target for one row: on the ratio ours ÷ this row, or on this row's own median."""

    text: str
    check: Callable[[float], bool]
    on_ratio: bool = True
    every_sample: bool = False

    @classmethod
    def ratio_at_most(cls, limit: float) -> "Goal":
        """Met when ours ÷ this row's median is at most ``limit``."""
        return cls(f"≤ {limit:g}x", lambda ratio: ratio <= limit)

    @classmethod
    def value_at_most(cls, limit: float, unit: str) -> "Goal":
        """Met when this row's median is at most ``limit``."""
        return cls(f"≤ {limit:g} {unit}", lambda value: value <= limit, on_ratio=False)

    @classmethod
    def value_below(cls, limit: float, unit: str) -> "Goal":
        """Met when this row's median is below ``limit``."""
        return cls(f"< {limit:g} {unit}", lambda value: value < limit, on_ratio=False)

    @classmethod
    def value_between(cls, low: float, high: float) -> "Goal":
        """Met when this row's median lies in [low, high]."""
        return cls(f"{low:g} to {high:g}", lambda value: low <= value <= high, on_ratio=False)

    @classmethod
    def value_equals(cls, wanted: float, text: str = "") -> "Goal":
        """Met when every sample of this row equals ``wanted``."""
        text = text or f"= {wanted:g}"
        return cls(text, lambda value: value == wanted, on_ratio=False, every_sample=True)


@dataclasses.dataclass(frozen=True)
class Row:
    """One side of a figure: its samples (one per round) and, optionally, a goal."""

    side: str
    samples: Sequence[float]
    goal: Goal | None = None
    shown_as: Callable[[float], str] | None = None

    @property
    def median(self) -> float:
        """The median of the samples."""
        return statistics.median(self.samples)

    def describe(self, value: float) -> str:
        """A sample as the table prints it."""
        return self.shown_as(value) if self.shown_as else _number(value)


@dataclasses.dataclass(frozen=True)
class Figure:
    """One measured quantity: our row first, then the peers it is compared with."""

    name: str
    unit: str
    ours: Row | None
    peers: Sequence[Row] = ()
    note: str = ""
    skipped: str = ""

    def rows(self) -> list[Row]:
        """Our row, then the peers."""
        return ([self.ours] if self.ours else []) + list(self.peers)


def _number(value: float) -> str:
    if value == 0 or abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}" if abs(value) >= 0.01 else f"{value:.2e}"


def _ratio(figure: Figure, row: Row) -> float | None:
    """Ours ÷ this row: the median of per-round ratios when both have one sample per round.

    Sides measured moments apart in the same round share the machine's load of that moment,
    so the per-round ratio shrugs off a busy round that the ratio of medians would not.
    """
    ours = figure.ours
    if ours is None or row is ours or row.median == 0:
        return None
    pairs = list(zip(ours.samples, row.samples, strict=False))
    if len(ours.samples) == len(row.samples) and all(theirs for _, theirs in pairs):
        return statistics.median(mine / theirs for mine, theirs in pairs)
    return ours.median / row.median


def _verdict(figure: Figure, row: Row) -> str:
    goal = row.goal
    if goal is None:
        return ""
    if goal.on_ratio:
        measured = _ratio(figure, row)
        if measured is None:
            return "n/a"
        return "met" if goal.check(measured) else f"MISSED ({measured:.2f}x)"
    measured_values = row.samples if goal.every_sample else [row.median]
    failed = [value for value in measured_values if not goal.check(value)]
    return f"MISSED ({row.describe(failed[0])})" if failed else "met"


HEADER = ("figure", "side", "median", "min", "max", "unit", "ours ÷ side", "goal", "result")


def _cells(figure: Figure) -> list[tuple[str, ...]]:
    if figure.skipped:
        return [(figure.name, f"skipped: {figure.skipped}", "", "", "", "", "", "", "")]
    lines = []
    for index, row in enumerate(figure.rows()):
        ratio = _ratio(figure, row)
        lines.append(
            (
                figure.name if index == 0 else "",
                row.side,
                row.describe(row.median),
                row.describe(min(row.samples)),
                row.describe(max(row.samples)),
                figure.unit,
                "" if ratio is None else f"{ratio:.2f}x",
                row.goal.text if row.goal else "",
                _verdict(figure, row),
            )
        )
    return lines


def render(figures: Sequence[Figure], heading: str) -> str:
    """The whole table as text: a heading, one block of rows per figure, then the notes."""
    body = [HEADER] + [cells for figure in figures for cells in _cells(figure)]
    widths = [max(len(cells[column]) for cells in body) for column in range(len(HEADER))]
    numeric = {2, 3, 4, 6}

    def line(cells: tuple[str, ...]) -> str:
        padded = (
            cell.rjust(width) if column in numeric else cell.ljust(width)
            for column, (cell, width) in enumerate(zip(cells, widths, strict=True))
        )
        return "  ".join(padded).rstrip()

    out = [heading, "", line(HEADER), "  ".join("-" * width for width in widths)]
    for figure in figures:
        out.extend(line(cells) for cells in _cells(figure))
    notes = [f"- {figure.name}: {figure.note}" for figure in figures if figure.note]
    return "\n".join(out + (["", "notes:", *notes] if notes else []))


def as_json(figures: Sequence[Figure], machine: dict) -> dict:
    """Every figure with its raw samples, ratios and verdicts, for machines to read."""
    return {
        "machine": machine,
        "figures": [
            {
                "name": figure.name,
                "unit": figure.unit,
                "skipped": figure.skipped or None,
                "note": figure.note or None,
                "rows": [
                    {
                        "side": row.side,
                        "ours": row is figure.ours,
                        "median": row.median,
                        "min": min(row.samples),
                        "max": max(row.samples),
                        "samples": list(row.samples),
                        "ratio_ours_to_side": _ratio(figure, row),
                        "goal": row.goal.text if row.goal else None,
                        "result": _verdict(figure, row) or None,
                    }
                    for row in figure.rows()
                ],
            }
            for figure in figures
        ],
    }
