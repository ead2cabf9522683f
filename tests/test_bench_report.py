"""The benchmark table (bench/report.py): ratios beside the peers, and goals met or missed."""

import re

import pytest

from bench.__main__ import main
from bench.report import Figure, Goal, Row, as_json, render


def figure(ours: list[float], seed: list[float], limit: float) -> Figure:
    """A figure of ours against one peer with a ratio goal."""
    return Figure(
        "warm hit",
        "µs",
        Row("ours", ours),
        [Row("seed", seed, Goal.ratio_at_most(limit)), Row("floor", [0.05, 0.04, 0.06])],
        note="same item on both sides",
    )


def line_of(table: str, side: str) -> str:
    """The table line of ``side``: the one whose second column is exactly that side."""
    lines = table.splitlines()
    body = lines[lines.index(next(line for line in lines if line.startswith("---"))) + 1 :]
    return next(line for line in body if re.split(r"\s{2,}", " " + line)[1] == side)


def test_each_peer_shows_the_median_per_round_ratio_and_the_verdict():
    table = render([figure([0.9, 1.0, 3.0], [2.0, 2.0, 2.1], limit=0.75)], "heading")

    seed = line_of(table, "seed")
    assert "0.50x" in seed and "≤ 0.75x" in seed and seed.endswith("met")
    assert "25.00x" in line_of(table, "floor")
    assert table.startswith("heading")
    assert "- warm hit: same item on both sides" in table


def test_a_round_that_slows_both_sides_leaves_the_ratio_alone():
    table = render([figure([1.0, 5.0, 1.2], [2.0, 10.0, 1.9], limit=0.55)], "heading")

    assert "0.50x" in line_of(table, "seed") and line_of(table, "seed").endswith("met")


def test_sides_with_different_sample_counts_compare_medians():
    rows = [Row("ours", [1.0, 2.0, 3.0]), Row("budget", [4.0], Goal.ratio_at_most(0.6))]
    table = render([Figure("memory", "MiB", rows[0], rows[1:])], "heading")

    assert "0.50x" in line_of(table, "budget") and line_of(table, "budget").endswith("met")


def test_a_missed_goal_says_by_how_much():
    table = render([figure([1.6, 1.6, 1.7], [2.0, 2.0, 2.0], limit=0.75)], "heading")

    assert line_of(table, "seed").endswith("MISSED (0.80x)")


def test_min_median_and_max_come_from_the_samples():
    table = render([figure([3.0, 1.0, 2.0], [2.0, 2.0, 2.0], limit=1.0)], "heading")

    assert re.split(r"\s{2,}", line_of(table, "ours"))[2:6] == ["2", "1", "3", "µs"]


def test_an_exact_goal_is_missed_when_any_sample_differs():
    rows = [Row("ours", [1, 1, 2], Goal.value_equals(1, "exactly 1"))]
    table = render([Figure("upstream calls", "calls", rows[0])], "heading")

    assert line_of(table, "ours").endswith("MISSED (2)")


def test_a_value_goal_is_checked_on_the_median():
    row = Row("zip", [100.0, 600.0, 200.0], Goal.value_below(512, "kB"))

    assert line_of(render([Figure("layer zip", "kB", row)], "h"), "zip").endswith("met")


def test_a_skipped_figure_says_why_and_json_keeps_every_sample():
    figures = [figure([1.0, 1.2], [2.0, 2.4], 0.75), Figure("layer", "", None, skipped="no zip")]

    assert "skipped: no zip" in render(figures, "heading")
    data = as_json(figures, {"machine": "x86_64"})
    ours, seed, _ = data["figures"][0]["rows"]
    assert ours["ours"] and ours["samples"] == [1.0, 1.2]
    assert seed["ratio_ours_to_side"] == 1.1 / 2.2
    assert seed["result"] == "met"
    assert data["figures"][1]["skipped"] == "no zip"


def test_a_range_goal_is_met_only_inside_the_range():
    inside = Row("first", [0.6, 0.74, 0.9], Goal.value_between(0.7, 0.8))
    outside = Row("first", [0.9, 0.95, 1.0], Goal.value_between(0.7, 0.8))

    assert line_of(render([Figure("lifetime", "", inside)], "h"), "first").endswith("met")
    assert line_of(render([Figure("lifetime", "", outside)], "h"), "first").endswith(
        "MISSED (0.95)"
    )


def test_rounds_below_one_are_refused_before_any_benchmark_runs(capsys):
    # --rounds 0 used to fall back to the full run of 15 rounds, minutes of work.
    for rounds in ("0", "-3"):
        with pytest.raises(SystemExit) as stopped:
            main(["--rounds", rounds, "--only", "spread"])
        assert stopped.value.code == 2
        assert f"--rounds: {rounds!r} is not a whole number of rounds above 0" in (
            capsys.readouterr().err
        )
