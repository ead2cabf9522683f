"""layer.runtimes: the one table of Lambda Python runtimes, and what a layer may claim."""

import datetime

from packaging.specifiers import SpecifierSet

from layer.runtimes import RUNTIMES, compatible_runtimes, supported_runtimes


def names(runtimes: list) -> list[str]:
    return [runtime.name for runtime in runtimes]


def test_the_table_holds_the_documented_deprecation_dates() -> None:
    dates = {runtime.name: runtime.deprecated_on.isoformat() for runtime in RUNTIMES}
    assert dates["python3.11"] == "2027-06-30"
    assert dates["python3.12"] == "2028-10-31"
    assert dates["python3.13"] == dates["python3.14"] == "2029-06-30"


def test_a_runtime_is_supported_until_the_day_it_is_deprecated() -> None:
    eve, day = datetime.date(2027, 6, 29), datetime.date(2027, 6, 30)
    assert "python3.11" in names(supported_runtimes(eve))
    assert "python3.11" not in names(supported_runtimes(day))


def test_compatible_is_the_intersection_of_every_requires_python() -> None:
    today = datetime.date(2026, 12, 1)
    requires = [SpecifierSet(">=3.11"), SpecifierSet(">=3.9,<3.14"), SpecifierSet("")]

    assert names(compatible_runtimes(requires, today)) == ["python3.11", "python3.12", "python3.13"]
    assert compatible_runtimes([SpecifierSet("<3.11")], today) == []
