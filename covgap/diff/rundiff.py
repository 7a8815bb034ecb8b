"""The diff of two run directories: :class:`RunDiff` and :func:`diff_runs`.

:func:`diff_runs` reads both runs (:mod:`covgap.diff.runs`), matches their villages
(:mod:`covgap.diff.match`), builds the commune crosswalk (:mod:`covgap.diff.crosswalk`)
and the tables (:mod:`covgap.diff.tables`); :meth:`RunDiff.write` writes them with the
change map (:mod:`covgap.diff.changemap`).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import logging
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import folium
import pandas as pd

from covgap._version import __version__
from covgap.diff.changemap import change_map
from covgap.diff.crosswalk import commune_crosswalk
from covgap.diff.match import MATCH_DISTANCE_M, match_villages
from covgap.diff.runs import Run, coverage_rule, read_run
from covgap.diff.tables import (
    CHANGES,
    commune_table,
    indicator_rows,
    operator_table,
    place_removed,
    village_table,
)
from covgap.errors import InputWarning
from covgap.export.csv import write_csv
from covgap.export.names import operator_part
from covgap.export.rundir import manifest_json, write_atomic

__all__ = ["RunDiff", "diff_runs"]

log = logging.getLogger(__name__)


@dataclass
class RunDiff:
    """What changed between two run directories (:func:`diff_runs`).

    Attributes
    ----------
    run_a, run_b : Path
        The earlier and the later run directory.
    indicators : DataFrame
        ``level, code, name, indicator, value_a, value_b, delta, target, met_a, met_b,
        unit, source, value_a_basis``: the province's indicators as each run reported
        them, and the village-based indicators per commune of B, A's recomputed on B's
        communes (``value_a_basis`` "recomputed").  ``target`` is B's (A's when B has
        none); ``met_a`` holds A's value against it.  ``delta`` is B - A (percentage
        points, or a count for ``usp_villages``).
    villages : DataFrame
        One row per village of either year: ``village_id`` (B's, else A's),
        ``village_id_a``, ``village_name``, ``commune_code`` (B's commune; for a village
        gone in B, the one it lies in) and ``commune_code_a``, ``commune_name`` (B),
        ``change`` (one of :data:`CHANGES`), ``status_a/b``, ``mbb_share_a/b``,
        ``ftth_a/b``, ``gap_a/b`` (lõm sóng or no FTTH), ``operators_a/b``,
        ``population``, ``matched_by`` ("id", "location"; empty for a village of one
        year), ``distance_m`` between the two years' points, ``lon``, ``lat`` (WGS84).
    communes : DataFrame
        One row per commune of B: ``commune_code, commune_name, region``, ``codes_a``
        (its communes in A, ";"-separated), ``villages_a/b``, ``villages_mbb_a/b``
        (covered), ``population_a/b``, the villages in each change class (``newly_covered``,
        ``newly_lost``, ``still_lom_song``, ``new_gaps``, ``gaps_closed``, ``unchanged``,
        ``new_villages``, ``removed_villages``), ``gaps_a/b`` and, for every
        :data:`VILLAGE_INDICATORS` id, ``<id>_a`` (recomputed), ``<id>_b`` and
        ``<id>_delta``.
    operators : DataFrame
        ``operator, villages_covered_a/b, newly_covers, newly_lost`` (villages found in
        both years whose ``operators`` list gained or lost the operator) and
        ``gaps_a/b/delta`` (rows of ``gaps_<operator>.csv``).
    crosswalk : DataFrame
        ``code_a, name_a, code_b, name_b, weight, method``: weight is the share of A's
        commune's area in B's commune (method "overlay"), the table's weight ("table";
        empty when the table gives none for a split), 1 ("identity"), or the share of
        A's commune's villages ("villages").
    notes : list of str
        Differences between the two runs' coverage rules: such changes come from the
        rule, not the network.
    """

    run_a: Path
    run_b: Path
    indicators: pd.DataFrame
    villages: pd.DataFrame
    communes: pd.DataFrame
    operators: pd.DataFrame
    crosswalk: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    _a: Run | None = field(default=None, repr=False)
    _b: Run | None = field(default=None, repr=False)
    match_distance_m: float = MATCH_DISTANCE_M

    @property
    def label(self) -> str:
        """The two years as the map's title says them: ``"2024 → 2025"``."""
        a, b = self._a, self._b
        return f"{a.label if a else self.run_a.name} → {b.label if b else self.run_b.name}"

    def change_counts(self) -> pd.Series:
        """Villages per change class, in :data:`CHANGES` order (zeros included)."""
        return self.villages["change"].value_counts().reindex(list(CHANGES), fill_value=0)

    def default_dir(self) -> Path:
        """``<parent of run B>/diff-<year A>-<year B>``: beside the run directories."""
        a = self._a.label if self._a else self.run_a.name
        b = self._b.label if self._b else self.run_b.name
        a, b = operator_part(a), operator_part(b)
        return self.run_b.parent / f"diff-{a}-{b}"

    def record(self) -> dict[str, Any]:
        """Return what ``diff.json`` holds: the runs, their rules, the method and counts."""

        def run(r: Run | None, path: Path) -> dict:
            if r is None:
                return {"path": str(path)}
            text = (r.path / "manifest.json").read_bytes()
            return {"path": str(r.path), "name": r.name, "year": r.year,
                    "covgap_version": r.manifest.get("covgap_version"),
                    "manifest_sha256": hashlib.sha256(text).hexdigest(),
                    "rule": coverage_rule(r.manifest)}

        methods = sorted(set(self.crosswalk["method"])) if len(self.crosswalk) else []
        return {"covgap_version": __version__,
                "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
                "run_a": run(self._a, self.run_a), "run_b": run(self._b, self.run_b),
                "crosswalk_method": methods[0] if len(methods) == 1 else methods,
                "match_distance_m": self.match_distance_m,
                "villages_matched_by": self.villages["matched_by"].value_counts().to_dict(),
                "changes": {k: int(v) for k, v in self.change_counts().items()},
                "notes": self.notes}

    def write(self, directory: str | Path | None = None, *, force: bool = False) -> Path:
        """Write the diff's tables and change map into a new directory, atomically.

        Files: ``diff_indicators.csv``, ``diff_villages.csv``, ``diff_communes.csv``,
        ``diff_operators.csv``, ``crosswalk.csv`` (Excel-safe CSVs like a run's),
        ``change_map.html`` (offline) and ``diff.json`` (the record).

        Parameters
        ----------
        directory : str or Path, optional
            Default: :meth:`default_dir`.
        force : bool
            Replace an existing directory (removed only once the new one is complete).

        Returns
        -------
        Path
            The directory written.

        Raises
        ------
        RunExistsError
            The directory exists and ``force`` is false.

        Examples
        --------
        >>> diff_runs("out/tinh-mau/2024", "out/tinh-mau/2025").write()  # doctest: +SKIP
        PosixPath('out/tinh-mau/diff-2024-2025')
        """
        target = Path(directory) if directory is not None else self.default_dir()

        def write(folder: Path) -> None:
            write_csv(self.indicators, folder / "diff_indicators.csv")
            write_csv(self.villages, folder / "diff_villages.csv")
            write_csv(self.communes, folder / "diff_communes.csv")
            write_csv(self.operators, folder / "diff_operators.csv")
            write_csv(self.crosswalk, folder / "crosswalk.csv")
            (folder / "change_map.html").write_text(self.map().get_root().render(),
                                                     encoding="utf-8")
            # strict JSON (NaN as null), and the record that marks the folder as a diff
            (folder / "diff.json").write_text(manifest_json(self.record()), encoding="utf-8")

        write_atomic(target, write, force=force, record=("diff.json",))
        return target

    def map(self, *, simplify_m: float = 50.0) -> folium.Map:
        """Return the change map: villages coloured by change over B's communes.

        One self-contained page like ``map.html`` (Leaflet and covgap's scripts are
        inlined, the default background needs no tiles); every name is HTML-escaped.

        Parameters
        ----------
        simplify_m : float
            Simplification of commune boundaries, metres in B's metric CRS.

        Returns
        -------
        folium.Map
        """
        return change_map(self, self._a, self._b, simplify_m=simplify_m)


