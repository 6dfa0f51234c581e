"""Server-side validation through Validation.run: formats, skip logic, calculations, required-if."""
from __future__ import annotations

from datetime import datetime

import pytest
from wangge.core.pack.loader import load_pack
from wangge.forms import Validation
from wangge.forms.values import id_card_problem

from .conftest import write_pack

NOW = datetime(2024, 5, 2, 9, 0)


@pytest.mark.parametrize("number,problem", [
    ("11010519491231002X", None),
    ("11010519491231002x", None),  # coerced to upper case before the check, see below
    ("110105194912310021", "校验位不正确"),
    ("1101051949123100", "应为 18 位"),
    ("11010519491331002X", "出生日期无效"),
    ("99010519491231002X", "省级行政区划代码"),
    ("1101051949123100AX", "前 17 位应为数字"),
])
def test_id_card_gb11643(number, problem):
    found = id_card_problem(number.upper())
    assert (found is None) if problem is None else (problem in found)


@pytest.fixture(scope="module")
def form_pack(tmp_path_factory):
    root = write_pack(tmp_path_factory.mktemp("p") / "p", {"forms.yaml": """
forms:
  - id: t
    version: 2.1.0
    title: 测试
    subject: person
    choice_lists:
      - id: city
        choices:
          - {value: ty, label: 太原, province: sx}
          - {value: jn, label: 济南, province: sd}
    fields:
      - {ref: id_number, required: true, key: true}
      - {ref: phone}
      - {ref: location}
      - id: prov
        type: select_one
        label: 省
        choices: [{value: sx, label: 山西}, {value: sd, label: 山东}]
      - id: city
        type: select_one
        label: 城市
        choices: city
        choice_filter: "${choice.province} == ${prov}"
      - id: rent
        type: yes_no
        label: 租住
      - id: landlord
        type: text
        label: 房东
        relevant: "${rent} == true"
        required: true
      - id: reason
        type: text
        label: 原因
        required: "${rent} == false"
      - id: kids
        type: repeat
        label: 子女
        min_count: 1
        fields:
          - {id: kid, type: text, label: 姓名, required: true}
          - {id: kid_age, type: integer, label: 年龄, constraint: ". < 18", constraint_message: 子女应未满 18 岁}
      - id: n
        type: calculate
        label: 人数
        calculation: "count(${kids})"
      - id: total_age
        type: calculate
        calculation: "sum(pluck(${kids}, 'kid_age'))"
"""})
    pack = load_pack(root)
    return pack, Validation.of(pack.forms["t"], pack.grid)


def run(v, **raw):
    return v.run({k.replace("__", "."): [x] if not isinstance(x, list) else x for k, x in raw.items()}, now=NOW)


def test_skip_logic_clears_irrelevant_answers_and_required_if(form_pack):
    _, v = form_pack
    out = run(v, id_number="11010519491231002x", rent="false", landlord="不该保存", kids__0__kid="小明")
    assert out.errors == {"reason": ("此项为必填",)}
    assert "landlord" not in out.values and out.values["id_number"] == "11010519491231002X"
    out = run(v, id_number="11010519491231002X", rent="true", kids__0__kid="小明")
    assert out.errors == {"landlord": ("此项为必填",)}


def test_calculations_are_computed_by_the_server_whatever_the_client_sent(form_pack):
    _, v = form_pack
    out = run(v, id_number="11010519491231002X", rent="true", landlord="周某", kids__0__kid="甲",
              kids__0__kid_age="3", kids__1__kid="乙", kids__1__kid_age="5", n="99", total_age="1")
    assert out.ok, out.errors
    assert out.values["n"] == 2 and out.values["total_age"] == 8


def test_repeat_children_constraints_and_min_count(form_pack):
    _, v = form_pack
    out = run(v, id_number="11010519491231002X", rent="true", landlord="周某", kids__0__kid="甲", kids__0__kid_age="20")
    assert out.errors == {"kids.0.kid_age": ("子女应未满 18 岁",)}
    out = run(v, id_number="11010519491231002X", rent="true", landlord="周某")
    assert out.errors == {"kids": ("至少填写 1 条",)}


def test_choice_filter_is_enforced_on_the_server(form_pack):
    _, v = form_pack
    base = {"id_number": "11010519491231002X", "rent": "true", "landlord": "周某", "kids__0__kid": "甲"}
    assert run(v, **base, prov="sx", city="ty").ok
    out = run(v, **base, prov="sx", city="jn")
    assert out.errors == {"city": ("所选的不在当前可选范围内,请重新选择",)}
    assert run(v, **base, prov="sx", city="xx").errors == {"city": ("请从列表中选择,所选的不是有效选项",)}


def test_phone_and_geopoint_formats(form_pack):
    _, v = form_pack
    base = {"id_number": "11010519491231002X", "rent": "true", "landlord": "周某", "kids__0__kid": "甲"}
    for phone in ("13912345678", "+86 139 1234 5678", "0351-6041234", "035186041234"):
        assert run(v, **base, phone=phone).ok, phone
    assert "11 位手机号" in run(v, **base, phone="1234567").errors["phone"][0]
    assert run(v, **base, location="37.38, 117.97").values["location"] == "37.38 117.97"
    assert "超出范围" in run(v, **base, location="137 20").errors["location"][0]
    assert "格式不正确" in run(v, **base, location="东经").errors["location"][0]
