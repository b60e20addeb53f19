"""Reading tables: column types, missing values, label columns, transform reuse, bad files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from proxyml.errors import DataError, RecipeError
from proxyml.modalities.tabular import TableReaderParams
from proxyml.modalities.tabular.bundled import read_bundled_labels, write_bundled_table
from proxyml.modalities.tabular.io import TableSampleSet, read_table
from proxyml.modalities.tabular.layout import TableLayout
from proxyml.params import validate_params


def mixed_frame(n: int = 60, seed: int = 0) -> pd.DataFrame:
    """Numeric, categorical and boolean columns with missing cells, an empty and a constant
    column, and a target that the features only partly explain."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "id": [f"r{i:03d}" for i in range(n)],
        "age": rng.normal(40, 10, n).round(1),
        "income": rng.lognormal(10, 1, n).round(0),
        "city": rng.choice(["paris", "lyon", "nice"], n),
        "member": rng.choice([True, False], n).astype(object),
        "empty": [None] * n,
        "constant": ["same"] * n,
        "target": rng.integers(0, 2, n),
    })
    frame.loc[rng.choice(n, 8, replace=False), "age"] = np.nan
    frame.loc[rng.choice(n, 5, replace=False), "city"] = None
    frame.loc[rng.choice(n, 4, replace=False), "member"] = None
    return frame


def write(frame: pd.DataFrame, path: Path) -> str:
    if path.suffix == ".parquet":
        frame.to_parquet(path, index=False)
    else:
        frame.to_csv(path, index=False)
    return str(path)


@pytest.fixture
def table(tmp_path: Path) -> tuple[pd.DataFrame, str]:
    frame = mixed_frame()
    return frame, write(frame, tmp_path / "table.csv")


def cells(data: TableSampleSet) -> tuple[np.ndarray, np.ndarray]:
    layout = TableLayout.from_spec(data.spec)
    rows = data.raw(range(len(data)))
    return rows[:, layout.value_index.numpy()], rows[:, layout.missing_index.numpy()]


# ------------------------------------------------------------------- types and missing values


def test_column_types_missing_values_and_dropped_columns(table) -> None:
    frame, path = table
    data = read_table(path, label_columns=("target",))
    assert data.modality == "tabular" and len(data) == 60 and data.ids[:2] == ["r000", "r001"]
    assert data.spec["columns"] == ["age", "income", "city", "member"]
    assert data.spec["cardinalities"] == [4, 3]  # 3 cities + unknown; false/true + unknown
    kinds = {c["name"]: c["kind"] for c in data.preprocessing["categorical"]}
    assert kinds == {"city": "categorical", "member": "boolean"}
    notes = " ".join(data.notes)
    assert "'empty' (entirely empty)" in notes and "'constant' (constant" in notes

    values, missing = cells(data)
    np.testing.assert_array_equal(missing[:, 0], frame["age"].isna())  # indicators mark input gaps
    np.testing.assert_array_equal(missing[:, 2], frame["city"].isna())
    np.testing.assert_array_equal(missing[:, 3], frame["member"].isna())
    assert np.all(values[missing == 1] == 0) and np.isfinite(values).all()
    observed_age = values[missing[:, 0] == 0, 0]  # standardised on the pool
    assert abs(observed_age.mean()) < 1e-5 and abs(observed_age.std() - 1) < 1e-4
    json.dumps(data.preprocessing)  # stored with the model


def test_categories_are_coded_from_a_vocabulary_with_an_unknown_slot(table) -> None:
    frame, path = table
    data = read_table(path, label_columns=("target",))
    vocabulary = data.preprocessing["categorical"][0]["categories"]
    assert sorted(vocabulary) == ["lyon", "nice", "paris"]
    codes = cells(data)[0][:, 2]
    expected = frame["city"].map({c: i + 1 for i, c in enumerate(vocabulary)}).fillna(0)
    np.testing.assert_array_equal(codes, expected)

    capped = read_table(path, label_columns=("target",), max_categories=2)
    kept = capped.preprocessing["categorical"][0]["categories"]
    counts = frame["city"].value_counts()
    assert kept == counts.index[:2].tolist()  # the most frequent two
    rare = frame["city"] == counts.index[2]
    assert np.all(cells(capped)[0][rare.to_numpy(), 2] == 0)
    assert any("unknown" in note and "'city'" in note for note in capped.notes)


