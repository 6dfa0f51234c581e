"""Stored submissions keep the version they were filled under; prefill reuses registry fields."""
from __future__ import annotations

from wangge.core.pack.loader import load_pack
from wangge.forms import SubmissionStore, Validation

from .conftest import write_pack

PERSON = """
forms:
  - id: a
    version: VERSION
    title: 甲表
    subject: person
    fields:
      - {ref: id_number, required: true, key: true}
      - {ref: full_name, required: true}
      - {ref: gender}
      - {id: note_a, type: text, label: 仅甲表}
  - id: b
    version: 1.0.0
    title: 乙表
    subject: person
    fields:
      - {ref: id_number, required: true, key: true}
      - {ref: full_name}
      - {ref: gender}
      - {ref: phone}
"""


def test_prefill_from_another_form_about_the_same_person(tmp_path, database, app_for):
    pack = load_pack(write_pack(tmp_path / "p", {"forms.yaml": PERSON.replace("VERSION", "1.0.0")}))
    store = SubmissionStore(database, pack.id)
    v = Validation.of(pack.forms["a"], pack.grid)
    out = v.run({"id_number": ["11010519491231002X"], "full_name": ["张桂兰"], "gender": ["2"], "note_a": ["x"]})
    assert out.ok
    store.save(pack, pack.forms["a"], out.values)
    filled = store.prefill(pack.forms["b"], "11010519491231002X")
    assert filled == {"id_number": "11010519491231002X", "full_name": "张桂兰", "gender": "2"}
    page = app_for(pack).get(f"/{pack.id}/b?key=11010519491231002X").text
    assert 'value="张桂兰"' in page and "已根据以往登记的信息预填 2 项" in page
    assert store.prefill(pack.forms["b"], "110105201001010010") == {"id_number": "110105201001010010"}


def test_a_changed_form_never_reinterprets_old_submissions(tmp_path, database):
    v1 = load_pack(write_pack(tmp_path / "v1", {"forms.yaml": PERSON.replace("VERSION", "1.0.0")}))
    store = SubmissionStore(database, "county")
    out = Validation.of(v1.forms["a"], v1.grid).run(
        {"id_number": ["11010519491231002X"], "full_name": ["张桂兰"], "gender": ["2"]})
    saved = store.save(v1, v1.forms["a"], out.values, submitted_by="wangyang")
    changed = PERSON.replace("VERSION", "2.0.0").replace("{ref: gender}", "{ref: gender, choices: [{value: '2', label: 女性}]}", 1)
    v2 = load_pack(write_pack(tmp_path / "v2", {"forms.yaml": changed}))
    assert v2.forms["a"].field("gender").choice_label("2") == "女性"
    again = store.get(saved.id)
    assert again.form_version == "1.0.0" and again.labels["gender"] == "女" and again.values["gender"] == "2"
    assert again.submitted_by == "wangyang" and again.subject_key == "11010519491231002X"
    assert [s.id for s in store.list("a")] == [saved.id]
    assert SubmissionStore(database, "other-county").get(saved.id) is None  # tenants never see each other