def diff_runs(run_a: str | Path, run_b: str | Path, *,
              crosswalk: str | Path | pd.DataFrame | None = None,
              match_distance_m: float = MATCH_DISTANCE_M) -> RunDiff:
    """Compare two run directories of a province: year A, then year B.

    Parameters
    ----------
    run_a, run_b : str or Path
        Run directories written by :meth:`covgap.Result.write` (``covgap run``).
    crosswalk : str, Path or DataFrame, optional
        Old to new commune codes: a CSV (or table) with columns ``code_a``, ``code_b``
        and optionally ``weight`` (share of A's commune in B's, 0-1).  Rows of communes
        not in A are ignored, so a national table can be given.  Without it: the
        identity when both runs have the same commune codes, else an area-weighted
        overlay of the two years' commune polygons, else (no polygons) the matched
        villages.
    match_distance_m : float
        Villages whose ids are not in the other year are matched by location, one to
        one, nearest first, within this distance, metres (0: by id only).

    Returns
    -------
    RunDiff
        Its tables; :meth:`RunDiff.write` writes them with the change map.

    Raises
    ------
    InputError
        A folder that is not a run directory (the missing files are named), a table in
        it that cannot be read, or a crosswalk that does not fit the runs.

    Examples
    --------
    >>> d = diff_runs("out/tinh-mau/2024", "out/tinh-mau/2025")  # doctest: +SKIP
    >>> d.villages.query("change == 'newly covered'")  # doctest: +SKIP
    >>> d.write("out/tinh-mau/diff-2024-2025")  # doctest: +SKIP
    """
    a = read_run(run_a, "A")
    b = read_run(run_b, "B")
    notes = _notes(a, b)
    for note in notes:
        warnings.warn(note, InputWarning, stacklevel=2)
    pairs = match_villages(a.villages, b.villages, b.metric_crs, max_m=match_distance_m)
    cross = commune_crosswalk(a, b, pairs, crosswalk)
    villages = village_table(a, b, pairs)
    code_b_of_a = _place_villages(villages, a, b, pairs, cross)
    if (cross["method"] == "table").any():
        _check_table_links(villages, cross)
    unplaced = int(code_b_of_a.isna().sum())
    if unplaced:
        log.warning("%d village(s) of A are in no commune of B; they count in A's province "
                    "figures only", unplaced)
    communes = commune_table(a, b, villages, code_b_of_a, cross)
    indicators = indicator_rows(a, b, communes)
    operators = operator_table(a, b, villages)
    return RunDiff(run_a=a.path, run_b=b.path, indicators=indicators, villages=villages,
                   communes=communes, operators=operators, crosswalk=cross, notes=notes,
                   _a=a, _b=b, match_distance_m=match_distance_m)


