"""The tabular reader on bad input: huge and infinite cells, wrong delimiters and encodings,
a directory as the data file."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from proxyml.errors import DataError, RecipeError
from proxyml.modalities.tabular import TableReaderParams
from proxyml.modalities.tabular.io import TableSampleSet, read_row_numbered_labels, read_table
from proxyml.modalities.tabular.layout import TableLayout
from proxyml.modalities.tabular.preprocessing import check_preprocessing
from proxyml.params import validate_params


def numeric_values(data: TableSampleSet) -> tuple[np.ndarray, np.ndarray]:
    """The standardised numeric values and their missing flags, ``(n, N)`` each."""
    layout = TableLayout.from_spec(data.spec)
    rows = data.raw(range(len(data)))
    return rows[:, : layout.n_numeric], rows[:, layout.n_numeric : 2 * layout.n_numeric]


def ordinary_table(n: int = 40) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame({"id": [f"r{i:02d}" for i in range(n)], "x": rng.normal(10, 2, n).round(3),
                         "y": rng.normal(0, 1, n).round(3)})


# ------------------------------------------------------------- huge and infinite cells


@pytest.mark.parametrize("cell", ["1e300", "-1e300", "inf", "-inf", "1e39", "1e400"])
def test_a_cell_beyond_float32_range_is_a_bad_cell_not_a_wiped_column(tmp_path, cell) -> None:
    frame = ordinary_table().astype({"x": object})
    frame.loc[5, "x"] = cell
    frame.to_csv(tmp_path / "t.csv", index=False)
    data = read_table(str(tmp_path / "t.csv"))
    clean = ordinary_table()["x"].drop(index=5)
    stats = data.preprocessing["numeric"][0]
    assert stats["name"] == "x" and np.isclose(stats["std"], clean.std(ddof=0))
    assert np.isclose(stats["mean"], clean.mean())
    values, missing = numeric_values(data)
    assert np.isfinite(data.array).all() and np.abs(values[:, 0]).max() > 0.5  # not all 0
    assert missing[5, 0] == 1 and missing[:, 0].sum() == 1
    note = next(n for n in data.notes if "not finite numbers within float32 range" in n)
    assert f"'x': 1 (e.g. '{cell}')" in note
    json.dumps(data.preprocessing, allow_nan=False)  # preprocessing.json: standard JSON


def test_huge_and_infinite_cells_in_parquet_float_and_decimal_columns(tmp_path) -> None:
    frame = ordinary_table()
    frame.loc[3, "x"], frame.loc[4, "x"], frame.loc[7, "y"] = 1e300, np.inf, -np.inf
    decimals = [Decimal(str(v)) for v in ordinary_table()["y"]]
    decimals[9] = Decimal("1e70")  # decimal256 holds it; float32 does not
    table = pa.Table.from_pandas(frame, preserve_index=False).append_column(
        "d", pa.array(decimals, pa.decimal256(76, 3)))
    pq.write_table(table, tmp_path / "t.parquet")
    data = read_table(str(tmp_path / "t.parquet"))
    assert data.spec["columns"] == ["x", "y", "d"]
    stats = {s["name"]: s for s in data.preprocessing["numeric"]}
    assert np.isclose(stats["x"]["std"], ordinary_table()["x"].drop(index=[3, 4]).std(ddof=0))
    assert np.isclose(stats["d"]["std"], ordinary_table()["y"].drop(index=9).std(ddof=0))
    _, missing = numeric_values(data)
    assert missing.sum(axis=0).tolist() == [2, 1, 1] and np.isfinite(data.array).all()
    note = next(n for n in data.notes if "not finite numbers within float32 range" in n)
    assert "'x': 2" in note and "'y': 1 (e.g. '-inf')" in note and "'d': 1" in note
    json.dumps(data.preprocessing, allow_nan=False)


def test_wide_integer_columns_keep_finite_statistics(tmp_path) -> None:
    frame = ordinary_table().assign(big=np.arange(40, dtype=np.int64) * (2**62 // 40))
    frame.to_parquet(tmp_path / "t.parquet", index=False)
    data = read_table(str(tmp_path / "t.parquet"))
    assert "big" in data.spec["columns"] and np.isfinite(data.array).all()
    json.dumps(data.preprocessing, allow_nan=False)


def test_a_new_cell_whose_standardised_value_overflows_float32_is_missing(tmp_path) -> None:
    pd.DataFrame({"id": ["a", "b", "c"], "x": ["1", "1.0000000001", "1"]}).to_csv(tmp_path / "pool.csv", index=False)
    pool = read_table(str(tmp_path / "pool.csv"))
    assert pool.preprocessing["numeric"][0]["std"] < 1e-9
    pd.DataFrame({"id": ["d", "e"], "x": ["1e30", "1"]}).to_csv(tmp_path / "new.csv", index=False)
    new = read_table(str(tmp_path / "new.csv"), preprocessing=pool.preprocessing)
    values, missing = numeric_values(new)
    assert np.isfinite(new.array).all() and missing[:, 0].tolist() == [1, 0] and values[0, 0] == 0
    note = next(n for n in new.notes if "standardised value" in n)
    assert "'x': 1 (e.g. '1e30')" in note


def test_a_stored_transform_with_an_infinite_statistic_is_refused(tmp_path) -> None:
    ordinary_table().to_csv(tmp_path / "t.csv", index=False)
    stored = json.loads(json.dumps(read_table(str(tmp_path / "t.csv")).preprocessing))
    stored["numeric"][0]["std"] = float("inf")  # what an older version could write: Infinity
    with pytest.raises(DataError, match=r"preprocessing: numeric column 'x' has std inf"):
        read_table(str(tmp_path / "t.csv"), preprocessing=stored)
    check_preprocessing(json.loads(json.dumps(read_table(str(tmp_path / "t.csv")).preprocessing)), "ok")
    for bad in ({"name": "x", "mean": float("nan"), "std": 1.0}, {"name": "x", "mean": 0.0, "std": 0.0},
                {"name": "x", "mean": "1", "std": 1.0}):
        with pytest.raises(DataError, match=r"numeric column 'x'"):
            check_preprocessing({"numeric": [bad]}, "test")


# --------------------------------------------------------------- delimiter and encoding


@pytest.mark.parametrize(("sep", "looks", "value"), [(";", "';'", "';'"), ("\t", "tab", '"\\t"'),
                                                     ("|", "'|'", "'|'")])
def test_a_file_with_another_delimiter_names_it_and_the_option(tmp_path, sep, looks, value) -> None:
    ordinary_table().to_csv(tmp_path / "t.csv", index=False, sep=sep)
    with pytest.raises(DataError) as error:
        read_table(str(tmp_path / "t.csv"))
    message = str(error.value)
    assert message.startswith(f"{tmp_path / 't.csv'}: read as a single column ")
    assert f"the file looks {looks}-separated; proxyml reads comma-separated files " \
           f"(set data.params.delimiter: {value})" in message
    data = read_table(str(tmp_path / "t.csv"), delimiter=sep)
    assert data.spec["columns"] == ["x", "y"] and data.ids[:2] == ["r00", "r01"]


def test_european_decimals_under_semicolons_name_the_delimiter(tmp_path) -> None:
    (tmp_path / "t.csv").write_text("id;x;y\na;1,5;2,5\nb;3,5;4,5\n")  # every row "too wide" for commas
    with pytest.raises(DataError, match=r"the file looks ';'-separated.*data.params.delimiter: ';'"):
        read_table(str(tmp_path / "t.csv"))


def test_delimiter_and_encoding_parameters_are_checked_when_the_recipe_loads() -> None:
    assert validate_params(TableReaderParams, {"delimiter": "tab"}, "data.params").delimiter == "\t"
    assert validate_params(TableReaderParams, {"delimiter": "\\t"}, "data.params").delimiter == "\t"
    assert validate_params(TableReaderParams, {"delimiter": ";"}, "data.params").delimiter == ";"
    with pytest.raises(RecipeError, match=r"data.params.delimiter: expected one character"):
        validate_params(TableReaderParams, {"delimiter": ";;"}, "data.params")
    with pytest.raises(RecipeError, match=r"data.params.encoding: unknown encoding 'latin-9000'"):
        validate_params(TableReaderParams, {"encoding": "latin-9000"}, "data.params")
    defaults = TableReaderParams()
    assert (defaults.delimiter, defaults.encoding) == (",", "utf-8")


def latin1_table(path: Path) -> str:
    """A latin-1 file: line 4 holds the first byte that is not UTF-8, line 6 is malformed and
    line 7 has no id."""
    path.write_bytes(
        "id,x,city\n"         # 1
        "a,1,Paris\n"         # 2
        'b,2,"Le\nMäns"\n'    # 3-4: a quoted cell over two lines, the first non-ASCII byte on 4
        "c,3,Orléans\n"       # 5
        "d,4,Sète,extra\n"    # 6: malformed
        ",5,Nîmes\n"          # 7: no id
        "e,6,Brest\n"         # 8
        .encode("latin-1"))
    return str(path)


def test_a_latin1_file_names_the_line_and_the_encoding_option(tmp_path) -> None:
    path = latin1_table(tmp_path / "t.csv")
    with pytest.raises(DataError) as error:
        read_table(path)
    assert str(error.value) == (f"{path}: line 4 is not valid utf-8 text (byte 0xe4); set "
                                "data.params.encoding: latin-1 (or cp1252) if that is how the file was saved")
    data = read_table(path, encoding="latin-1")  # past the malformed line: the fallback decodes it too
    assert data.ids == ["a", "b", "c", "e"]
    assert {"Le\nMäns", "Orléans"} <= set(data.preprocessing["categorical"][0]["categories"])
    assert [(s.id, s.reason) for s in data.skipped] == [("<line 6>", "expected 3 fields, saw 4"),
                                                        ("<line 7>", "empty id")]


def test_row_numbered_labels_use_the_data_delimiter_and_encoding(tmp_path) -> None:
    (tmp_path / "t.csv").write_bytes("x;city;target\n1;Sète;0\n2;Nîmes;1\n3;Brest;1\n".encode("latin-1"))
    data = read_table(str(tmp_path / "t.csv"), delimiter=";", encoding="latin-1", label_columns=("target",))
    labels = read_row_numbered_labels("t.csv", None, tmp_path, data.source, delimiter=";", encoding="latin-1")
    assert labels is not None and labels["id"].tolist() == data.ids == ["0", "1", "2"]
    assert labels["target"].tolist() == ["0", "1", "1"] and labels["city"].tolist()[0] == "Sète"


# ------------------------------------------------------------------ a directory as data


def test_a_directory_as_the_data_file_says_so(tmp_path) -> None:
    (tmp_path / "tables.csv").mkdir()
    with pytest.raises(DataError, match=r"data.source: \S*tables.csv is a directory; the tabular "
                                        r"reader expects one .csv or .parquet or .pq file"):
        read_table("tables.csv", base_dir=tmp_path)
    with pytest.raises(DataError, match=r"is a directory"):
        read_table(str(tmp_path))
