"""Model comparison: 5 example packs over 100,000 events, against the 10 s target.

    .venv/bin/python bench/compare.py [--events 100000] [--seed 7] [--workers N] [--out DIR]

One command. It generates the synthetic stream from the first pack (timed apart: generation is not part of
the comparison), then times ``compare_packs`` — routing, workflow plan, discrete-event simulation, the fact
rows of every case, indicators and every scheme's scores by the scoring engine (``MemoryCounter``), and the
per-event diff for every pack — and, apart, writing report.json and report.html. It prints the
per-pack replay times and the wall time against the target. ``--workers 1`` shows the single-process time.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKS = ["binzhou-pengli", "beijing-haidian", "taiyuan-yingze", "taiyuan-yangqu", "shuozhou"]
TARGET_S = 10.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()

    from wangge.core.compare import compare_packs, generate
    from wangge.core.compare.output import summary_table, write
    from wangge.core.pack.loader import PackLoader

    loader = PackLoader(())
    t0 = time.perf_counter()
    packs = [loader.load(ROOT / "examples" / "counties" / name) for name in PACKS]
    t1 = time.perf_counter()
    scenario = generate(packs[0], args.events, args.seed)
    t2 = time.perf_counter()
    print(f"loaded {len(packs)} packs in {t1 - t0:.2f} s; generated {args.events:,} events "
          f"({scenario.meta['days']} days) in {t2 - t1:.2f} s")
    start = time.perf_counter()
    report = compare_packs(packs, scenario.events, workers=args.workers)
    wall = time.perf_counter() - start
    for key, value in report.timings.items():
        print(f"  {key:<40} {value:6.2f} s")
    out = args.out or Path(tempfile.mkdtemp(prefix="wangge-compare-"))
    t3 = time.perf_counter()
    write(report, out)
    t4 = time.perf_counter()
    print(summary_table(report))
    print(f"\nwrote {out}/report.json and report.html in {t4 - t3:.2f} s")
    ok = wall < TARGET_S
    print(f"compare {len(packs)} packs x {args.events:,} events: {wall:.2f} s "
          f"(target < {TARGET_S:.0f} s, workers={report.meta['workers']}) -> {'OK' if ok else 'SLOWER THAN TARGET'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