def _notes(a: Run, b: Run) -> list[str]:
    """Differences between the runs' coverage rules, and runs given in the wrong order."""
    rule_a = coverage_rule(a.manifest)
    notes = [f"{k} differs: A {rule_a[k]!r}, B {vb!r}; changes may come from the rule, not "
             "the network" for k, vb in coverage_rule(b.manifest).items() if rule_a[k] != vb]
    try:
        if int(a.year) > int(b.year):
            notes.append(f"run A is of {a.year}, later than run B ({b.year}): give the "
                         "earlier run first")
    except (TypeError, ValueError):  # a run without a year: nothing to compare
        pass
    return notes


def _place_villages(villages: pd.DataFrame, a: Run, b: Run, pairs: pd.DataFrame,
                    cross: pd.DataFrame) -> pd.Series:
    """Put every village in B's communes; return B's commune of each village of A.

    By the match, else (gone in B) by its place; ``villages`` gets B's commune code
    and name in place.
    """
    placed = place_removed(villages, b, cross)
    villages["commune_code"] = placed.astype("string")
    villages["commune_name"] = placed.map(
        b.communes.set_index("commune_code")["commune_name"]).astype("string")
    code_b_of_a = pd.Series(pd.NA, index=a.villages.index, dtype="string")
    has_a = (pairs["ia"] >= 0).to_numpy()
    code_b_of_a.iloc[pairs.loc[has_a, "ia"].to_numpy()] = placed[has_a].to_numpy()
    return code_b_of_a


def _check_table_links(villages: pd.DataFrame, cross: pd.DataFrame) -> None:
    """Warn when matched villages moved between communes an explicit table does not link."""
    links = set(zip(cross["code_a"], cross["code_b"], strict=True))
    both = villages[villages["matched_by"].notna()
                    & villages["commune_code_a"].notna() & villages["commune_code"].notna()]
    off = [(x, y) not in links for x, y in
           zip(both["commune_code_a"], both["commune_code"], strict=True)]
    if any(off):
        warnings.warn(
            f"{sum(off)} matched village(s) moved between communes the crosswalk does "
            f"not link (first: {both.loc[off, 'village_id'].iloc[0]}); A's indicators "
            "follow the villages, not the table", InputWarning, stacklevel=3)
