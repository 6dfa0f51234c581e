"""XLSForm import/export: workbooks written with openpyxl, round trips, errors naming sheet and row."""
from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import Workbook
from wangge.core.pack.loader import load_pack
from wangge.forms.cli import forms as forms_cli
from wangge.forms.xlsform import XLSFormError, export_xlsform, import_xlsform

from .conftest import write_pack

ZH = "label::中文 (zh)"


def workbook(path: Path, survey: list[list], choices: list[list] | None = None, settings: list[list] | None = None) -> Path:
    wb = Workbook()
    ws = wb.active
    ws.title = "survey"
    for row in survey:
        ws.append(row)
    if choices:
        c = wb.create_sheet("choices")
        for row in choices:
            c.append(row)
    s = wb.create_sheet("settings")
    for row in settings or [["form_id", "form_title", "version"], ["visit", "走访表", "1.2.0"]]:
        s.append(row)
    wb.save(path)
    return path


SURVEY = [
    ["type", "name", ZH, "label::English (en)", "required", "relevant", "constraint", "constraint_message::中文 (zh)",
     "calculation", "choice_filter", "appearance"],
    ["text", "who", "姓名", "Name", "yes", "", "", "", "", "", ""],
    ["integer", "age", "年龄", "", "yes", "", ". >= 0 and . < 150", "年龄不对", "", "", ""],
    ["select_one prov", "prov", "省", "", "", "", "", "", "", "", ""],
    ["select_one city", "city", "城市", "", "", "${age} > 17", "", "", "", "province=${prov}", ""],
    ["select_multiple help", "help", "需求", "", "", "", "count-selected(.) <= 2", "最多两项", "", "", ""],
    ["begin_group", "g", "分组", "", "", "${age} >= 60", "", "", "", "", ""],
    ["text", "care", "照护情况", "", "", "", "", "", "", "", "multiline"],
    ["end_group", "", "", "", "", "", "", "", "", "", ""],
    ["begin_repeat", "kids", "子女", "", "", "", "", "", "", "", ""],
    ["text", "kid", "子女姓名", "", "yes", "", "string-length(.) <= 10", "", "", "", ""],
    ["end_repeat", "", "", "", "", "", "", "", "", "", ""],
    ["calculate", "n", "", "", "", "", "", "", "count(${kids})", "", ""],
    ["date", "day", "日期", "", "", "", ". <= today()", "", "", "", ""],
    ["geopoint", "where", "位置", "", "", "", "", "", "", "", ""],
    ["image", "pic", "照片", "", "", "", "", "", "", "", ""],
    ["note", "tip", "请核对", "", "", "", "", "", "", "", ""],
]
CHOICES = [["list_name", "name", ZH, "province"], ["prov", "sx", "山西", ""], ["prov", "sd", "山东", ""],
           ["city", "ty", "太原", "sx"], ["city", "jn", "济南", "sd"], ["help", "a", "就医", ""], ["help", "b", "就业", ""],
           ["help", "c", "救助", ""]]


def test_import_translates_types_expressions_groups_and_choice_filters(tmp_path):
    form = import_xlsform(workbook(tmp_path / "v.xlsx", SURVEY, CHOICES))
    assert (form["id"], form["version"], form["title"]) == ("visit", "1.2.0", "走访表")
    by = {f["id"]: f for f in form["fields"]}
    assert by["who"] == {"id": "who", "type": "text", "label": "姓名", "label_en": "Name", "required": True}
    assert by["age"]["constraint"] == ". >= 0 and . < 150"
    assert by["city"]["choice_filter"] == "${choice.province} == ${prov}"
    assert by["help"]["constraint"] == "count_selected(.) <= 2"
    assert by["care"]["type"] == "textarea" and by["care"]["relevant"] == "${age} >= 60"
    assert by["kids"]["fields"][0]["constraint"] == "string_length(.) <= 10"
    assert by["n"]["calculation"] == "count(${kids})" and by["pic"]["type"] == "photo"