def test_overrides_force_types_and_drop_columns(tmp_path) -> None:
    frame = mixed_frame()
    frame["grade"] = np.random.default_rng(1).integers(1, 4, len(frame))  # numbers that are codes
    frame["score"] = frame["income"].astype(str)
    frame.loc[3, "score"] = "?"  # a numeric column with one bad cell stays numeric ...
    path = write(frame, tmp_path / "t.csv")
    inferred = read_table(path, label_columns=("target",))
    assert "grade" not in inferred.spec["columns"][inferred.spec["n_numeric"]:]
    assert any("'score' is read as numeric" in n and "data.params.categorical" in n for n in inferred.notes)

    data = read_table(path, label_columns=("target",), categorical=["grade"], numeric=["score"],
                      drop=["income"])
    assert data.spec["columns"] == ["age", "score", "city", "member", "grade"]
    values, missing = cells(data)
    assert missing[3, 1] == 1 and missing[:, 1].sum() == 1  # ... its bad cell missing
    assert any("'score': 1" in note for note in data.notes)
    assert any("data.params.drop" in note for note in data.notes)


def test_parquet_and_csv_copies_read_the_same(tmp_path) -> None:
    frame = mixed_frame()
    frame["code"] = np.where(np.arange(len(frame)) % 7 == 0, np.nan, np.arange(len(frame)) % 3)
    csv = read_table(write(frame, tmp_path / "t.csv"), label_columns=("target",), categorical=["code"])
    parquet = read_table(write(frame, tmp_path / "t.parquet"), label_columns=("target",), categorical=["code"])
    assert csv.preprocessing == parquet.preprocessing and csv.ids == parquet.ids
    np.testing.assert_array_equal(csv.array, parquet.array)


def test_row_numbers_are_the_ids_when_there_is_no_id_column(tmp_path) -> None:
    path = write(mixed_frame().drop(columns="id"), tmp_path / "t.csv")
    data = read_table(path, label_columns=("target",))
    assert data.ids[:3] == ["0", "1", "2"] and data.preprocessing["id_column"] is None
    assert any("row numbers" in note for note in data.notes)


def test_rows_without_id_or_without_any_value_are_skipped_and_listed(tmp_path) -> None:
    frame = mixed_frame()
    frame.loc[4, "id"] = None
    frame.loc[9, ["age", "income", "city", "member"]] = None
    data = read_table(write(frame, tmp_path / "t.csv"), label_columns=("target",))
    assert len(data) == 58 and "r009" not in data.ids
    assert [(s.id, s.reason) for s in data.skipped] == [("<line 6>", "empty id"),  # header + rows 0-4
                                                        ("r009", "every input cell is missing")]


# ------------------------------------------------------------------------- the label column


def test_the_target_column_never_reaches_the_encoder(tmp_path) -> None:
    frame = mixed_frame()
    data = read_table(write(frame, tmp_path / "a.csv"), label_columns=("target",))
    assert "target" not in data.spec["columns"] and "target" in data.preprocessing["excluded"]
    assert any("label column(s) ['target']" in note for note in data.notes)
    # what the encoder sees does not change at all when the labels change: nothing to recover
    flipped = frame.assign(target=1 - frame["target"])
    again = read_table(write(flipped, tmp_path / "b.csv"), label_columns=("target",))
    np.testing.assert_array_equal(data.array, again.array)
    assert data.preprocessing == again.preprocessing


def test_a_label_or_id_column_named_as_input_is_refused(table) -> None:
    _, path = table
    with pytest.raises(DataError, match=r"data.params.categorical: 'target' holds the labels"):
        read_table(path, label_columns=("target",), categorical=["target"])
    with pytest.raises(DataError, match=r"data.params.numeric: 'id' is the id column"):
        read_table(path, label_columns=("target",), numeric=["id"])


def test_the_bundled_table_never_uses_its_target_even_without_labels() -> None:
    data = read_table("sklearn:breast_cancer")
    labels = read_bundled_labels("sklearn:breast_cancer")
    assert len(data) == 569 and data.spec["n_numeric"] == 30 and "target" not in data.spec["columns"]
    assert data.ids == labels["id"].tolist() and set(labels["target"]) == {0, 1}
    assert int((labels["target"] == 0).sum()) == 212  # malignant


