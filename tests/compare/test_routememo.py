"""The memoised router gives exactly the decisions of Router.decide, for every example county."""
from __future__ import annotations

from wangge.core.compare import Translator, generate
from wangge.core.compare.keys import LocalEvent
from wangge.core.compare.routememo import MemoRouter
from wangge.core.routing import Router


def test_memo_equals_router_for_every_county(all_packs, stream) -> None:
    for pack in all_packs:
        router = Router.from_pack(pack)
        memo = MemoRouter(Router.from_pack(pack))
        tr = Translator.for_pack(pack)
        events = list(stream.events[:600]) + list(generate(pack, 300, seed=2).events)
        for e in events:
            ev = LocalEvent(e.id, tr.local_class(e), tr.local_channel(e), tr.unit(e.place), e.reported_at,
                            e.urgency, e.people, e.reporter_role, e.data)
            got = memo.route(ev)
            want = router.decide(ev.event())
            assert (got.level, got.unit, got.lead, got.assist, got.priority, got.state) == \
                   (want.level, want.unit, want.lead, want.assist, want.priority, want.state), (pack.id, e.id)
            assert memo.time_limit(got, ev) == want.time_limit, (pack.id, e.id)
        assert memo.stats()["routes"] < len(events)  # the memo is actually reused
