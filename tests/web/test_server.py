"""The serving process: readied before the first request (routers compiled, startup objects frozen)."""
from __future__ import annotations

import gc
from datetime import date

from wangge.web.server import calendar_warnings, ready


def test_ready_compiles_every_router_and_freezes_what_is_alive(module_deployment):  # type: ignore[no-untyped-def]
    registry = module_deployment.registry
    try:
        ready(module_deployment)
        frozen = gc.get_freeze_count()
        routers = {slug: module_deployment.router(slug) for slug in module_deployment.counties}
    finally:
        gc.unfreeze()   # the test process goes on collecting as usual
    assert frozen > 10_000   # the packs, compiled routers and modules
    for slug, router in routers.items():
        assert router is registry.router(slug)          # compiled once, before any request
        assert router.pack is module_deployment.pack(slug)


def test_ready_without_a_deployment_still_freezes():  # type: ignore[no-untyped-def]
    try:
        ready()
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()


def test_serve_warns_when_the_calendar_does_not_know_next_year(module_deployment):  # type: ignore[no-untyped-def]
    assert calendar_warnings(module_deployment, date(2098, 6, 1)) == []    # the year's end is not near
    warnings = calendar_warnings(module_deployment, date(2098, 11, 22))     # 2099 begins within 60 days
    assert len(warnings) == len(module_deployment.counties)
    assert all("2099" in w and "calendar.years.2099" in w for w in warnings)
    assert calendar_warnings(module_deployment, date(2025, 12, 1)) == []    # 2026 is known
