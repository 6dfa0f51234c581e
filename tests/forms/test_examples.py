"""Every example form renders, accepts a valid submission and rejects invalid ones in Chinese."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select
from wangge.core.store.tables import submissions
from wangge.examples import COUNTIES

from .conftest import VALID, post_data

CASES = []
for county in sorted(d.name for d in COUNTIES.iterdir() if (d / "pack.yaml").exists()):
    own = (COUNTIES / county / "forms.yaml")
    ids = ["event_report"] + re.findall(r"^  - id: (\w+)", own.read_text(encoding="utf-8"), re.MULTILINE) if own.exists() else ["event_report"]
    CASES += [(county, form_id) for form_id in ids]


def test_every_county_has_its_own_form_and_the_shared_event_report(packs):
    for name, pack in packs.items():
        assert "event_report" in pack.forms, name
        assert len(pack.forms) >= 2, f"{name} has no county form"
        assert {"full_name", "id_number", "gender", "ethnicity", "household_reg", "current_address",
                "person_category"} <= set(pack.fields)
    assert "linshi_jiuzhu" in packs["panjin-xinglongtai"].forms
    assert "sheqing_minyi" in packs["taiyuan-gujiao"].forms
    assert "ruhu_dengji" in packs["taiyuan-wanbailin"].forms


@pytest.mark.parametrize("county,form_id", CASES)
def test_example_form_renders_accepts_and_rejects(county, form_id, packs, app_for, database):
    pack = packs[county]
    form = pack.forms[form_id]
    client = app_for(pack)
    url = f"/{pack.id}/{form_id}"
    page = client.get(url)
    assert page.status_code == 200
    html = page.text
    assert f"<h1>{form.title}</h1>" in html
    for f in form.fields:  # every visible input is labelled
        if f.type in ("text", "textarea", "integer", "decimal", "date", "datetime", "phone", "id_card", "geopoint"):
            assert f'<label for="f-{f.name}">' in html, f.name
    token = re.search(r'name="_csrf" value="([^"]+)"', html)[1]

    # valid
    good = post_data(pack, form_id, VALID[form_id])
    ok = client.post(url, data={**good, "_csrf": token, "_action": "submit"}, follow_redirects=False)
    assert ok.status_code == 303, re.findall(r'<li><a href="#[^"]+">([^<]+)</a>', ok.text)
    done = client.get(ok.headers["location"])
    assert done.status_code == 200 and "已提交" in done.text
    with database.engine.connect() as conn:
        row = conn.execute(select(submissions).where(submissions.c.form_id == form_id)).mappings().one()
    assert row["form_version"] == form.version and row["pack_id"] == pack.id and row["tenant"] == pack.id

    # invalid: each required top-level field left empty is reported on that field, in Chinese
    for f in form.fields:
        if not f.required or f.relevant is not None:
            continue
        bad = {k: v for k, v in good.items() if k != f.name and not k.startswith(f"{f.name}__")
               and not k.startswith(f"{f.name}.")}
        res = client.post(url, data={**bad, "_csrf": token, "_action": "submit"})
        assert res.status_code == 422, f.name
        expected = f"至少填写 {f.min_count} 条" if f.type == "repeat" else (f.required_message or "此项为必填")
        assert f"{f.label}:{expected}" in res.text, (f.name, re.findall(r'<li><a href="#[^"]+">([^<]+)</a>', res.text))
        assert 'role="alert"' in res.text and 'aria-invalid="true"' in res.text

    # invalid formats
    for f, _ in form.walk():
        path = next((k for k in good if k == f.name or k.endswith("." + f.name)), None)
        if path is None:
            continue
        wrong = {"id_card": ("110105194912310021", "校验位不正确"), "phone": ("12345", "11 位手机号"),
                 "integer": ("三", "请输入整数"), "decimal": ("abc", "请输入数字"),
                 "date": ("2024-02-30", "有效日期")}.get(f.type)
        if wrong:
            res = client.post(url, data={**good, path: wrong[0], "_csrf": token, "_action": "submit"})
            assert res.status_code == 422 and wrong[1] in res.text, (f.name, f.type)
