"""Server-side render + validate per request for the largest example form (by field count).

    .venv/bin/python bench/forms_bench.py [--requests 400]

Each request is what the server does for a full-page submit that fails validation: parse nothing (the
post is prebuilt), validate (typed values, skip logic, calculations, cerberus, expression checks) and
render the page with the errors. Prints median and p99 in milliseconds, and the page size.
"""
from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import yaml
from wangge.core.pack.loader import PackLoader
from wangge.examples import COUNTIES
from wangge.forms.render import PageBuilder, environment
from wangge.forms.validate import Validation

VALID = Path(__file__).resolve().parent.parent / "tests" / "forms" / "valid_submissions.yaml"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=400)
    args = parser.parse_args()
    loader = PackLoader()
    packs = [loader.load(d) for d in sorted(COUNTIES.iterdir()) if (d / "pack.yaml").exists()]
    pack, form = max(((p, f) for p in packs for f in p.forms.values()), key=lambda pf: sum(1 for _ in pf[1].walk()))
    validation = Validation.of(form, pack.grid)
    env = environment(pack.root)
    template = env.get_template("form.html")
    unit = next(u for u in pack.grid.units.values() if u.level == "grid")
    chain = {u.level: u.code for u in pack.grid.ancestors(unit.code)}
    raw: dict[str, list] = {}
    for key, value in yaml.safe_load(VALID.read_text(encoding="utf-8"))[form.id].items():
        f = form.field(key)
        if value == "GRID" and f is not None:
            raw.update({f"{key}__{lv}": [chain[lv]] for lv in f.levels})
        else:
            raw[key] = value if isinstance(value, list) else [value]
    raw["members.1.id_number"] = ["110105201001010011"]  # one mistake, so the page renders with an error

    def request() -> int:
        outcome = validation.run(raw)
        views = PageBuilder(pack, form, raw, outcome.errors, outcome.relevant).fields()
        html = template.render(pack=pack, form=form, fields=views, summary=[], prefilled=0, action="/f",
                               static="/static", rules_url="/r.js", units_url="/u", csrf_field="_csrf", csrf_token="t")
        return len(html.encode())

    for _ in range(20):
        size = request()
    times = []
    for _ in range(args.requests):
        start = time.perf_counter()
        request()
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
    print(f"{pack.id} / {form.id}: {sum(1 for _ in form.walk())} fields, page {size / 1024:.1f} KB")
    print(f"render+validate per request over {args.requests}: median {statistics.median(times):.2f} ms, p99 {p99:.2f} ms")


if __name__ == "__main__":
    main()