def test_an_exported_bundled_table_reads_like_the_bundled_source(tmp_path) -> None:
    path = write_bundled_table("breast_cancer", tmp_path / "bc.csv")
    from_file = read_table(str(path), label_columns=("target",))
    bundled = read_table("sklearn:breast_cancer")
    assert from_file.ids == bundled.ids and from_file.spec == bundled.spec
    np.testing.assert_allclose(from_file.array, bundled.array, atol=1e-5)


# ----------------------------------------------------------------------- transform reuse


def test_new_rows_are_encoded_with_the_stored_transform(tmp_path) -> None:
    frame = mixed_frame()
    pool = read_table(write(frame, tmp_path / "pool.csv"), label_columns=("target",))
    stored = json.loads(json.dumps(pool.preprocessing))  # as saved in preprocessing.json

    new = frame.iloc[10:20].drop(columns=["target", "empty"]).copy()  # no labels, fewer columns
    new["extra"] = 1.0
    same_rows = read_table(write(new, tmp_path / "new.csv"), preprocessing=stored)
    assert same_rows.ids == frame["id"].iloc[10:20].tolist() and same_rows.spec == pool.spec
    np.testing.assert_array_equal(same_rows.array, pool.array[10:20])  # no refit on 10 rows
    assert any("'extra'" in note for note in same_rows.notes)

    shifted = new.assign(age=new["age"] + 100, city="marseille")
    other = read_table(write(shifted, tmp_path / "shifted.csv"), preprocessing=stored)
    values = cells(other)[0]
    mean, std = stored["numeric"][0]["mean"], stored["numeric"][0]["std"]
    observed = shifted["age"].notna().to_numpy()
    np.testing.assert_allclose(values[observed, 0], (shifted["age"][observed] - mean) / std, rtol=1e-5)
    assert np.all(values[:, 2] == 0) and any("'city': 10" in note for note in other.notes)


def test_new_rows_without_a_trained_column_are_an_error(tmp_path) -> None:
    pool = read_table(write(mixed_frame(), tmp_path / "pool.csv"), label_columns=("target",))
    path = write(mixed_frame().drop(columns="city"), tmp_path / "new.csv")
    with pytest.raises(DataError, match=r"new.csv has no column 'city'"):
        read_table(path, preprocessing=pool.preprocessing)


# ---------------------------------------------------------------------------- bad input


def test_an_empty_file_and_a_header_without_rows_are_clear_errors(tmp_path) -> None:
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(DataError, match=r"empty.csv: the file is empty"):
        read_table(str(tmp_path / "empty.csv"))
    (tmp_path / "header.csv").write_text("id,a,b\n")
    with pytest.raises(DataError, match=r"header.csv: the table has a header but no rows"):
        read_table(str(tmp_path / "header.csv"))
    with pytest.raises(FileNotFoundError, match=r"data.source: file not found: .*nope.csv"):
        read_table("nope.csv", base_dir=tmp_path)


def test_no_row_or_no_column_left_after_dropping_is_a_clear_error(tmp_path) -> None:
    frame = pd.DataFrame({"id": ["a", "b", "c"], "x": [None, None, None], "k": ["z", "z", "z"], "y": [1, 2, 3]})
    with pytest.raises(DataError, match=r"t.csv: no input column is left .*'x' \(entirely empty\)"):
        read_table(write(frame, tmp_path / "t.csv"), drop=["y"])
    sparse = pd.DataFrame({"id": ["a", "b", "c"], "x": [None, None, 1.0], "y": [1.0, None, 2.0]})
    rows = read_table(write(sparse, tmp_path / "s.csv"))
    assert len(rows) == 2 and rows.skipped[0].id == "b"
    with pytest.raises(DataError, match=r"no row is left to read: all 3 rows were skipped"):
        read_table(write(sparse.assign(id=[None, None, None]), tmp_path / "n.csv"))


@pytest.mark.parametrize("key", ["categorical", "numeric", "drop"])
def test_an_unknown_column_in_the_recipe_names_key_file_and_column(table, key) -> None:
    _, path = table
    with pytest.raises(DataError, match=rf"data.params.{key}: .*table.csv has no column 'cty'; did you mean 'city'"):
        read_table(path, label_columns=("target",), **{key: ["cty"]})


