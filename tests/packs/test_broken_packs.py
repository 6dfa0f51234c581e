"""Broken packs: every mistake is reported with its code, file and line, all together, and nothing loads."""
from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import pytest

from wangge.core.pack.loader import SECTION_NAMES, SUPPORTED, PackLoader
from wangge.core.pack.problems import PackError, Problem

FIXTURES = Path(__file__).parent / "fixtures"
BROKEN = FIXTURES / "broken"
BASES = FIXTURES / "bases"


class Case(NamedTuple):
    code: str
    file: str        # relative to the fixture folder
    line: int        # 1-based; 0 for a problem with the folder itself
    target: str = ""  # what to load, relative to the fixture folder (default: the folder)
    also: frozenset[str] = frozenset()  # other codes that may legitimately accompany the expected one


CASES: dict[str, Case] = {
    # reading YAML
    "yaml_syntax": Case("YAML_SYNTAX", "grid.yaml", 4),
    "single_file": Case("YAML_SYNTAX", "pack.yaml", 11, target="pack.yaml"),
    "not_utf8": Case("YAML_SYNTAX", "grid.yaml", 0),
    "duplicate_key": Case("DUPLICATE_ID", "grid.yaml", 6),
    "top_level_list": Case("SCHEMA", "departments.yaml", 1),
    "duplicate_section": Case("DUPLICATE_SECTION", "b_more.yaml", 3),
    "missing_manifest": Case("SCHEMA", "", 0),
    # schema
    "unknown_field": Case("SCHEMA", "departments.yaml", 2),
    "unknown_section": Case("SCHEMA", "grid.yaml", 1),
    "unquoted_code": Case("SCHEMA", "events.yaml", 6),
    "unquoted_region": Case("SCHEMA", "pack.yaml", 4),
    "bad_version": Case("SCHEMA", "pack.yaml", 5),
    "bad_region": Case("SCHEMA", "pack.yaml", 4),
    "bad_role_count": Case("SCHEMA", "grid.yaml", 6),
    # duplicates
    "duplicate_level": Case("DUPLICATE_ID", "grid.yaml", 5),
    "duplicate_department": Case("DUPLICATE_ID", "departments.yaml", 4),
    "duplicate_unit": Case("DUPLICATE_ID", "grid.yaml", 8),
    "duplicate_class": Case("DUPLICATE_ID", "events.yaml", 8),
    "duplicate_subclass_code": Case("DUPLICATE_ID", "events.yaml", 6),
    "duplicate_duty_item": Case("DUPLICATE_ID", "duties.yaml", 10),
    # references
    "unknown_level_unit": Case("UNKNOWN_LEVEL", "grid.yaml", 7),
    "generate_unknown_level": Case("UNKNOWN_LEVEL", "grid.yaml", 7),
    "unknown_level_role": Case("UNKNOWN_LEVEL", "grid.yaml", 5),
    "unknown_level_department": Case("UNKNOWN_LEVEL", "departments.yaml", 3),
    "unknown_level_duty": Case("UNKNOWN_LEVEL", "duties.yaml", 9),
    "unknown_department": Case("UNKNOWN_DEPARTMENT", "duties.yaml", 8),
    "level_order": Case("LEVEL_ORDER", "grid.yaml", 7),
    "bad_placeholder": Case("SCHEMA", "grid.yaml", 10),
    # duties
    "count_items": Case("COUNT_MISMATCH", "duties.yaml", 2),
    "count_categories": Case("COUNT_MISMATCH", "duties.yaml", 3),
    "count_departments": Case("COUNT_MISMATCH", "duties.yaml", 5),
    "temporary_without_end": Case("TEMPORARY_WITHOUT_END", "duties.yaml", 6),
    # events and channels
    "unknown_time_unit": Case("UNKNOWN_TIME_UNIT", "events.yaml", 6),
    "bad_time_limit": Case("BAD_TIME_LIMIT", "events.yaml", 8),
    "code_range": Case("CODE_RANGE", "events.yaml", 6),
    "code_ranges_overlap": Case("CODE_RANGE", "events.yaml", 2),
    "unmapped_class": Case("UNMAPPED_CLASS", "events.yaml", 8),
    "unmapped_major": Case("UNMAPPED_CLASS", "events.yaml", 6),
    "unmapped_channel": Case("UNMAPPED_CHANNEL", "channels.yaml", 3),
    "no_reference": Case("UNMAPPED_CLASS", "pack.yaml", 1),
    # extends
    "pack_not_found": Case("PACK_NOT_FOUND", "pack.yaml", 6),
    "version_unsatisfied": Case("VERSION_UNSATISFIED", "pack.yaml", 6),
    "bad_version_range": Case("VERSION_UNSATISFIED", "pack.yaml", 6),
    "extends_cycle": Case("EXTENDS_CYCLE", "b/pack.yaml", 6, target="a"),
    "remove_unknown": Case("REMOVE_UNKNOWN", "departments.yaml", 3),
    # calendar
    "bad_calendar": Case("BAD_CALENDAR", "calendar.yaml", 5),
    "bad_calendar_year": Case("BAD_CALENDAR", "calendar.yaml", 4),
}


def load_error(target: Path) -> PackError:
    with pytest.raises(PackError) as info:
        PackLoader((BASES,)).load(target)
    return info.value


