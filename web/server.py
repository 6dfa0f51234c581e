"""Running a portal process: uvicorn, after readying what every request would otherwise build first.

Shared by ``wangge serve`` and bench/intake.py, so the benchmark measures the process users run.
"""
from __future__ import annotations

import gc
from typing import Any

from .deployment import Deployment


def ready(deployment: Deployment | None) -> None:
    """Compile each county's router now, then move every object alive (packs, routers, templates,
    modules) out of the garbage collector's view.

    Why freeze: a loaded pack is some 100,000 objects that live as long as the process. Each full
    collection walked all of them — 68 ms on the 2-core bench machine, paid by whichever request
    triggered it, and the intake p99 (60 ms) was exactly those pauses. Frozen objects are never
    scanned; a pack published later is simply collected as usual."""
    for slug in deployment.counties if deployment is not None else ():
        deployment.router(slug)
    gc.collect()
    gc.freeze()


def run(app: Any, deployment: Deployment | None, *, host: str, port: int, **options: Any) -> None:
    import uvicorn  # noqa: PLC0415  (keeps `wangge --help` fast)

    ready(deployment)
    uvicorn.run(app, host=host, port=port, **options)