def test_id_column_problems_are_clear_errors(table, tmp_path) -> None:
    frame, path = table
    with pytest.raises(DataError, match=r"data.params.id_column: .* has no column 'key'"):
        read_table(path, id_column="key")
    repeated = frame.assign(id=[f"r{i % 30}" for i in range(len(frame))])
    with pytest.raises(DataError, match=r"the id column 'id' repeats 30 id\(s\)"):
        read_table(write(repeated, tmp_path / "dupes.csv"))


def test_reader_parameters_are_checked_when_the_recipe_loads() -> None:
    with pytest.raises(RecipeError, match=r"data.params: .*\['a'\] are listed in both categorical and numeric"):
        validate_params(TableReaderParams, {"categorical": ["a"], "numeric": ["a"]}, "data.params")
    with pytest.raises(RecipeError, match=r"data.params.categorcal: unknown key; did you mean categorical"):
        validate_params(TableReaderParams, {"categorcal": ["a"]}, "data.params")
    with pytest.raises(DataError, match=r"sklearn:breast_cancr: not a bundled table; did you mean sklearn:breast_cancer"):
        read_table("sklearn:breast_cancr")


# ------------------------------------------------- bad cells, malformed lines, row names


def test_a_few_bad_cells_leave_a_numeric_column_numeric(tmp_path) -> None:
    frame = mixed_frame(n=120).drop(columns=["empty", "constant"])
    frame["age"] = frame["age"].astype(object)
    frame.loc[7, "age"], frame.loc[11, "age"] = "oops", "inf"
    frame.loc[3, "income"] = -np.inf
    data = read_table(write(frame, tmp_path / "t.csv"), label_columns=("target",))
    assert data.spec["columns"][:data.spec["n_numeric"]] == ["age", "income"]
    values, missing = cells(data)
    clean_age = pd.to_numeric(frame["age"], errors="coerce").replace(np.inf, np.nan)
    np.testing.assert_array_equal(missing[:, 0], clean_age.isna())  # only the gaps and the bad cells
    assert missing[[7, 11], 0].tolist() == [1, 1] and missing[:, 1].tolist().count(1) == 1
    stats = data.preprocessing["numeric"][0]  # fitted on the finite numbers only
    assert np.isclose(stats["mean"], clean_age.mean()) and np.isfinite(values).all()
    notes = " ".join(data.notes)
    assert "'age': 2 (e.g. " in notes and "'oops'" in notes and "'inf'" in notes
    assert "'income': 1 (e.g. '-inf')" in notes
    assert "Column 'age' is read as numeric" in notes


def test_mostly_text_columns_stay_categorical_and_overrides_still_win(tmp_path) -> None:
    frame = pd.DataFrame({"id": [f"r{i}" for i in range(6)], "size": ["s", "m", "l", "xl", "1", "2"],
                          "x": ["1", "2", "3", "4", "5", "oops"]})
    path = write(frame, tmp_path / "t.csv")
    inferred = read_table(path)
    assert inferred.spec["columns"] == ["x", "size"] and inferred.spec["n_numeric"] == 1
    forced = read_table(path, categorical=["x"], numeric=["size"])
    assert forced.spec["columns"] == ["size", "x"] and forced.spec["n_numeric"] == 1
    assert "oops" in forced.preprocessing["categorical"][0]["categories"]


def test_a_stored_numeric_column_stays_numeric_on_new_rows_with_bad_cells(tmp_path) -> None:
    frame = mixed_frame()
    pool = read_table(write(frame, tmp_path / "pool.csv"), label_columns=("target",))
    new = frame.iloc[:10].drop(columns="target").astype({"age": object})
    new["age"] = ["n/a?"] + ["word"] * 6 + new["age"].iloc[7:].tolist()  # mostly text now
    data = read_table(write(new, tmp_path / "new.csv"), preprocessing=pool.preprocessing)
    assert data.spec == pool.spec
    values, missing = cells(data)
    assert missing[:7, 0].all() and np.all(values[:7, 0] == 0)
    np.testing.assert_array_equal(data.array[7:], pool.array[7:10])  # the good rows: as in training
    assert any("'age': 7 (e.g. 'word', 'n/a?')" in note for note in data.notes)