def test_every_broken_fixture_has_a_case() -> None:
    folders = {p.name for p in BROKEN.iterdir() if p.is_dir()}
    assert folders == set(CASES)
    assert len(CASES) >= 25


@pytest.mark.parametrize("name", sorted(CASES))
def test_broken_pack_reports_code_file_and_line(name: str) -> None:
    case = CASES[name]
    folder = BROKEN / name
    error = load_error(folder / case.target if case.target else folder)
    expected_file = (folder / case.file) if case.file else folder
    found = [(p.code, p.position.line) for p in error.problems
             if Path(p.position.file).resolve() == expected_file.resolve()]
    assert (case.code, case.line) in found, f"expected {case.code} at {case.file}:{case.line}, got:\n{error}"
    # No cascade of unrelated codes: the fixture has exactly one mistake.
    assert set(error.codes) <= {case.code, *case.also}, str(error)
    for problem in error.problems:
        assert isinstance(problem, Problem) and isinstance(problem.message, str) and problem.message
        assert str(problem).startswith(f"{problem.position}: {problem.code} ")


def test_every_section_in_the_schema_is_executed() -> None:
    # scoring was the last section without an engine; a new section must be executed or refused (NOT_SUPPORTED).
    assert set(SECTION_NAMES) <= SUPPORTED


def test_problem_text_is_file_line_column_code_message_hint() -> None:
    error = load_error(BROKEN / "unknown_level_unit")
    (problem,) = error.problems
    assert problem.position.file.endswith("unknown_level_unit/grid.yaml")
    assert (problem.position.line, problem.position.column) == (7, 45)
    assert "comunity" in problem.message
    assert "community" in problem.hint  # did you mean …
    assert str(problem).splitlines()[0] == f"{problem.position.file}:7:45: UNKNOWN_LEVEL {problem.message}"
    assert str(problem).splitlines()[1] == f"    hint: {problem.hint}"


# --------------------------------------------------------------------------- all problems together


def test_all_semantic_problems_of_all_files_are_reported_together() -> None:
    error = load_error(FIXTURES / "multi_errors" / "semantic")
    where = {(p.code, Path(p.position.file).name, p.position.line) for p in error.problems}
    assert where >= {
        ("UNKNOWN_LEVEL", "grid.yaml", 7),
        ("UNKNOWN_DEPARTMENT", "duties.yaml", 9),
        ("COUNT_MISMATCH", "duties.yaml", 2),
        ("UNMAPPED_CLASS", "events.yaml", 8),
        ("UNMAPPED_CHANNEL", "events.yaml", 11),
    }
    assert error.problems == tuple(sorted(error.problems, key=lambda p: (p.position, p.code, p.message)))


def test_all_schema_problems_of_all_files_are_reported_together() -> None:
    error = load_error(FIXTURES / "multi_errors" / "schema")
    where = {(p.code, Path(p.position.file).name, p.position.line) for p in error.problems}
    assert where >= {
        ("SCHEMA", "pack.yaml", 4),          # region unquoted
        ("SCHEMA", "departments.yaml", 2),   # unknown field
        ("SCHEMA", "events.yaml", 5),        # code unquoted
        ("SCHEMA", "scoring.yaml", 1),          # ranking must be a mapping
    }


def test_syntax_errors_of_several_files_are_reported_together() -> None:
    error = load_error(FIXTURES / "multi_errors" / "syntax")
    where = {(p.code, Path(p.position.file).name) for p in error.problems}
    assert where == {("YAML_SYNTAX", "events.yaml"), ("YAML_SYNTAX", "grid.yaml"), ("DUPLICATE_ID", "duties.yaml")}


def test_problems_in_a_base_point_into_the_base_file() -> None:
    # The county removes the level the base's grid_leader role sits on: the error is in the base's file.
    error = load_error(FIXTURES / "inherit_positions")
    (problem,) = error.problems
    assert problem.code == "UNKNOWN_LEVEL"
    assert Path(problem.position.file).resolve() == (BASES / "test.base" / "grid.yaml").resolve()
    assert problem.position.line == 7


# --------------------------------------------------------------------------- never half-loaded


def test_a_broken_pack_never_half_loads() -> None:
    loader = PackLoader((BASES,))
    result = None
    with pytest.raises(PackError):
        result = loader.load(BROKEN / "count_items")  # fails only at the very last check
    assert result is None


def test_a_failed_load_leaves_the_loader_unchanged() -> None:
    loader = PackLoader((BASES,))
    for name in ("remove_unknown", "unknown_level_unit", "duplicate_section", "count_departments"):
        with pytest.raises(PackError):
            loader.load(BROKEN / name)
    after_failures = loader.load(FIXTURES / "good" / "county")
    fresh = PackLoader((BASES,)).load(FIXTURES / "good" / "county")
    assert after_failures.merged == fresh.merged
    assert after_failures.grid == fresh.grid and after_failures.events == fresh.events
    # and the base, read once and shared, was not changed by the broken packs merged over it
    assert [d["id"] for d in after_failures.merged["departments"]] == ["paichusuo", "qu_zhujian", "weijian"]


def test_the_same_broken_pack_fails_the_same_way_twice() -> None:
    loader = PackLoader((BASES,))
    with pytest.raises(PackError) as first:
        loader.load(FIXTURES / "multi_errors" / "semantic")
    with pytest.raises(PackError) as second:
        loader.load(FIXTURES / "multi_errors" / "semantic")
    assert first.value.problems == second.value.problems
