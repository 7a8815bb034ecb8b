"""Exports of the national radius run: each output timed with today's writers and the old.

Issue 15 measured the exports at 60-66% of the national radius run: ``report.xlsx``
39 s (openpyxl, about 15 us a cell), the maps 21 s, the CSVs 10 s.  This benchmark
runs ``benchmarks/make_national.py``'s country (generated on first use, as
``bench_national.py`` does) with the radius model once, then writes each export of
that one run twice, like for like, into a temporary folder:

- ``report.xlsx`` and ``lists.xlsx``: the openpyxl writer as it was
  (``benchmarks/legacy_excel.py``, a labelled copy of the old code) against today's
  xlsxwriter writer, once listing every gap (the same cells: the old report's work) and
  once with today's default of ``[output] report_gaps_per_commune`` gaps per commune;
- the CSVs (``write_tables``): pandas' ``to_csv`` on every cell, as before (today's
  ``write_csv`` with its column-wise path switched off), against the column-wise path;
  the bytes are compared;
- the GeoPackage, the charts, the documents and the maps, the same code both times
  (timed once);
- all exports as ``write_run`` writes them: the old way (one after the other, old
  writers) against today's (maps in a forked child beside the rest).

The whole run's figure (reading to written folder) is ``bench_national.py``'s; this
prints the exports' seconds, their share of a run made of this run's stages plus
today's exports, and, last, a verdict line against issue 15's target.

Run from the repository root::

    .venv/bin/python benchmarks/bench_exports.py                # the national country
    .venv/bin/python benchmarks/bench_exports.py --scale 0.1    # a tenth, for a try
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

#: Issue 15's targets: the national radius run in 45 s, exports at most 30% of it.
TARGET_RUN_S = 45.0
TARGET_SHARE = 0.30


#: CPU seconds of the last :func:`timed` call (this process and its waited-for children).
LAST_CPU = [0.0]


def _cpu() -> float:
    own, kids = (resource.getrusage(who) for who in (resource.RUSAGE_SELF,
                                                     resource.RUSAGE_CHILDREN))
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def timed(fn: Callable[[], object]) -> float:
    """Return the wall seconds ``fn`` takes; its CPU seconds go to :data:`LAST_CPU`.

    On a machine other work shares, the CPU seconds are the steadier figure.
    """
    t, c = time.perf_counter(), _cpu()
    fn()
    LAST_CPU[0] = _cpu() - c
    return time.perf_counter() - t


def national_result(seed: int, scale: float, out: Path):
    """Generate the country if needed (make_national) and run the radius model on it."""
    from make_national import generate, national_dir

    import covgap

    country = national_dir(seed, scale)
    if not (country / "facts.json").is_file():
        print(f"generating the country in {country} ...", flush=True)
        generate(country, seed=seed, scale=scale)
    cfg = covgap.load_config(country / "radius.toml")
    # a fresh output folder: no coverage cache to find, as bench_national's first run
    cfg = dataclasses.replace(cfg, output=dataclasses.replace(cfg.output, dir=out / "runs"))
    t = time.perf_counter()
    result = covgap.run(cfg)
    return result, time.perf_counter() - t, json.loads(
        (country / "facts.json").read_text(encoding="utf-8"))


def main(argv: list[str] | None = None) -> int:
    """Run the national radius model once, time every export old and new, print ratios."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=2025)
    ap.add_argument("--skip-old-workbooks", action="store_true",
                    help="do not time the old openpyxl writer (at national scale it takes "
                         "tens of minutes with pandas 3: a pandas Series per wrapped cell)")
    args = ap.parse_args(argv)

    import legacy_excel

    from covgap.export import csv as csv_module
    from covgap.export import rundir
    from covgap.export.documents import write_documents
    from covgap.export.excel import write_lists, write_report
    from covgap.export.gpkg import write_geopackage
    from covgap.export.lists import gap_operators
    from covgap.export.plots import write_plots

    with tempfile.TemporaryDirectory(prefix="covgap-exports-") as tmp:
        tmp = Path(tmp)
        result, run_s, facts = national_result(args.seed, args.scale, tmp)
        compute_s = sum(result.timings.values())
        print(f"country: {facts['communes']:,} communes, {facts['villages']:,} villages, "
              f"{facts['cells']:,} cells; {len(result.gaps):,} gaps")
        print(f"machine: {os.cpu_count()} cores")
        print(f"run (reading to plan, no exports): {run_s:.1f} s")
        operators = gap_operators(result)
        old, new = tmp / "old", tmp / "new"
        old.mkdir()
        new.mkdir()
        rows: list[tuple[str, float, float]] = []

        def pair(name: str, before: Callable[[], object], after: Callable[[], object]) -> None:
            a = timed(before)
            cpu_a = LAST_CPU[0]
            b = timed(after)
            rows.append((name, a, b))
            print(f"  {name:<34} old {a:7.1f} s   new {b:7.1f} s   ratio {a / b:5.1f}x"
                  f"   (cpu {cpu_a:.1f} s vs {LAST_CPU[0]:.1f} s: {cpu_a / LAST_CPU[0]:.1f}x)",
                  flush=True)

        print("\nexports, one at a time (old writer vs today's):")
        n = result.config.output.report_gaps_per_commune
        if args.skip_old_workbooks:
            for name, fn in (
                    ("report.xlsx, every gap listed", lambda: write_report(
                        result, new / "report-all.xlsx", gaps_per_commune=0)),
                    (f"report.xlsx, {n} gaps per commune", lambda: write_report(
                        result, new / "report.xlsx")),
                    ("lists.xlsx", lambda: write_lists(result, new / "lists.xlsx",
                                                       operators=operators))):
                b = timed(fn)
                rows.append((name, float("nan"), b))
                print(f"  {name:<34} old (not run)   new {b:7.1f} s   (cpu "
                      f"{LAST_CPU[0]:.1f} s)", flush=True)
        else:
            pair("report.xlsx, every gap listed",
                 lambda: legacy_excel.write_report(result, old / "report.xlsx"),
                 lambda: write_report(result, new / "report-all.xlsx", gaps_per_commune=0))
            b = timed(lambda: write_report(result, new / "report.xlsx"))
            a = rows[-1][1]
            rows.append((f"report.xlsx, {n} gaps per commune", a, b))
            print(f"  {rows[-1][0]:<34} old {a:7.1f} s   new {b:7.1f} s   ratio "
                  f"{a / b:5.1f}x (today's default; the old report listed every gap)")
            pair("lists.xlsx",
                 lambda: legacy_excel.write_lists(result, old / "lists.xlsx",
                                                  operators=operators),
                 lambda: write_lists(result, new / "lists.xlsx", operators=operators))

        fast = csv_module.csv_text

        def pandas_csvs() -> None:
            csv_module.csv_text = lambda cells, **_: None  # every table through pandas' writer
            try:
                rundir.write_tables(result, old)
            finally:
                csv_module.csv_text = fast

        pair("CSVs (write_tables)", pandas_csvs, lambda: rundir.write_tables(result, new))
        csvs = sorted(p.name for p in new.glob("*.csv"))
        same = all((old / f).read_bytes() == (new / f).read_bytes() for f in csvs)
        print(f"  {len(csvs)} CSV files, byte for byte the same: {same}")

        shared = {
            "results.gpkg": lambda: write_geopackage(result, new / "results.gpkg"),
            "plots/": lambda: write_plots(result, new / "plots"),
            "maps (map.html, maps/)": lambda: rundir._write_maps(result, new),
            "appendix.docx, figures/": lambda: write_documents(
                new, language=result.config.output.language, record=result.manifest()),
        }
        print("\nexports written by the same code both times:")
        same_s = {}
        for name, fn in shared.items():
            same_s[name] = timed(fn)
            print(f"  {name:<34} {same_s[name]:7.1f} s   (cpu {LAST_CPU[0]:.1f} s)",
                  flush=True)

        serial_old = sum(a for name, a, _ in rows if "gaps per commune" not in name) + sum(
            same_s.values())
        print("\nall exports, as write_run writes them:")
        ran_old = serial_old == serial_old  # NaN: the old workbooks were not timed
        print("  old writers, one after the other (sum of the above): " + (
            f"{serial_old:7.1f} s" if ran_old else "not run (--skip-old-workbooks)"))
        serial_new = timed(lambda: rundir.write_run(result, tmp / "run-serial",
                                                    parallel=False))
        print(f"  today's writers, one after the other (write_run):    {serial_new:7.1f} s"
              f"   (cpu {LAST_CPU[0]:.1f} s)")
        parallel_new = timed(lambda: rundir.write_run(result, tmp / "run", parallel=True))
        print(f"  today's writers, maps in a forked child (write_run): {parallel_new:7.1f} s"
              f"   (cpu {LAST_CPU[0]:.1f} s, both processes)" + (
                  f"   ratio to the old {serial_old / parallel_new:4.1f}x" if ran_old else ""))

        total = compute_s + parallel_new
        share = parallel_new / total
        before = compute_s + serial_old
        print(f"\nrun stages {compute_s:.1f} s + exports {parallel_new:.1f} s = {total:.1f} s "
              f"(exports {100 * share:.0f}%)" + (
                  f"; with the old exports {before:.1f} s (exports "
                  f"{100 * serial_old / before:.0f}%)" if ran_old else ""))
        share_ok, total_ok = share <= TARGET_SHARE, total <= TARGET_RUN_S
        verdict = "met" if share_ok and total_ok else (
            f"exports share {'met' if share_ok else 'MISSED'}, run total "
            f"{'met' if total_ok else 'MISSED (whole run: bench_national.py)'}")
        faster = (f", {serial_old / parallel_new:.1f}x faster than the old {serial_old:.1f} s"
                  if ran_old else "")
        print(f"VERDICT exports: {parallel_new:.1f} s, {100 * share:.0f}% of a {total:.1f} s "
              f"run{faster} "
              f"(target: national run <= {TARGET_RUN_S:.0f} s total with exports <= "
              f"{100 * TARGET_SHARE:.0f}% of it): {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
