"""Benchmark: load + validate + compile a large county pack.

Generates (in a temporary folder) a pack extending cn.base with 5,000 grid units, 200 duty items,
1,000 local event subclasses with time limits (codes in the local range) and 1,000 routing rules with
multi-field conditions, expressions and dynamic targets, loads it five times with a
fresh PackLoader each time, and prints the median wall time and the peak memory against the targets
"under 1 s and under 200 MB".

    .venv/bin/python bench/pack_load.py            # the benchmark
    .venv/bin/python bench/pack_load.py --profile  # plus a cProfile of one load (top 25 by cumulative time)
"""
from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import resource
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import yaml

from wangge.core.pack.loader import PackLoader
from wangge.rulepacks import PATH as RULEPACKS

TARGET_SECONDS = 1.0
TARGET_MB = 200.0
UNITS = 5_000
DUTY_ITEMS = 200
EVENT_CLASSES = 1_000
ROUTING_RULES = 1_000
RUNS = 5


def dump(value: object) -> str:
    return yaml.safe_dump(value, allow_unicode=True, sort_keys=False, width=200)


def write_pack(folder: Path) -> dict[str, int]:
    """Write the benchmark pack into ``folder``; return what it contains."""
    base = PackLoader().load(RULEPACKS / "cn.base")
    levels = [lv.id for lv in base.grid.levels]
    if len(levels) < 4:
        raise SystemExit(f"cn.base has levels {levels}; the benchmark expects 县/乡镇/村/网格 (4 levels)")
    county_level, town_level, village_level, grid_level = levels[:4]

    # 1 county + 20 townships + 400 villages + 4,579 grids = 5,000 units, all listed (not generated).
    towns, villages_per_town = 20, 20
    grids_total = UNITS - 1 - towns - towns * villages_per_town
    villages = [(t, v) for t in range(towns) for v in range(villages_per_town)]
    share, extra = divmod(grids_total, len(villages))
    zones = "ABC"
    town_units = []
    for t in range(towns):
        town_code = f"140100{t + 1:03}"
        village_units = []
        for v in range(villages_per_town):
            index = t * villages_per_town + v
            village_code = f"{town_code}{v + 1:03}"
            count = share + (1 if index < extra else 0)
            village_units.append({
                "code": village_code, "name": f"第{t + 1}镇第{v + 1}村", "level": village_level,
                "children": [{"code": f"{village_code}{g + 1:03}", "name": f"第{g + 1}网格", "level": grid_level}
                             for g in range(count)]})
        town_units.append({"code": town_code, "name": f"第{t + 1}镇", "level": town_level,
                           "zone": zones[t % 3], "children": village_units})
    grid = {"grid": {"units": [{"code": "140100", "name": "测试县", "level": county_level, "zone": "A",
                                "children": town_units}]}}

    departments = [{"id": f"dept_{d:02}", "name": f"部门{d}", "level": town_level, "kind": "station"}
                   for d in range(40)]
    categories = []
    for c in range(10):
        categories.append({"id": f"cat{c:02}", "name": f"类别{c}", "items": [
            {"id": f"cat{c:02}-{i:02}", "name": f"事项{c}-{i}",
             "departments": [f"dept_{(c * 20 + i) % 40:02}", f"dept_{(c * 20 + i + 7) % 40:02}"],
             "handle_level": grid_level, "source": "illustrative"}
            for i in range(DUTY_ITEMS // 10)]})
    duties = {"departments": departments,
              "duties": {"expected": {"categories": 10, "items": DUTY_ITEMS, "departments": 40},
                         "categories": categories}}

    majors = list(base.events.majors)
    low, high = base.events.local_range
    if high - low + 1 < -(-EVENT_CLASSES // len(majors)):
        raise SystemExit("the local code range of cn.base is too small for the benchmark")
    limits = ["1工作日", "5工作日", "4工作时", "30分钟", "2小时", "3自然日", {"A": "1工作日", "B": "2工作日", "C": "3工作日"}]
    classes = []
    made = 0
    for m, major in enumerate(majors):
        subs = base.events.subclasses(major.id)
        target = next((s.id for s in subs if s.id.endswith("_qita")), subs[0].id if subs else None)
        if target is None:
            continue
        count = EVENT_CLASSES // len(majors) + (1 if m < EVENT_CLASSES % len(majors) else 0)
        new = [{"id": f"{major.id}_local{k:03}", "code": f"{low + k:03}", "name": f"{major.name}本地小类{k}",
                "maps_to": target, "time_limit": limits[(m + k) % len(limits)]} for k in range(count)]
        made += len(new)
        classes.append({"id": major.id, "subclasses": new})
    events = {"events": {"classes": classes}}

    urgencies = ["normal", "urgent", "emergency"]
    channels = sorted(base.channels)[:8]
    local_ids = [s["id"] for c in classes for s in c["subclasses"]]
    rules = []
    for r in range(ROUTING_RULES):
        when: dict[str, object] = {"class": local_ids[r % len(local_ids)]}
        if r % 2:
            when["urgency"] = urgencies[r % 3]
        if r % 3:
            when["channel"] = [channels[r % len(channels)], channels[(r + 3) % len(channels)]]
        rule: dict[str, object] = {"id": f"r{r:04}", "when": when,
                                   "then": {"level": (village_level, town_level, grid_level)[r % 3],
                                            "unit": {"ancestor": (village_level, town_level, grid_level)[r % 3]},
                                            "lead": departments[r % 40]["id"], "priority": r % 10}}
        if r % 5 == 0:
            when["expr"] = "${people} >= 5 or ${hour} < 8"
        rules.append(rule)
    routing = {"routing": {"tables": [{"id": "bench", "hit": "first", "rules": rules}]}}

    manifest = {"pack": {"id": "bench.county", "name": "基准测试县", "region": "140100", "version": "1.0.0",
                         "extends": {"id": "cn.base", "version": f"=={base.version}"}}}
    for name, document in (("pack.yaml", manifest), ("grid.yaml", grid), ("duties.yaml", duties),
                           ("events.yaml", events), ("routing.yaml", routing)):
        (folder / name).write_text(dump(document), encoding="utf-8")
    return {"units": UNITS, "duty items": DUTY_ITEMS, "local event classes": made, "routing rules": len(rules)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", action="store_true", help="print a cProfile of one load")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "bench.county"
        folder.mkdir()
        contents = write_pack(folder)
        size = sum(f.stat().st_size for f in folder.iterdir())
        print(f"pack: {', '.join(f'{v:,} {k}' for k, v in contents.items())}; {size / 1e6:.1f} MB of YAML")

        pack = PackLoader().load(folder)  # warm-up (imports, schema compilation); also checks the pack
        assert len(pack.grid.units) == UNITS, len(pack.grid.units)
        assert len(pack.duties.items) == DUTY_ITEMS
        assert len(pack.events.subclasses()) >= EVENT_CLASSES
        assert pack.routing is not None and any(len(t.rules) == ROUTING_RULES for t in pack.routing.tables)
        print(f"loaded: {pack.summary()}")
        del pack

        times, cpu = [], []
        for _ in range(RUNS):
            start, start_cpu = time.perf_counter(), time.process_time()
            PackLoader().load(folder)
            times.append(time.perf_counter() - start)
            cpu.append(time.process_time() - start_cpu)
        median = statistics.median(times)

        tracemalloc.start()
        PackLoader().load(folder)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        peak_mb = peak / 2**20
        maxrss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / (2**20 if sys.platform == "darwin" else 2**10)

        print(f"wall time  median of {RUNS}: {median:.3f} s  (runs: {', '.join(f'{t:.3f}' for t in times)})"
              f"  target < {TARGET_SECONDS:.0f} s  ratio {median / TARGET_SECONDS:.2f}")
        print(f"cpu time   median of {RUNS}: {statistics.median(cpu):.3f} s  (wall exceeds cpu when the machine is busy)")
        print(f"memory     tracemalloc peak: {peak_mb:.1f} MB  ratio {peak_mb / TARGET_MB:.2f};"
              f"  ru_maxrss (whole process): {maxrss_mb:.1f} MB  ratio {maxrss_mb / TARGET_MB:.2f}"
              f"  target < {TARGET_MB:.0f} MB")
        ok = median < TARGET_SECONDS and peak_mb < TARGET_MB and maxrss_mb < TARGET_MB
        print("result:", "MEETS the targets" if ok else "MISSES the targets")

        if args.profile or not ok:
            profiler = cProfile.Profile()
            profiler.enable()
            PackLoader().load(folder)
            profiler.disable()
            out = io.StringIO()
            stats = pstats.Stats(profiler, stream=out).sort_stats("cumulative")
            stats.print_stats(25)
            out.write("\n--- by own time ---\n")
            stats.sort_stats("tottime").print_stats(15)
            print(out.getvalue())


if __name__ == "__main__":
    main()