def test_round_trip_through_a_pack_and_back(tmp_path):
    first = import_xlsform(workbook(tmp_path / "v.xlsx", SURVEY, CHOICES))
    from wangge.forms.xlsform import dump_forms_yaml

    pack = load_pack(write_pack(tmp_path / "p", {"forms.yaml": dump_forms_yaml([first])}))
    export_xlsform(pack.forms["visit"], tmp_path / "out.xlsx")
    second = import_xlsform(tmp_path / "out.xlsx")
    pack2 = load_pack(write_pack(tmp_path / "p2", {"forms.yaml": dump_forms_yaml([second])}))
    a, b = pack.forms["visit"], pack2.forms["visit"]
    assert _shape(a) == _shape(b)
    for name in ("age", "city", "help", "kid", "n", "day"):
        for attr in ("constraint", "relevant", "calculation", "choice_filter"):
            ra, rb = getattr(a.field(name), attr), getattr(b.field(name), attr)
            assert (ra is None) == (rb is None)
            if ra is not None:  # same meaning: same result on the same answers
                env = {".": 5, "age": 70, "prov": "sx", "kids": [{"kid": "x"}], "choice": {"province": "sx"}}
                assert ra.expr.evaluate(env) == rb.expr.evaluate(env), (name, attr, ra.source, rb.source)


def test_round_trip_of_every_exportable_example_form(packs, tmp_path):
    from wangge.forms.xlsform import dump_forms_yaml

    done = 0
    for county in ("taiyuan-wanbailin", "panjin-xinglongtai", "taiyuan-gujiao"):
        pack = packs[county]
        for form in pack.forms.values():
            export_xlsform(form, tmp_path / f"{form.id}.xlsx")
            again = load_pack(write_pack(tmp_path / f"{county}-{form.id}", {"forms.yaml": dump_forms_yaml(
                [import_xlsform(tmp_path / f"{form.id}.xlsx")])})).forms[form.id]
            assert _shape(form) == _shape(again), form.id
            done += 1
    assert done == 7


def _shape(form):
    return [(f.name, f.type, f.label, f.required, f.required_if is not None, f.read_only, f.key, f.levels,
             f.min_count, f.max_count, [(c.value, c.label, dict(c.attrs)) for c in f.choices])
            for f, _ in form.walk()]


def test_unsupported_features_name_the_sheet_and_row(tmp_path):
    with pytest.raises(XLSFormError, match=r"survey 表第 3 行: 不支持题型 \"range\""):
        import_xlsform(workbook(tmp_path / "a.xlsx", [["type", "name", "label"], ["text", "a", "A"], ["range", "r", "R"]]))
    with pytest.raises(XLSFormError, match=r"survey 表第 2 行 relevant 列: .*不支持 XLSForm 的函数 pulldata"):
        import_xlsform(workbook(tmp_path / "b.xlsx", [["type", "name", "label", "relevant"],
                                                      ["text", "a", "A", "pulldata('x', 'y', 'z', 'w') = 1"]]))
    with pytest.raises(XLSFormError, match=r"survey 表第 3 行: 不支持嵌套的重复组"):
        import_xlsform(workbook(tmp_path / "c.xlsx", [["type", "name", "label"], ["begin_repeat", "r1", "R"],
                                                      ["begin_repeat", "r2", "R"], ["text", "a", "A"],
                                                      ["end_repeat", "", ""], ["end_repeat", "", ""]]))


def test_cli_import_and_export(tmp_path):
    from importlib.metadata import entry_points

    assert any(ep.name == "forms" and ep.value == "wangge.forms.cli:forms" for ep in entry_points(group="wangge.cli"))
    runner = CliRunner()
    src = workbook(tmp_path / "v.xlsx", SURVEY, CHOICES)
    out = tmp_path / "forms.yaml"
    res = runner.invoke(forms_cli, ["import", str(src), "--out", str(out)])
    assert res.exit_code == 0, res.output
    root = write_pack(tmp_path / "p", {"forms.yaml": out.read_text(encoding="utf-8")})
    res = runner.invoke(forms_cli, ["export", str(root), "visit", "--out", str(tmp_path / "x.xlsx")])
    assert res.exit_code == 0 and (tmp_path / "x.xlsx").exists(), res.output
    bad = workbook(tmp_path / "bad.xlsx", [["type", "name", "label", "relevant"], ["text", "a", "A", "${b} > 1"]])
    res = runner.invoke(forms_cli, ["import", str(bad)])
    assert res.exit_code == 1 and "row : 2" in res.output and "relevant" in res.output
