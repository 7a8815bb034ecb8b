"""The ``covgap`` command: parse, call the library, print, set the exit code.

Exit status (SPEC.md): 0 success; 1 bad input or configuration (the message names the
file, the feature or row and the problem; no traceback); 2 wrong usage.
"""

from __future__ import annotations

import logging
import os
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from covgap._version import __version__
from covgap.errors import CovgapError
from covgap.export.messages import msg

if TYPE_CHECKING:
    from covgap.progress import Progress
    from covgap.result import Result

__all__ = ["app", "main"]


app = typer.Typer(
    name="covgap",
    help=(
        "Find where mobile and fibre networks still leave villages out (lõm sóng), "
        "compute the plan's indicators and write maps and gap lists.\n\n"
        "Example:  covgap validate data/sample.toml"
    ),
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)


def say(text: str) -> None:
    """Print plain text to stdout: no markup, no wrapping (paths stay copyable)."""
    out.print(text, markup=False, soft_wrap=True)


def complain(text: str) -> None:
    """Print plain text to stderr: no markup, no wrapping."""
    err.print(text, markup=False, soft_wrap=True)

ConfigArg = Annotated[Path, typer.Argument(
    help="The run configuration (TOML); relative paths in it are resolved against its folder.",
    show_default=False)]
OutOpt = Annotated[Path | None, typer.Option(
    "--out", help="Write the run directory here instead of <output.dir>/<name>/<year>.")]
ForceOpt = Annotated[bool, typer.Option(
    "--force", help="Replace an existing run directory (never done without it); a folder "
    "that is not a covgap run directory is never replaced.")]
QuietOpt = Annotated[bool, typer.Option(
    "--quiet", "-q", help="No progress display; errors are still printed.")]
OnlyOpt = Annotated[str | None, typer.Option(
    "--only", help="Stop after this stage: inputs or coverage (to iterate on the data or "
    "the coverage settings); the run directory holds what was computed.")]
RecomputeOpt = Annotated[bool, typer.Option(
    "--recompute", help="Recompute the coverage even when an earlier run's can be reused "
    "(same covgap version, [coverage] settings and input files).")]


