"""Property tests: whatever YAML a county writes, loading either succeeds or raises PackError — never
another exception, never a hang; and merging is deterministic with an empty child changing nothing."""
from __future__ import annotations

import copy
import datetime as dt
import tempfile
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from wangge.core.pack.loader import PackLoader
from wangge.core.pack.merge import merge
from wangge.core.pack.model import Pack
from wangge.core.pack.problems import PackError

BASES = Path(__file__).parent / "fixtures" / "bases"
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

MANIFEST = """pack:
  id: test.fuzz
  name: 随机包
  region: "371602"
  version: 1.0.0
  extends: {id: test.base, version: ">=1.0,<2"}
"""


def load_files(files: dict[str, str | bytes]) -> Pack | None:
    """Write ``files`` into a fresh pack folder and load it; only PackError may escape as a failure."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "pack"
        folder.mkdir()
        for name, text in files.items():
            data = text if isinstance(text, bytes) else text.encode("utf-8", "surrogatepass")
            (folder / name).write_bytes(data)
        try:
            return PackLoader((BASES,)).load(folder)
        except PackError as error:
            assert error.problems, "a PackError always carries at least one problem"
            assert all(isinstance(p.message, str) for p in error.problems)
            str(error)  # printable
            return None


# --------------------------------------------------------------------------- YAML text

YAML_TOKENS = st.sampled_from([
    "pack:", "grid:", "units:", "levels:", "events:", "classes:", "subclasses:", "duties:", "departments:",
    "calendar:", "channels:", "generate:", "code:", "id:", "level:", "time_limit:", "remove: true", "children:",
    "- ", "  ", "\n", "\t", ": ", "{", "}", "[", "]", ",", "&a ", "*a", "<<: ", "!!str ", "!!int ", "!!binary ",
    "!!python/object ", "? ", "|", ">", "'", '"', "#", "---", "...", "%YAML 1.1\n", "%TAG ! x\n", "~", "null",
    "2019-13-45", "2026-05-06", "1e400", "0x1F", "0o17", "080", "1_000", "1:30:00", ".nan", "-.inf",
    "9" * 5000, "5工作日", "3天", "{parent}{n:03}", "{n", "}", "\ufeff", "\x00", "\u2028", "\U0001F600",
])
yaml_like_text = st.lists(YAML_TOKENS | st.text(max_size=8), max_size=60).map("".join)


@SETTINGS
@given(text=st.text(max_size=400) | yaml_like_text)
@example(text="[" * 3000)                                          # deeper than Python's recursion limit
@example(text="".join(" " * i + "a:\n" for i in range(600)))
@example(text="x: " + "1" * 5000)                                  # beyond int('…') digit limit
@example(text="effective: 2019-13-45")
@example(text="a: !!int")                                          # explicit tags on bad values
@example(text="a: !!bool maybe")
@example(text="a: !!timestamp x")
@example(text="a: &a [*a]")
@example(text="a: &a [*a, *a]\nb: &b [*a, *a, *a, *a]\nc: &c [*b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c]")
def test_any_text_as_an_extra_file_only_raises_pack_error(text: str) -> None:
    load_files({"pack.yaml": MANIFEST, "extra.yaml": text})


@SETTINGS
@given(text=st.text(max_size=400) | yaml_like_text)
def test_any_text_as_the_manifest_file_only_raises_pack_error(text: str) -> None:
    load_files({"pack.yaml": text})


@SETTINGS
@given(data=st.binary(max_size=200))
def test_any_bytes_only_raise_pack_error(data: bytes) -> None:
    load_files({"pack.yaml": MANIFEST, "grid.yaml": data})


# --------------------------------------------------------------------------- YAML-able data

scalars = (st.none() | st.booleans() | st.integers(min_value=-(10**60), max_value=10**60)
           | st.floats(allow_nan=True) | st.text(max_size=12) | st.dates() | st.datetimes()
           | st.sampled_from(["080", "001", "5工作日", "{A: 1}", "street", "grid", "mdjf_qita", "", "*"]))
keys = (st.text(max_size=10) | st.sampled_from(["id", "code", "name", "level", "remove", "<<", "? x", "a: b",
                                                "- x", "*", "A", "children", "generate", "total", "count"])
        | st.integers(-5, 5) | st.booleans() | st.none() | st.dates())
data_trees = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                          | st.dictionaries(keys, inner, max_size=4), max_leaves=30)


@st.composite
def aliased(draw) -> object:
    """A tree in which one subtree appears several times (yaml.dump writes anchors and aliases)."""
    shared = draw(data_trees)
    tree = draw(data_trees)
    return {"shared": shared, "again": [shared, {"x": shared}], "tree": tree}


def dump(value: object) -> str:
    return yaml.safe_dump(value, allow_unicode=True, sort_keys=False)


@SETTINGS
@given(section=st.sampled_from(["grid", "departments", "duties", "events", "channels", "calendar",
                                "indicators", "pack", "fields", "forms", "workflow", "escalation", "plugins",
                                "routing", "scoring", "scenarios", "x"]),
       value=data_trees | aliased())
def test_any_data_under_any_section_only_raises_pack_error(section: str, value: object) -> None:
    files = {"pack.yaml": MANIFEST} if section != "pack" else {}
    files["data.yaml"] = dump({section: value})
    load_files(files)


@pytest.mark.parametrize("depth", [1, 10, 50, 100, 200, 400, 1000])
def test_deeply_nested_data_only_raises_pack_error(depth: int) -> None:
    text = "null"  # written by hand: yaml.dump itself cannot nest this deep
    for n in range(depth):
        text = f"[{text}]" if n % 2 else f"{{children: {text}}}"
    load_files({"pack.yaml": MANIFEST, "deep.yaml": f"grid:\n  units: [{text}]\n"})


# Pack-shaped data: close enough to the schema to get through it and reach the section compilers.
ids = st.sampled_from(["street", "community", "grid", "gird", "mdjf", "mdjf_qita", "mdjf_linli", "srhj",
                       "srhj_baolu", "paichusuo", "weijian", "grid_patrol", "x1", "jcxx", "jcxx-01"])
codes = st.sampled_from(["01", "07", "001", "079", "080", "100", "999", "0", "9999", "S1", "S1C1", "S2"])
limits = st.sampled_from(["5工作日", "1工作日", "4工作时", "30分钟", "3天", "0小时", "1.5工作日", "2 hours",
                          "1" + "0" * 5000 + "工作日", "9" * 40 + "分钟", "", "工作日", "-1自然日"]) | st.integers(-3, 3)
time_limit = limits | st.dictionaries(st.sampled_from(["A", "B", "C", "D", "*"]), limits, min_size=1, max_size=3)
patterns = st.sampled_from(["{parent}{n:02}", "{parent}{n:03}", "G{n}", "{parent_name}第{n}网格", "{n", "n}",
                            "{{n}}", "{n:3}", "{n:099}", "{parent}", "{}", "{0}", "{n!r}", "{n.real}", "x}{n}"])
unit_entry = st.deferred(lambda: st.fixed_dictionaries(
    {"code": codes, "name": st.just("单元"), "level": ids},
    optional={"zone": st.sampled_from(["A", "B", "C"]), "children": st.lists(unit_or_generate, max_size=3),
              "remove": st.just(True)}))
generate = st.deferred(lambda: st.fixed_dictionaries(
    {"generate": st.fixed_dictionaries(
        {"level": ids, "code": patterns, "name": patterns},
        optional={"children": st.lists(unit_or_generate, max_size=2), "zone": st.sampled_from(["A", "C"])})
     .flatmap(lambda g: st.one_of(st.integers(1, 6).map(lambda c: {**g, "count": c}),
                                  st.integers(1, 30).map(lambda t: {**g, "total": t})))}))
unit_or_generate = unit_entry | generate
named = {"name": st.just("名称")}
pack_sections = st.fixed_dictionaries({}, optional={
    "grid": st.fixed_dictionaries({}, optional={
        "levels": st.lists(st.fixed_dictionaries({"id": ids}, optional={**named, "remove": st.just(True)}),
                           max_size=4),
        "roles": st.lists(st.fixed_dictionaries({"id": ids}, optional={
            **named, "level": ids, "count": st.integers(0, 3) | st.just("N")}), max_size=3),
        "units": st.lists(unit_or_generate, max_size=3)}),
    "departments": st.lists(st.fixed_dictionaries({"id": ids}, optional={
        **named, "level": ids | st.just("above"), "remove": st.just(True)}), max_size=4),
    "duties": st.fixed_dictionaries({}, optional={
        "expected": st.dictionaries(st.sampled_from(["categories", "items", "departments"]), st.integers(0, 4)),
        "categories": st.lists(st.fixed_dictionaries({"id": ids}, optional={**named, "items": st.lists(
            st.fixed_dictionaries({"id": ids}, optional={
                **named, "source": st.sampled_from(["illustrative", "published"]),
                "departments": st.lists(ids, max_size=2), "handle_level": ids,
                "admission": st.sampled_from(["admitted", "temporary"]),
                "until": st.dates() | st.sampled_from(["2022-02-30", "2022-12-31"]),
                "remove": st.just(True)}), max_size=3)}), max_size=3)}),
    "events": st.fixed_dictionaries({}, optional={
        "codes": st.fixed_dictionaries({}, optional={
            "standard": st.sampled_from(["001-079", "1-50", "80-10", "0-9999"]),
            "local": st.sampled_from(["080-999", "50-100", "9999-0"])}),
        "classes": st.lists(st.fixed_dictionaries({"id": ids}, optional={
            **named, "code": codes, "maps_to": ids, "time_limit": time_limit, "remove": st.just(True),
            "subclasses": st.lists(st.fixed_dictionaries({"id": ids}, optional={
                **named, "code": codes, "maps_to": ids, "time_limit": time_limit, "remove": st.just(True)}),
                max_size=3)}), max_size=3)}),
    "channels": st.lists(st.fixed_dictionaries({"id": ids}, optional={**named, "maps_to": ids}), max_size=3),
    "calendar": st.fixed_dictionaries({}, optional={
        "work_hours": st.lists(st.sampled_from(["09:00-12:00", "13:30-17:30", "12:00-09:00", "99:99-99:99",
                                                "08:00-13:00"]), max_size=3),
        "holidays": st.lists(st.dates(dt.date(2020, 1, 1), dt.date(2030, 12, 31))
                             | st.sampled_from(["2026-02-30", "0000-00-00"]), max_size=3),
        "workdays": st.lists(st.dates(dt.date(2025, 1, 1), dt.date(2027, 12, 31)), max_size=2),
        "years": st.dictionaries(st.sampled_from([2027, 2031, 1, 99999, "2031"]), st.fixed_dictionaries(
            {"holidays": st.lists(st.dates(dt.date(2026, 1, 1), dt.date(2032, 12, 31)), max_size=2)}),
            max_size=2)}),
})


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sections=pack_sections)
@example(sections={"grid": {"units": [{"code": "S1", "name": "街道", "level": "street", "children": [
    {"generate": {"level": "community", "count": 2, "code": "x}{n}", "name": "社区"}}]}]}})
@example(sections={"events": {"classes": [{"id": "mdjf", "time_limit": "1" + "0" * 5000 + "工作日"}]}})
def test_pack_shaped_data_only_raises_pack_error(sections: dict) -> None:
    load_files({"pack.yaml": MANIFEST, "body.yaml": dump(sections)})


# --------------------------------------------------------------------------- merge

entry_ids = st.sampled_from(["a", "b", "c", "d", "e"])
leaf = st.none() | st.integers(-3, 3) | st.text(max_size=3) | st.lists(st.integers(0, 3), max_size=3)
entries_tree = st.recursive(
    leaf,
    lambda inner: st.lists(st.fixed_dictionaries({"id": entry_ids}, optional={
        "v": inner, "w": inner, "remove": st.just(True)}), max_size=4)
    | st.dictionaries(st.sampled_from(["x", "y", "z", "units"]), inner, max_size=3),
    max_leaves=20)
mappings = st.dictionaries(st.sampled_from(["grid", "departments", "events", "x"]), entries_tree, max_size=4)


@SETTINGS
@given(base=mappings, child=mappings)
def test_merge_is_deterministic_and_pure(base: dict, child: dict) -> None:
    base_before, child_before = copy.deepcopy(base), copy.deepcopy(child)
    first_problems: list = []
    second_problems: list = []
    first = merge(base, child, first_problems)
    second = merge(base, child, second_problems)
    assert first == second and first_problems == second_problems
    assert base == base_before and child == child_before


@SETTINGS
@given(base=mappings)
def test_merging_an_empty_child_leaves_the_base_unchanged(base: dict) -> None:
    problems: list = []
    assert merge(base, {}, problems) == base
    assert list(merge(base, {}, problems)) == list(base)
    assert problems == []


@SETTINGS
@given(base=st.lists(st.fixed_dictionaries({"id": entry_ids, "v": st.integers(0, 9)}), max_size=5,
                     unique_by=lambda e: e["id"]),
       child=st.lists(st.fixed_dictionaries({"id": entry_ids}, optional={"v": st.integers(10, 19),
                                                                        "remove": st.just(True)}),
                      max_size=5, unique_by=lambda e: e["id"]))
def test_merging_entry_lists_by_id(base: list, child: list) -> None:
    problems: list = []
    merged = merge(base, child, problems)
    base_ids = [e["id"] for e in base]
    removed = {e["id"] for e in child if e.get("remove") is True and e["id"] in base_ids}
    new = [e["id"] for e in child if e["id"] not in base_ids and not e.get("remove")]
    assert [e["id"] for e in merged] == [i for i in base_ids if i not in removed] + new
    by_id = {e["id"]: e for e in child}
    for entry in merged:
        own = by_id.get(entry["id"], {})
        original = next((e for e in base if e["id"] == entry["id"]), {})
        assert entry.get("v") == own.get("v", original.get("v"))
    assert [p.code for p in problems] == ["REMOVE_UNKNOWN"] * sum(
        1 for e in child if e.get("remove") is True and e["id"] not in base_ids)