def test_new_categories_on_new_rows_are_counted_with_examples(tmp_path) -> None:
    frame = mixed_frame()
    pool = read_table(write(frame, tmp_path / "pool.csv"), label_columns=("target",))
    assert not any("unknown" in note for note in pool.notes)
    new = frame.iloc[:8].drop(columns="target").assign(city=["marseille"] * 3 + ["brest"] * 2 + ["paris"] * 3)
    data = read_table(write(new, tmp_path / "new.csv"), preprocessing=pool.preprocessing)
    codes = cells(data)[0][:, 2]
    assert codes[:5].tolist() == [0] * 5 and (codes[5:] > 0).all()
    note = next(n for n in data.notes if "'unknown' slot" in n)
    assert "'city': 5 (e.g. 'marseille', 'brest')" in note and "'paris'" not in note


def hand_written_csv(path: Path) -> str:
    """Header, a quoted cell over two lines, a blank line, a row without an id and two rows
    with too many fields (file lines 5 and 8)."""
    path.write_text(
        "id,x,note\n"            # line 1
        "a,1,plain\n"            # 2
        'b,2,"two\nlines"\n'     # 3-4
        "c,3,x,extra,extra\n"    # 5: malformed
        "\n"                     # 6
        ",4,no id\n"             # 7
        "d,5,x,extra\n"          # 8: malformed
        "e,6,last\n"             # 9
    )
    return str(path)


def test_a_malformed_line_is_skipped_and_named_by_its_file_line(tmp_path) -> None:
    data = read_table(hand_written_csv(tmp_path / "t.csv"))
    assert data.ids == ["a", "b", "e"]
    assert [(s.id, s.reason) for s in data.skipped] == [
        ("<line 5>", "expected 3 fields, saw 5"), ("<line 8>", "expected 3 fields, saw 4"),
        ("<line 7>", "empty id")]
    assert any("Skipped 2 malformed line(s)" in note for note in data.notes)
    note_codes = dict(zip(data.preprocessing["categorical"][0]["categories"], range(1, 9), strict=False))
    assert cells(data)[0][1, 1] == note_codes["two\nlines"]  # the quoted cell read whole


def test_a_malformed_first_row_is_skipped_not_turned_into_an_index(tmp_path) -> None:
    (tmp_path / "t.csv").write_text("id,x,y\na,1,2,3\nb,4,5\nc,6,7\n")
    data = read_table(str(tmp_path / "t.csv"))
    assert data.ids == ["b", "c"] and data.spec["columns"] == ["x", "y"]
    assert [(s.id, s.reason) for s in data.skipped] == [("<line 2>", "expected 3 fields, saw 4")]
    (tmp_path / "all.csv").write_text("id,x\na,1,2\nb,4,5\n")
    with pytest.raises(DataError, match=r"^\S*all.csv: every row has more fields than the header, e.g. line 2"):
        read_table(str(tmp_path / "all.csv"))


def test_a_well_formed_csv_is_read_once_by_the_fast_engine(table, monkeypatch) -> None:
    calls: list[dict] = []
    read_csv = pd.read_csv

    def spy(*args, **kwargs):
        calls.append(kwargs)
        return read_csv(*args, **kwargs)

    monkeypatch.setattr(pd, "read_csv", spy)
    read_table(table[1], label_columns=("target",))
    assert len(calls) == 1 and calls[0].get("engine", "c") == "c"


def test_row_numbered_labels_stay_aligned_past_a_malformed_line(tmp_path) -> None:
    from proxyml.modalities.tabular.io import read_row_numbered_labels

    (tmp_path / "t.csv").write_text("x,y,target\n1,a,0\n2,b,1,oops\n3,c,1\n4,a,0\n")
    data = read_table(str(tmp_path / "t.csv"), label_columns=("target",))
    labels = read_row_numbered_labels("t.csv", None, tmp_path, data.source)
    assert labels is not None and data.ids == labels["id"].tolist() == ["0", "1", "2"]
    assert labels["x"].tolist() == ["1", "3", "4"]
    assert any("row-number ids count only the rows read" in note for note in data.notes)


def test_rows_without_an_id_are_named_by_row_in_parquet(tmp_path) -> None:
    frame = mixed_frame()
    frame.loc[[0, 4], "id"] = None
    data = read_table(write(frame, tmp_path / "t.parquet"), label_columns=("target",))
    assert [s.id for s in data.skipped] == ["<row 1>", "<row 5>"]