def _version(value: bool) -> None:
    if value:
        say(f"covgap {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: Annotated[bool, typer.Option(
        "--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Find where mobile and fibre networks still leave villages out."""


@contextmanager
def _guard() -> Iterator[None]:
    """Turn covgap's errors into a message and exit 1; never show a traceback for them."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # shown by the commands from the run record
            yield
    except CovgapError as exc:
        complain(f"covgap: {exc}")
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        complain("covgap: interrupted; nothing was written")
        raise typer.Exit(130) from None
    except (typer.Exit, typer.Abort):
        raise
    except Exception as exc:
        if os.environ.get("COVGAP_DEBUG"):
            raise
        complain(
            f"covgap: unexpected error ({type(exc).__name__}: {exc}). This is a bug in "
            "covgap, not in your data; rerun with COVGAP_DEBUG=1 for the traceback and "
            "report it.")
        raise typer.Exit(1) from None


@contextmanager
def _progress(quiet: bool, *, threadless: bool = False) -> Iterator[Progress | None]:
    """Show a progress bar per stage on a terminal; nothing in CI logs, pipes or --quiet.

    ``threadless``: the display is redrawn only when a stage reports, by no refresh
    thread, and leaves stdout and stderr alone, so the run's writers can still fork
    (:func:`covgap.export.fork.can_fork`) while it shows.
    """
    if quiet or not err.is_terminal:
        yield None
        return
    columns = (SpinnerColumn(), TextColumn("{task.description:<10}"), BarColumn(),
               MofNCompleteColumn(), TimeElapsedColumn())
    options = ({"auto_refresh": False, "redirect_stdout": False, "redirect_stderr": False}
               if threadless else {})
    with Progress(*columns, console=err, transient=False, **options) as bar:
        tasks: dict[str, TaskID] = {}

        def update(stage: str, done: int, total: int | None) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=done, total=total)
            if threadless:
                bar.refresh()

        yield update


def _print_inputs(result_inputs: object, config_path: Path) -> None:
    from covgap.io import Inputs

    assert isinstance(result_inputs, Inputs)
    ins = result_inputs
    table = Table(title=f"Inputs of {config_path}", show_lines=False)
    table.add_column("layer")
    table.add_column("features / cells", justify="right")
    table.add_column("notes")
    villages = ins.villages
    pop = villages["population"].sum()
    table.add_row("communes", f"{len(ins.communes):,}",
                  f"region III: {int((ins.communes['region'] == 'III').sum())}")
    table.add_row("villages", f"{len(villages):,}",
                  f"population {pop:,.0f}; ĐBKK: {int(villages['difficult'].sum())}")
    ops = ", ".join(f"{k} {v}" for k, v in ins.sites["operator"].value_counts().items())
    table.add_row("sites (cells)", f"{len(ins.sites):,}", ops)
    if ins.fibre is not None:
        kinds = ins.fibre["kind"].value_counts()
        table.add_row("fibre", f"{len(ins.fibre):,}",
                      f"routes {kinds.get('route', 0)}, nodes {kinds.get('node', 0)}")
    for r in (ins.dem, ins.population):
        if r is not None:
            note = f"{r.kind}, {r.crs.name}"
            if r.total is not None:
                note += f", total {r.total:,.0f} people"
            table.add_row(r.kind, f"{r.width * r.height:,}", note)
    out.print(table)
    say(f"metric CRS: {ins.metric_crs.name}")
    for w in ins.warnings:
        complain(f"warning: {w}")


@app.command()
def validate(config: ConfigArg) -> None:
    """Read and check the inputs only; list every problem found.

    Exits 0 when the inputs are usable, 1 with every problem listed (file, row or
    feature id, problem and fix) when they are not.

    Example:  covgap validate data/sample.toml
    """
    from covgap.io import read_inputs

    with _guard():
        inputs = read_inputs(config)
        _print_inputs(inputs, config)
        say("inputs OK")


def _run_and_write(config: Path, out_dir: Path | None, force: bool, quiet: bool,
                   only: str | None = None, recompute: bool = False) -> None:
    from covgap.pipeline import ONLY
    from covgap.pipeline import run as run_pipeline

    if only is not None and only not in ONLY:
        raise typer.BadParameter(f"{only!r} is not one of {', '.join(ONLY)}",
                                 param_hint="--only")
    with _guard():
        from covgap.config import load_config
        from covgap.export.rundir import check_writable
        cfg = load_config(config)
        planned = out_dir if out_dir is not None else cfg.run_dir()
        # say so now, not after a minute of work: exists, not a run, read-only, full
        check_writable(planned, force=force, record=("manifest.json",))
        with _progress(quiet) as progress:
            result = run_pipeline(cfg, progress=progress, only=only,
                                  reuse_coverage=not recompute)
        with _progress(quiet, threadless=True) as progress:
            target = result.write(out_dir, force=force, progress=progress)
        if not quiet:
            _print_inputs(result.inputs, config)
            _print_indicators(result)
        lang = result.config.output.language
        say(f"{msg('cli.run_dir', lang)}: {target}")
        for name in ("map.html", "villages.csv", "gaps.csv", "candidates.csv", "indicators.csv",
                     "disputes.csv", "calibration.csv", "speeds.csv", "report.xlsx",
                     "appendix.docx", "figures/", "results.gpkg", "manifest.json"):
            what = msg(f"cli.{name}", lang)
            if (target / name).exists():
                say(f"  {name:<15} {what}")
        _say_evidence(result)
        if result.coverage is not None and result.coverage.parameters.get("reused"):
            say(f"  (coverage reused from {result.coverage.parameters['reused']}; "
                "--recompute to compute it again)")
        missing = result.manifest()["stages_not_available"]
        if missing and only:
            say(f"  stages skipped (--only {only}): {', '.join(missing)}")
        elif missing:
            say(f"  not yet available in covgap {__version__}: {', '.join(missing)}")


def _say_evidence(result: Result) -> None:
    """Say what the measured tests found: disputes and the calibration."""
    a = result.analysis
    if a is not None and a.disputes is not None:
        say(f"measurements: {len(a.disputes)} dispute(s) between the tests and the model "
            "(disputes.csv)")
    cal = result.coverage.calibration if result.coverage is not None else None
    if cal is not None:
        applied = "applied" if cal["applied"].any() else "not applied ([coverage] calibrate)"
        for r in cal.itertuples():
            say(f"  calibration {r.operator} {r.technology}: n {r.n}, bias {r.bias_db:+.1f} dB, "
                f"rmse {r.rmse_before_db:.1f} -> {r.rmse_after_db:.1f} dB, cross-validated "
                f"{r.cv_rmse_db:.1f} dB, {applied}")


def _print_indicators(result: Result) -> None:
    """Print the province's indicators against the targets."""
    table = result.indicators
    if table is None:
        return
    lang = result.config.output.language
    rows = table[table["level"] == "province"]
    view = Table(title=msg("cli.indicators", lang), show_lines=False)
    for col in ("indicator", "value", "target", "met"):
        view.add_column(msg(f"col.{col}", lang),
                        justify="left" if col == "indicator" else "right")
    for _, r in rows.iterrows():
        met = "" if r["met"] is None or str(r["met"]) == "<NA>" else (
            msg("doc.yes" if r["met"] else "doc.no", lang))
        target = "" if r["target"] is None or r["target"] != r["target"] else f"{r['target']:g}"
        value = "" if r["value"] != r["value"] else f"{r['value']:g}"
        kind = r.get("kind")
        name = str(r["indicator"]) + (f" ({kind})" if isinstance(kind, str) and kind else "")
        view.add_row(name, value, target, met)
    out.print(view)


@app.command()
def run(config: ConfigArg, out_dir: OutOpt = None, force: ForceOpt = False,
        quiet: QuietOpt = False, only: OnlyOpt = None,
        recompute: RecomputeOpt = False) -> None:
    """Run every stage: inputs, coverage, villages and indicators, candidates, exports.

    Writes villages.csv, gaps.csv, candidates.csv, indicators.csv, map.html,
    report.xlsx, results.gpkg, the coverage rasters and manifest.json into the run
    directory <output.dir>/<run.name>/<run.year>/ (or --out). It is written to a
    temporary folder and moved into place only when complete; an existing run
    directory is never replaced without --force.

    The terrain model's rasters are reused from an earlier run when nothing they
    depend on changed (<output.dir>/.cache/); --recompute forces them.

    Example:  covgap run data/sample.toml --out out/tinh-mau/2025
    """
    _run_and_write(config, out_dir, force, quiet, only, recompute)


def sample_config() -> Path:
    """Return the bundled sample configuration (``data/sample.toml`` of the source tree)."""
    path = Path(__file__).resolve().parent.parent / "data" / "sample.toml"
    if not path.is_file():
        raise CovgapError(
            f"the sample data is not here ({path}); it ships with covgap's source tree: "
            "run `make demo` from a clone")
    return path


@app.command()
def demo(out_dir: OutOpt = None, force: ForceOpt = False, quiet: QuietOpt = False) -> None:
    """Run covgap on the bundled sample province (data/sample.toml).

    Example:  covgap demo --out /tmp/covgap-demo --force
    """
    with _guard():
        config = sample_config()
    _run_and_write(config, out_dir, force, quiet)


RunDirArg = Annotated[Path, typer.Argument(
    help="A run directory written by `covgap run` (<output.dir>/<name>/<year>/).",
    show_default=False)]
LanguageOpt = Annotated[str | None, typer.Option(
    "--language", help="vi or en; default: the run's [output] language.")]


@app.command()
def report(run_dir: RunDirArg, language: LanguageOpt = None) -> None:
    """Rebuild appendix.docx and figures/ of a run directory, without recomputing.

    Reads the run's results.gpkg, indicators.csv and manifest.json. The new files are
    made in a hidden folder and moved into place only when complete, so an
    interrupted rebuild leaves the old ones whole.

    Example:  covgap report out/tinh-mau/2025 --language en
    """
    from covgap.export.documents import rebuild_documents

    with _guard():
        if not run_dir.is_dir():
            raise CovgapError(f"{run_dir} is not a directory: give a run directory written "
                              "by `covgap run`")
        written = rebuild_documents(run_dir, language=language)
        say(f"{run_dir / 'appendix.docx'}")
        say(f"{run_dir / 'figures'}/ ({len(written) - 1} PNG)")
CrosswalkOpt = Annotated[Path | None, typer.Option(
    "--crosswalk", help="CSV of old to new commune codes (code_a, code_b[, weight]); "
    "default: the same codes, else an overlay of the two years' commune polygons.")]
DiffOutOpt = Annotated[Path | None, typer.Option(
    "--out", help="Write the diff here instead of <parent of RUN_DIR_B>/diff-<yearA>-<yearB>.")]


@app.command()
def diff(run_dir_a: RunDirArg, run_dir_b: RunDirArg, out_dir: DiffOutOpt = None,
         crosswalk: CrosswalkOpt = None, force: ForceOpt = False) -> None:
    """Year over year: indicator deltas, villages newly covered or lost, gaps still open.

    Compares two run directories, the earlier year first, and writes diff_indicators.csv,
    diff_villages.csv, diff_communes.csv, diff_operators.csv, crosswalk.csv,
    change_map.html (offline) and diff.json. Villages are matched by village_id, then by
    location (within 200 m). When the commune codes differ (the 2025 merger of communes)
    A's communes are mapped to B's by --crosswalk, else by overlaying the two years'
    commune polygons; A's commune indicators are recomputed on B's communes.

    Example:  covgap diff out/tinh-mau/2024 out/tinh-mau/2025
    """
    from covgap.diff import diff_runs
    from covgap.export.rundir import check_writable

    with _guard():
        if out_dir is not None:  # before reading the runs: exists, not a diff, read-only
            check_writable(out_dir, force=force, record=("diff.json",))
        result = diff_runs(run_dir_a, run_dir_b, crosswalk=crosswalk)
        for note in result.notes:  # _guard silences warnings: say them here
            complain(f"warning: {note}")
        target = result.write(out_dir, force=force)
        rows = result.indicators[result.indicators["level"] == "province"]
        view = Table(title=f"Province indicators {result.label}", show_lines=False)
        for col in ("indicator", "value_a", "value_b", "delta", "target"):
            view.add_column(col, justify="left" if col == "indicator" else "right")
        for _, r in rows.iterrows():
            cells = ["" if r[c] is None or r[c] != r[c] else f"{r[c]:g}"
                     for c in ("value_a", "value_b", "delta", "target")]
            view.add_row(str(r["indicator"]), *cells)
        out.print(view)
        counts = result.change_counts()
        say("villages: " + ", ".join(f"{k} {v}" for k, v in counts.items() if v))
        say(f"diff directory: {target}")


def main() -> None:
    """Entry point of the ``covgap`` console script."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    app(prog_name="covgap")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
