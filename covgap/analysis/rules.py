"""The coverage rule as people read it: one function writes the sentence.

The rule itself is applied once, by the analysis (:mod:`covgap.analysis.shares`,
:mod:`covgap.analysis.fibre`); the report, the GeoPackage, the charts and the map all
explain it with :func:`rule_text`, so they can never disagree.  The signal threshold a
run applied is the one its :class:`~covgap.coverage.Coverage` was computed with:
:func:`min_rsrp_dbm` is the one place that falls back to the configuration when there
is no coverage yet.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal, overload

if TYPE_CHECKING:
    from covgap.config import Config
    from covgap.coverage import Coverage

__all__ = ["SHARE_BASES", "min_rsrp_dbm", "rule_text"]

#: How a village's covered share is measured (``share_basis`` of villages.csv), in the
#: order the map names them.
SHARE_BASES: tuple[str, ...] = ("population", "area", "point")


def min_rsrp_dbm(config: Config, coverage: Coverage | None = None) -> float:
    """Return the signal threshold of a run, dBm: its coverage's, else the configuration's.

    Parameters
    ----------
    config : Config
        The run's configuration.
    coverage : Coverage, optional
        The run's coverage; it carries the threshold it was computed with.

    Returns
    -------
    float

    Examples
    --------
    >>> from covgap.config import Config
    >>> min_rsrp_dbm(Config())
    -110.0
    """
    if coverage is not None:
        return coverage.min_rsrp_dbm
    return config.coverage.min_rsrp_dbm


@overload
def rule_text(config: Config, coverage: Coverage | None = None, *,
              form: Literal["line"] = "line") -> str: ...


@overload
def rule_text(config: Config, coverage: Coverage | None = None, *, form: Literal["map"],
              technologies: Sequence[str], bases: Sequence[str]) -> tuple[str, str, str]: ...


def rule_text(config: Config, coverage: Coverage | None = None, *,
              form: Literal["line", "map"] = "line", technologies: Sequence[str] = (),
              bases: Sequence[str] = ()) -> str | tuple[str, str, str]:
    """Return the rule that makes a village covered and FTTH-ready, for people.

    Parameters
    ----------
    config : Config
        The run's configuration.
    coverage : Coverage, optional
        The run's coverage: its model and signal threshold are the ones applied.
    form : {"line", "map"}
        ``"line"``: one English line for the report, the GeoPackage's layer
        descriptions and the charts (numbers as Python prints them).  ``"map"``: the
        map title's bilingual parts, numbers written the Vietnamese way (1.234,5).
    technologies : sequence of str
        ``form="map"``: the technologies counted, in the map's order.
    bases : sequence of str
        ``form="map"``: the share bases present among the villages (``share_basis``).

    Returns
    -------
    str or tuple of str
        The line; for ``form="map"`` (signal, where in Vietnamese, where in English).

    Examples
    --------
    >>> from covgap.config import Config
    >>> print(rule_text(Config()))  # doctest: +NORMALIZE_WHITESPACE
    covered = 4G/5G within the service radius (4G 5000 m, 5G 1000 m) (radius model) over
    at least 80% of a village's people or area; FTTH = fibre within 1000 m
    >>> rule_text(Config(), form="map", technologies=["4G"], bases=["area"])
    ('4G trong bán kính phục vụ / within the service radius (4G 5,0 km)', \
'trên ≥ 80% diện tích', 'over ≥ 80% of the area')
    """
    cc, rules = config.coverage, config.rules
    model = coverage.model if coverage is not None else cc.model
    dbm = min_rsrp_dbm(config, coverage)
    if form == "map":
        techs = "/".join(technologies)
        if model == "radius":
            radii = ", ".join(f"{t} {_vi(cc.radius_m[t] / 1000, 1)} km"
                              for t in technologies if t in cc.radius_m)
            signal = (f"{techs} trong bán kính phục vụ / within the service radius "
                      f"({radii})")
        elif model == "raster" and cc.maps_unit == "binary":
            signal = (f"{techs} trong bản đồ phủ sóng của nhà mạng / in the operators' "
                      "coverage maps")
        else:
            signal = f"{techs} ≥ {_vi(dbm)} dBm"
        present = [b for b in SHARE_BASES if b in set(bases)] or ["population"]
        pct = _vi(rules.village_covered_share * 100)
        vi = {"population": f"trên ≥ {pct}% dân số", "area": f"trên ≥ {pct}% diện tích",
              "point": "tại điểm thôn"}
        en = {"population": f"over ≥ {pct}% of the people",
              "area": f"over ≥ {pct}% of the area", "point": "at the village point"}
        return (signal, " hoặc ".join(vi[b] for b in present),
                " or ".join(en[b] for b in present))
    if form != "line":
        raise ValueError(f"form={form!r}; valid values: 'line', 'map'")
    techs = "/".join(cc.technologies)
    if model == "radius":
        radii = ", ".join(f"{t} {_num(cc.radius_m[t])} m" for t in cc.technologies
                          if t in cc.radius_m)
        signal = f"within the service radius ({radii})"
        if cc.radius_urban_m:
            urban = ", ".join(f"{t} {_num(r)} m" for t, r in cc.radius_urban_m.items())
            signal += f", urban {urban}"
    elif model == "raster" and cc.maps_unit == "binary":
        signal = "inside the operators' coverage maps"
    else:
        signal = f"signal >= {_num(dbm)} dBm"
    text = (f"covered = {techs} {signal} ({model} model) over at least "
            f"{_num(100 * rules.village_covered_share)}% of a village's people or area")
    if rules.village_point_radius_m > 0:
        text += f" (point villages: a disc of {_num(rules.village_point_radius_m)} m)"
    return f"{text}; FTTH = fibre within {_num(rules.ftth_max_distance_m)} m"


def _num(value: float) -> str:
    return f"{value:g}"


def _vi(value: float, digits: int = 0) -> str:
    """Write a number the Vietnamese way, as the map writes every number (1.234,5; −110)."""
    text = f"{value:,.{digits}f}".replace(",", " ").replace(".", ",").replace(" ", ".")
    return text.replace("-", "−")
