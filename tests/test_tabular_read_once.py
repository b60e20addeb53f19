"""The tabular reader converts each column's text to numbers once per read, and reads exactly as
it did when every step (kind inference, column choice, fitting, encoding) converted it again.

The expected values below were produced by the reader before the conversions were shared
(every step calling ``as_numbers`` itself), on the same files.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from proxyml.modalities.tabular import preprocessing as prep
from proxyml.modalities.tabular.io import TableSampleSet, read_table

MIXED_CSV = (
    "id,age,income,score,city,member,const,empty,churned,code\n"
    "a,30,1000.5,0.1,paris,true,k,,1,007\n"
    "b,oops,2000,inf,lyon,FALSE,k,,0,12\n"
    ",41,1e300,0.3,paris,true,k,,1,5\n"                   # no id: skipped
    "c,,,,,,k,,0,\n"                                      # every input cell missing: skipped
    "d,55,-1e39,-0.2,marseille,false,k,,1,12\n"
    "e,62,3000,0.5,paris,,k,,0,7,extra\n"                 # one field too many: skipped
    "f,47,12345678901234567,n/a?,lyon,true,k,,1,007\n"
    "g,-3,2500.25,0.9,,TRUE,k,,0,8\n"
)
MIXED_PARAMS: dict[str, Any] = {"categorical": ["code"], "max_categories": 2, "label_columns": ("churned",)}
MIXED_IDS = ["a", "b", "d", "f", "g"]
MIXED_ARRAY = [
    [-0.10105982422828674, -0.5773502588272095, -0.35897907614707947, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 2.0, 1.0],
    [0.0, -0.5773502588272095, 0.0, 1.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0, 1.0, 2.0],
    [1.0218271017074585, 0.0, -1.0051413774490356, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 2.0, 1.0, 2.0],
    [0.6625033020973206, 1.7320507764816284, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0, 2.0, 1.0],
    [-1.58327054977417, -0.5773502588272095, 1.3641204833984375, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 2.0, 0.0],
]
MIXED_NOTES = [
    "Skipped 1 malformed line(s) with more fields than the header (each is listed in skipped by its file "
    "line, e.g. line 7: expected 10 fields, saw 11).",
    "Never used the label column(s) ['churned'] as input.",
    "Column 'age' is read as numeric: most of its cells are numbers, and those that are not (such as 'oops') "
    "are missing; list it in data.params.categorical to read it as categories instead.",
    "Column 'income' is read as numeric: most of its cells are numbers, and those that are not (such as "
    "'1e300') are missing; list it in data.params.categorical to read it as categories instead.",
    "Column 'score' is read as numeric: most of its cells are numbers, and those that are not (such as 'inf') "
    "are missing; list it in data.params.categorical to read it as categories instead.",
    "Dropped 2 column(s) that carry no information: 'const' (constant: every row is 'k'), 'empty' (entirely "
    "empty).",
    "Skipped 1 row(s) with an empty id.",
    "Skipped 1 row(s) whose input cells are all missing.",
    "Read 5 rows with input columns: 3 numeric ['age', 'income', 'score']; 2 categorical ['city', 'code']; "
    "1 boolean ['member'].",
    "Read 4 cell(s) that are not finite numbers within float32 range (about ±3.4e38) in numeric column(s) as "
    "missing: 'age': 1 (e.g. 'oops'), 'income': 1 (e.g. '-1e39'), 'score': 2 (e.g. 'inf', 'n/a?').",
    "Encoded 2 cell(s) whose category is not in the vocabulary fitted on the unlabeled pool (a new one, or "
    "one rarer than the max_categories kept) with the shared 'unknown' slot: 'city': 1 (e.g. 'paris'), "
    "'code': 1 (e.g. '8').",
]
MIXED_SKIPPED = [("<line 7>", "expected 10 fields, saw 11"), ("<line 4>", "empty id"),
                 ("c", "every input cell is missing")]
MIXED_PREPROCESSING = {
    "format": "proxyml.tabular/1", "id_column": "id",
    "numeric": [{"name": "age", "mean": 32.25, "std": 22.26404051379713},
                {"name": "income", "mean": 3086419725310017.0, "std": 5345835777716552.0},
                {"name": "score", "mean": 0.26666666666666666, "std": 0.46427960923947065}],
    "categorical": [{"name": "city", "kind": "categorical", "categories": ["lyon", "marseille"]},
                    {"name": "member", "kind": "boolean", "categories": ["false", "true"]},
                    {"name": "code", "kind": "categorical", "categories": ["007", "12"]}],
    "excluded": ["churned"],
}

NEW_CSV = ("id,age,income,score,city,member,code,extra\n"
           "x,35,1500,3e38,brest,true,12,zz\n"
           "y,abc,,0.2,paris,false,99,zz\n"
           "z,40,1e39,-0.1,lyon,,007,zz\n")
NEW_ARRAY = [
    [0.12351756542921066, -0.5773502588272095, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 2.0, 2.0],
    [0.0, 0.0, -0.14359162747859955, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0],
    [0.3480949401855469, 0.0, -0.7897539734840393, 0.0, 1.0, 0.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0],
]
NEW_NOTES = [
    "Ignored the column(s) ['extra']: the model was not trained on them.",
    "Read 2 cell(s) that are not finite numbers within float32 range (about ±3.4e38) in numeric column(s) as "
    "missing: 'age': 1 (e.g. 'abc'), 'income': 1 (e.g. '1e39').",
    "Read 1 cell(s) as missing whose standardised value (with the stored mean and std) is beyond float32 "
    "range: 'score': 1 (e.g. '3e38').",
    "Encoded 3 cell(s) whose category is not in the vocabulary fitted on the unlabeled pool (a new one, or "
    "one rarer than the max_categories kept) with the shared 'unknown' slot: 'city': 2 (e.g. 'brest', "
    "'paris'), 'code': 1 (e.g. '99').",
]


def write(path: Path, text: str, encoding: str = "utf-8") -> str:
    path.write_bytes(text.encode(encoding))
    return str(path)


def assert_read(data: TableSampleSet, source: str, ids: list[str], array: list[list[float]],
                notes: list[str], skipped: list[tuple[str, str]]) -> None:
    assert data.ids == ids
    assert data.array.dtype == np.float32
    assert data.array.tobytes() == np.array(array, dtype=np.float32).tobytes()  # bit for bit
    assert data.notes == notes
    assert [s.as_dict() for s in data.skipped] == [{"id": i, "source": source, "reason": r} for i, r in skipped]


@pytest.mark.parametrize("dialect", ["comma", "semicolon-latin1"])
def test_a_mixed_table_reads_exactly_as_before(tmp_path: Path, dialect: str) -> None:
    if dialect == "comma":
        source, params = write(tmp_path / "table.csv", MIXED_CSV), {}
    else:  # the delimiter and encoding parameters reach the same cells
        source = write(tmp_path / "table.csv", MIXED_CSV.replace(",", ";"), encoding="latin-1")
        params = {"delimiter": ";", "encoding": "latin-1"}
    data = read_table(source, **MIXED_PARAMS, **params)
    assert_read(data, source, MIXED_IDS, MIXED_ARRAY, MIXED_NOTES, MIXED_SKIPPED)
    assert json.dumps(data.preprocessing) == json.dumps(MIXED_PREPROCESSING)  # preprocessing.json, byte for byte

    stored = json.loads(json.dumps(data.preprocessing))  # as embed/score get it back
    new = write(tmp_path / "new.csv", NEW_CSV)
    again = read_table(new, preprocessing=stored, label_columns=("churned",))
    assert_read(again, new, ["x", "y", "z"], NEW_ARRAY, NEW_NOTES, [])
    assert again.preprocessing == MIXED_PREPROCESSING


def test_integers_read_as_when_the_kept_rows_alone_were_converted(tmp_path: Path) -> None:
    """pandas reads a text column of integers exactly when every cell is one, else with its fast
    float parser (off by an ulp for 17+ digits; 0000000000000000000012 reads as 0). The skipped
    row holds the only empty cell, so the kept cells alone are all integers: they are converted
    again, as the reader always converted them, instead of reusing the whole column's values."""
    source = write(tmp_path / "big.csv", "id,big,note\nr1,12345678901234567,a\nr2,-5172984532324219472,b\n"
                                         ",,a\nr4,000000000000000000012,b\nr5,7,a\n")
    data = read_table(source)
    assert data.preprocessing["numeric"] == [{"name": "big", "mean": -1.2901597133557463e+18,
                                              "std": 2.241755620244345e+18}]
    assert_read(data, source, ["r1", "r2", "r4", "r5"],
                [[0.5810202360153198, 0.0, 0.0, 1.0], [-1.7320464849472046, 0.0, 0.0, 2.0],
                 [0.5755130648612976, 0.0, 0.0, 2.0], [0.5755130648612976, 0.0, 0.0, 1.0]],
                ["Skipped 1 row(s) with an empty id.",
                 "Read 4 rows with input columns: 1 numeric ['big']; 1 categorical ['note']."],
                [("<line 4>", "empty id")])


