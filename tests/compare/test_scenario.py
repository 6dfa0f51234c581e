"""wangge scenario: seeded, synthetic, in the reference vocabulary, readable back, valid for its own pack."""
from __future__ import annotations

import io
import json
from datetime import date

from click.testing import CliRunner
from wangge.core.cli import cli
from wangge.core.compare import Translator, generate, read_jsonl, write_jsonl
from wangge.core.events import parse_event
from wangge.examples import COUNTIES


def _text(pack, n, seed, **kw) -> str:
    buf = io.StringIO()
    write_jsonl(generate(pack, n, seed, **kw), buf)
    return buf.getvalue()


def test_same_seed_same_bytes_other_seed_differs(pengli) -> None:
    a, b = _text(pengli, 400, 7), _text(pengli, 400, 7)
    assert a == b
    assert _text(pengli, 400, 8) != a


def test_header_says_synthetic_and_events_map(pengli, tmp_path) -> None:
    path = tmp_path / "s.jsonl"
    path.write_text(_text(pengli, 300, 1, start=date(2026, 4, 1)), encoding="utf-8")
    header = json.loads(path.read_text(encoding="utf-8").splitlines()[0])["_meta"]
    assert header["synthetic"] is True and "合成数据" in header["note"]
    meta, events = read_jsonl(path)
    assert meta["seed"] == 1 and len(events) == 300
    assert [e.reported_at for e in events] == sorted(e.reported_at for e in events)
    tr = Translator.for_pack(pengli)
    for e in events:
        cls = pengli.events.classes[e.source_class]
        assert cls.maps_to == e.ref_class
        assert pengli.channels[e.source_channel].maps_to == e.ref_channel
        parsed = parse_event(tr.raw_event(e), pengli)  # runs in its own pack as is
        assert parsed.event_class == e.source_class and parsed.unit in pengli.grid.units


def test_placement_is_stable_and_spread(pengli, yingze) -> None:
    for pack in (pengli, yingze):
        tr = Translator.for_pack(pack)
        units = {tr.unit(f"P{k:05d}") for k in range(5000)}
        assert tr.unit("P00042") == Translator.for_pack(pack).unit("P00042")
        assert len(units) > 0.9 * len(tr.bottom)  # hashing reaches nearly every bottom unit


def test_cli_writes_file(tmp_path) -> None:
    out = tmp_path / "ev.jsonl"
    result = CliRunner().invoke(cli, ["scenario", str(COUNTIES / "taiyuan-yingze"), "--n", "50", "--seed", "3",
                                      "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert len(out.read_text(encoding="utf-8").splitlines()) == 51
