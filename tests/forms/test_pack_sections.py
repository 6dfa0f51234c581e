"""The fields:/forms: sections: references, choice lists, levels, expressions — every mistake located."""
from __future__ import annotations

import pytest
from wangge.core.pack.loader import load_pack
from wangge.core.pack.problems import PackError

from .conftest import write_pack


def problems(tmp_path, forms_yaml: str) -> list[str]:
    root = write_pack(tmp_path / "p", {"forms.yaml": forms_yaml})
    with pytest.raises(PackError) as exc:
        load_pack(root)
    return [str(p) for p in exc.value.problems]


def form(fields: str) -> str:
    return "forms:\n  - id: f\n    title: 表\n    fields:\n" + fields


def test_bad_expression_reports_code_file_line_and_column(tmp_path):
    found = problems(tmp_path, form("      - {id: a, type: integer, label: A, constraint: '. >= 0 && . < 9'}\n"))
    assert len(found) == 1 and "forms.yaml:5:" in found[0] and "BAD_EXPRESSION" in found[0] and "第8列" in found[0]


def test_unknown_field_in_expression_and_unknown_registry_ref(tmp_path):
    found = problems(tmp_path, form("      - {id: a, type: text, label: A, relevant: '${agee} > 1'}\n"
                                    "      - {id: age, type: integer, label: 年龄}\n"
                                    "      - {ref: full_nam}\n"))
    assert any("UNKNOWN_FIELD" in p and "agee" in p and '"age"' in p for p in found)
    assert any("UNKNOWN_FIELD" in p and "full_nam" in p and "full_name" in p for p in found)


def test_duplicate_names_choices_and_levels(tmp_path):
    found = problems(tmp_path, form(
        "      - {id: a, type: text, label: A}\n"
        "      - {id: a, type: text, label: B}\n"
        "      - {id: c, type: select_one, label: C, choices: nolist}\n"
        "      - {id: u, type: unit, label: U, levels: [township, gird]}\n"
        "      - {id: w, type: unit, label: W, levels: [township, grid]}\n"))
    codes = " ".join(found)
    assert "DUPLICATE_ID" in codes and "UNKNOWN_CHOICES" in codes and "UNKNOWN_LEVEL" in codes
    assert "LEVEL_ORDER" in codes


def test_ref_keeps_the_registry_name(tmp_path):
    found = problems(tmp_path, form("      - {id: mobile, ref: phone}\n"))
    assert any("BAD_FIELD" in p and "mobile" in p for p in found)


def test_unknown_type_is_refused(tmp_path):
    # Not a schema enum any more: an enabled plugin may provide field types, so the forms compiler checks.
    found = problems(tmp_path, form("      - {id: a, type: txt, label: A}\n"))
    assert any("UNKNOWN_TYPE" in p and '"text"' in p and "plugins:" in p for p in found)


def test_county_overrides_a_base_form_field_by_id(tmp_path):
    root = write_pack(tmp_path / "p", {"forms.yaml": """
forms:
  - id: event_report
    version: 1.1.0
    fields:
      - {id: address, hint: 本县写法:乡镇+村+门牌}
      - {id: reporter_phone, required: true}
"""})
    pack = load_pack(root)
    f = pack.forms["event_report"]
    assert f.version == "1.1.0" and f.field("address").hint == "本县写法:乡镇+村+门牌"
    assert f.field("reporter_phone").required and f.field("title").required