def random_table(seed: int, n: int = 80) -> pd.DataFrame:
    """Decimals, integers (some of 17+ digits), bad and huge cells, codes, words, booleans; a few
    rows without an id and a few with every input cell empty."""
    rng = np.random.default_rng(seed)
    pools = {
        "decimal": ["0.5", "1.25", "-3.75", "1e3", "", "oops", "inf", "1e300"],
        "integer": ["1", "2", "-4", "12345678901234567", "000000000000000000012", "9007199254740993"],
        "mostly_integer": ["3", "5", "8", "", "x"],
        "code": ["A1", "B22", "C3", "7", ""],
        "word": ["paris", "lyon", "nice", ""],
        "flag": ["true", "FALSE", ""],
    }
    frame = pd.DataFrame({name: rng.choice(pool, n) for name, pool in pools.items()})
    frame.insert(0, "id", [f"r{i}" for i in range(n)])
    frame.loc[rng.choice(n, 3, replace=False), "id"] = ""
    frame.loc[rng.choice(n, 2, replace=False), list(pools)] = ""
    return frame


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_read_matches_fitting_and_encoding_the_kept_rows_directly(tmp_path: Path, seed: int) -> None:
    """The slow reference path: the kept rows handed to fit_preprocessing and encode_rows with no
    shared conversions (each converts its columns itself, as every step did before)."""
    frame = random_table(seed)
    source = write(tmp_path / "t.csv", frame.to_csv(index=False))
    data = read_table(source)
    text = pd.read_csv(source, dtype=str)
    inputs = text.drop(columns=["id"])
    keep = text["id"].notna() & inputs.notna().any(axis=1)
    columns = prep.input_columns(data.preprocessing)
    rows = inputs.loc[keep, columns].reset_index(drop=True)
    numeric = [c["name"] for c in data.preprocessing["numeric"]]
    categorical = {c["name"]: c["kind"] for c in data.preprocessing["categorical"]}
    assert data.ids == text["id"][keep].tolist()
    assert prep.fit_preprocessing(rows, numeric, categorical, max_categories=64, id_column="id",
                                  excluded=[]) == data.preprocessing
    array, notes = prep.encode_rows(rows, data.preprocessing)
    assert array.tobytes() == data.array.tobytes()
    assert data.notes[len(data.notes) - len(notes):] == notes


