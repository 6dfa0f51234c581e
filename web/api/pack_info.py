"""GET /pack — what the county's pack declares: levels, classes, channels, departments, forms, workflow."""
from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from wangge.core.pack.model import Pack

from . import schemas
from .context import ApiContext
from .handlers import UnicodeJSON, api
from .spec import Endpoint


def pack_summary(slug: str, pack: Pack) -> dict[str, Any]:
    m = pack.manifest
    wf = pack.workflow
    return {
        "county": slug, "id": m.id, "name": m.name, "version": m.version, "region": m.region,
        "lineage": list(pack.lineage), "summary": pack.summary(),
        "levels": [{"id": lv.id, "name": lv.name, "units": n} for lv, n in
                   zip(pack.grid.levels, pack.grid.count_by_level().values())],
        "event_classes": [{"id": c.id, "code": c.code, "name": c.name, "parent": c.parent, "ref_class": c.maps_to}
                          for c in pack.events.classes.values()],
        "channels": [{"id": c.id, "name": c.name, "ref_channel": c.maps_to} for c in pack.channels.values()],
        "departments": [{"id": d.id, "name": d.name, "level": d.level} for d in pack.departments.values()],
        "forms": [{"id": f.id, "title": f.title, "version": f.version} for f in pack.forms.values()],
        "indicators": [{"id": i.id, "name": i.name} for i in pack.indicators.values()],
        "workflow": None if wf is None else {
            "name": wf.name, "initial": wf.initial,
            "states": [{"id": s.id, "name": s.name, "kind": s.kind} for s in wf.states.values()],
            "actions": [{"id": t.id, "name": t.name, "from": list(t.sources), "to": t.to} for t in wf.transitions]},
    }


def endpoints(ctx: ApiContext) -> list[Endpoint]:
    @api
    async def get_pack(request: Request) -> Response:
        county = ctx.county(request)
        return UnicodeJSON(pack_summary(county.slug, county.pack))

    return [Endpoint("GET", "/pack", get_pack, "getPack", "规则包概要 (pack summary)", "pack",
                     responses={200: ("规则包概要", schemas.PACK_SUMMARY)})]
