"""The column-wise CSV writer (issue 15) writes exactly what pandas' ``to_csv`` wrote."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from covgap.export.csv import csv_text, write_csv

HOSTILE = ['=HYPERLINK("http://x")', "a,b", 'say "hi"', "line\nbreak", "cr\rx", "crlf\r\n",
           "  spaced ", "", "Thôn Đông", "-3", "\t=tab", "@x", "#N/A", '"', ",", None]


def _pandas_bytes(frame: pd.DataFrame, path) -> bytes:
    """What write_csv wrote before issue 15: pandas' writer on the same cells."""
    from covgap.export import csv as module

    cells = module._cell_values(frame)
    cells.columns = module.safe_headers(cells.columns)
    cells.to_csv(path, index=False, encoding="utf-8-sig", lineterminator="\r\n",
                 float_format="%.10g")
    return path.read_bytes()


def _frame(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    floats = rng.normal(0, 1e4, n) * rng.choice([1, 1e-12, 1e12], n)
    floats[rng.random(n) < 0.2] = np.nan
    floats[:4] = [np.inf, -np.inf, -0.0, 1 / 3]
    return pd.DataFrame({
        "village_id": [f"V{i:05d}" for i in range(n)],
        "name": rng.choice(np.array(HOSTILE, dtype=object), n),
        "text": pd.array(rng.choice(np.array(HOSTILE, dtype=object), n), dtype="string"),
        "population": rng.integers(-5, 10**12, n),
        "small": rng.integers(0, 200, n).astype(np.uint8),
        "share": floats,
        "f32": floats.astype(np.float32),
        "flag": rng.random(n) < 0.5,
        "maybe": pd.array(np.where(rng.random(n) < 0.3, None, rng.random(n) < 0.5),
                          dtype="boolean"),
        "objflag": pd.Series(np.where(rng.random(n) < 0.3, None, rng.random(n) < 0.5),
                             dtype=object),
        "count": pd.array(np.where(rng.random(n) < 0.3, None, rng.integers(0, 9, n)),
                          dtype="Int64"),
        "mixed": pd.Series([1, "a", 2.5, None] * (n // 4) + [None] * (n % 4), dtype=object),
        "empty": pd.Series([None] * n, dtype=object),
        "nan_text": pd.Series(["x", np.nan, pd.NA, "=y"] * (n // 4) + ["z"] * (n % 4),
                              dtype=object),
        "cat": pd.Categorical(rng.choice(["a", "=b", "c,d"], n)),
        "when": pd.date_range("2025-01-01", periods=n, freq="h"),
        'a,"b"\n=c': ["x"] * n,
    })


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_csv_bytes_are_pandas(tmp_path, seed):

    frame = _frame(400, seed)
    assert csv_text(frame) is not None  # the column-wise path
    assert write_csv(frame, tmp_path / "n.csv").read_bytes() == _pandas_bytes(
        frame, tmp_path / "o.csv")


def test_csv_bytes_of_edge_tables(tmp_path):
    for frame in (pd.DataFrame({"a": [], "b": []}),
                  pd.DataFrame({"a": ["", None]}),  # one column: pandas quotes ""
                  pd.DataFrame({"a": [1.5, np.nan], "b": pd.array([0.1, None],
                                                                   dtype="Float64")}),
                  pd.DataFrame({3: ["x"], "=b": ["y"]})):
        assert write_csv(frame, tmp_path / "n.csv").read_bytes() == _pandas_bytes(
            frame, tmp_path / "o.csv")


def test_csv_text_quotes_what_excel_needs():
    cells = pd.DataFrame({"a": pd.array(['x,y', 'q"q', "l\nm", None], dtype="string"),
                          "b": [1.0, np.nan, 2.5e-11, 1e16]})
    assert csv_text(cells) == ('a,b\r\n"x,y",1\r\n"q""q",\r\n"l\nm",2.5e-11\r\n'
                               ',1e+16\r\n')
    assert csv_text(pd.DataFrame({"a": [1]})) is None  # one column: pandas' own writer


def test_repeated_floats_are_formatted_once_and_written_as_pandas_does(tmp_path):
    # the dedup path (no -0.0 in the column): repeats, NaN, infinities, 0.0 and float32
    rng = np.random.default_rng(7)
    values = rng.choice([0.0, 0.5, 1 / 3, 1e16, 2.5e-11, np.nan, np.inf, -np.inf, 1234.5], 500)
    frame = pd.DataFrame({"a": values, "b": values.astype(np.float32),
                          "c": rng.choice(["x", "y,z"], 500)})
    text = csv_text(frame)
    assert text is not None and "0.3333333333" in text and "-inf" in text
    assert write_csv(frame, tmp_path / "n.csv").read_bytes() == _pandas_bytes(
        frame, tmp_path / "o.csv")


def test_writing_a_table_leaves_it_as_it_was(tmp_path):
    # pandas 3.1 hands back a StringArray's own array from to_numpy(copy=True) (here: an
    # unpickled one, as a cached run is); quoting it in place double-quoted the fix texts
    # of every later gap file, workbook and the GeoPackage
    import pickle

    frame = pickle.loads(pickle.dumps(pd.DataFrame({
        "fix": pd.array(["Viettel: new site (of Viettel, 6.2 km)", "=x", None], dtype="string"),
        "n": [1, 2, 3]})))
    before = frame["fix"].tolist()
    first = write_csv(frame, tmp_path / "a.csv").read_bytes()
    assert frame["fix"].tolist() == before
    assert write_csv(frame, tmp_path / "b.csv").read_bytes() == first
    assert b'"Viettel: new site (of Viettel, 6.2 km)"' in first


@pytest.mark.parametrize("language", ["en", "vi"])
def test_tables_drawn_from_a_base_reuse_its_fields_and_write_the_same_bytes(tmp_path, language):
    # gaps_all.csv and the operators' files are written with the gaps' CsvFields: rows
    # taken out of order, columns changed, blanked, added or retyped, must not matter
    from covgap.export.csv import CsvFields

    rng = np.random.default_rng(5)
    base = _frame(400, 3).drop(columns=["cat", "when"])  # pandas' own types: no fields
    base["reason"] = pd.array(rng.choice(["lõm sóng: no 4G/5G signal", "partly covered",
                                          None], len(base)), dtype="string")
    base.index = pd.RangeIndex(len(base)) * 3 + 7  # positions are not labels
    like = CsvFields(base, language)
    rows = rng.permutation(base.index.to_numpy())[:250]
    drawn = base.loc[rows].copy()
    drawn["text"] = drawn["text"].where(rng.random(len(drawn)) < 0.5)  # blanked part
    drawn["share"] = drawn["share"] * 2  # the same type, other values
    drawn["small"] = drawn["small"].astype(np.int64)  # the same values, another type
    drawn["registered_operator"] = pd.Series(pd.NA, index=drawn.index, dtype="string")
    for table in (base, base.iloc[::-1], drawn, base.loc[rows[:1]]):
        want = write_csv(table, tmp_path / "plain.csv", language=language).read_bytes()
        got = write_csv(table, tmp_path / "like.csv", language=language,
                        like=like).read_bytes()
        assert got == want
    # the fields were really shared: one column's fields made once, then taken
    assert len(like._made) >= 5  # (the Vietnamese file names the columns its own way)
    # another language's fields are never used
    other = CsvFields(base, "vi" if language == "en" else "en")
    assert write_csv(drawn, tmp_path / "o.csv", language=language, like=other
                     ).read_bytes() == write_csv(drawn, tmp_path / "p.csv",
                                                 language=language).read_bytes()