class Counting:
    """Wraps a conversion function and counts its calls per column name."""

    def __init__(self, function: Any) -> None:
        self.function, self.calls = function, Counter()

    def __call__(self, column: pd.Series) -> Any:
        self.calls[column.name] += 1
        return self.function(column)


def counted_read(monkeypatch: pytest.MonkeyPatch, source: str,
                 **params: Any) -> tuple[TableSampleSet, Counting, Counting]:
    numbers, text = Counting(prep.as_numbers), Counting(prep.category_text)
    with monkeypatch.context() as patch:
        patch.setattr(prep, "as_numbers", numbers)
        patch.setattr(prep, "category_text", text)
        data = read_table(source, **params)
    return data, numbers, text


def test_each_column_is_converted_to_numbers_once_per_read(tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    frame = random_table(3, n=200).drop(columns=["integer"])  # (re-conversion of 17-digit integers: above)
    frame["forced"] = frame["code"]
    source = write(tmp_path / "t.csv", frame.to_csv(index=False))
    plain = read_table(source, numeric=["forced"])
    data, numbers, text = counted_read(monkeypatch, source, numeric=["forced"])
    assert len(data) < len(frame)  # rows were skipped: the kept rows reuse the whole columns' values
    assert data.array.tobytes() == plain.array.tobytes() and data.notes == plain.notes
    assert [c["name"] for c in data.preprocessing["numeric"]] == ["decimal", "mostly_integer", "forced"]
    # numeric columns once; 'code' once (it has digits: inference must convert it to see it is text);
    # 'word' never (no digit: surely not numbers), 'flag' never (true/false)
    assert numbers.calls == {"decimal": 1, "mostly_integer": 1, "forced": 1, "code": 1}
    assert text.calls == {"code": 1, "word": 1, "flag": 1}  # category text: once per categorical column

    stored = json.loads(json.dumps(data.preprocessing))
    again, numbers, text = counted_read(monkeypatch, source, preprocessing=stored)
    assert again.array.tobytes() == data.array.tobytes()
    assert numbers.calls == {"decimal": 1, "mostly_integer": 1, "forced": 1}
    assert text.calls == {"code": 1, "word": 1, "flag": 1}


def test_mixed_table_converts_each_column_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = write(tmp_path / "table.csv", MIXED_CSV)
    data, numbers, _ = counted_read(monkeypatch, source, **MIXED_PARAMS)
    assert data.array.tobytes() == np.array(MIXED_ARRAY, dtype=np.float32).tobytes()
    assert max(numbers.calls.values()) == 1
    assert set(numbers.calls) == {"age", "income", "score"}  # city: no digit; member: booleans; code: forced


def test_parsed_columns_belong_to_one_frame() -> None:
    frame = pd.DataFrame({"x": ["1", "2", "oops"], "c": ["a", "b", "a"]})
    parsed = prep.ParsedColumns(frame)
    with pytest.raises(ValueError, match="another frame"):
        prep.encode_rows(frame.copy(), prep.fit_preprocessing(frame, ["x"], {"c": "categorical"},
                                                              max_categories=5), parsed)
    with pytest.raises(ValueError, match="keep selects 2 of 3 rows"):
        parsed.rows(np.array([True, True, False]), frame)
