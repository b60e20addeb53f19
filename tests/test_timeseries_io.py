"""Reading time series: sktime's bundled sets, every file format, cleaning and normalisation."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from proxyml.errors import DataError
from proxyml.modalities.timeseries import io as series_io
from proxyml.modalities.timeseries.io import (
    BUNDLED_SKTIME_DATASETS,
    SeriesSampleSet,
    read_series,
    read_sktime_labels,
)


def _values(data: SeriesSampleSet) -> np.ndarray:
    return data.raw(range(len(data)))


def _write_long_csv(path: Path, lengths: dict[str, int], rng: np.random.Generator) -> dict:
    """A shuffled long table with channels a, b; returns the true (2, L) series by id."""
    truth, rows = {}, []
    for sample_id, length in lengths.items():
        truth[sample_id] = rng.normal(size=(2, length))
        rows += [(sample_id, t, *truth[sample_id][:, t]) for t in range(length)]
    frame = pd.DataFrame(rows, columns=["id", "time", "a", "b"])
    frame.sample(frac=1.0, random_state=0).to_csv(path, index=False)
    return truth


# ---------------------------------------------------------------- sktime's bundled data sets


def test_gunpoint_loads_all_samples_with_labels_matching_ids():
    data = read_series("sktime:GunPoint")
    labels = read_sktime_labels("GunPoint")
    assert isinstance(data, SeriesSampleSet) and data.modality == "timeseries"
    assert len(data) == 200 and data.spec == {"channels": 1, "length": 150}
    assert data[0]["x"].shape == (1, 150) and data[0]["x"].dtype.is_floating_point
    assert len(set(data.ids)) == 200 and data.ids == labels["id"].tolist()
    assert data.ids[0] == "train-0000" and data.ids[-1] == "test-0149"
    assert set(labels["class"]) == {"1", "2"}
    json.dumps(data.preprocessing)  # must be storable with a trained model


def test_gunpoint_splits_are_the_parts_of_all():
    train = read_series("sktime:GunPoint", split="train", normalize="none")
    test = read_series("sktime:GunPoint", split="test", normalize="none")
    both = read_series("sktime:gunpoint", split="all", normalize="none")
    assert (len(train), len(test)) == (50, 150)
    assert train.ids == [f"train-{i:04d}" for i in range(50)]
    assert both.ids == train.ids + test.ids
    np.testing.assert_array_equal(_values(both), np.concatenate([_values(train), _values(test)]))
    assert read_sktime_labels("sktime:GunPoint", split="test")["id"].tolist() == test.ids


def test_unbundled_name_is_refused_before_sktime_is_asked(monkeypatch):
    def no_loading(*args, **kwargs):
        raise AssertionError("sktime must not be asked for an unbundled data set")

    monkeypatch.setattr(series_io, "_load_bundled_part", no_loading)
    with pytest.raises(DataError, match="not a data set bundled with sktime.*GunPoint"):
        read_series("sktime:Coffee")
    with pytest.raises(DataError, match="Coffee"):
        read_sktime_labels("Coffee")


def test_every_bundled_name_has_its_files_in_the_installed_sktime():
    import sktime

    data_dir = Path(sktime.__file__).parent / "datasets" / "data"
    for name in BUNDLED_SKTIME_DATASETS:
        assert (data_dir / name / f"{name}_TRAIN.ts").is_file(), name
        assert (data_dir / name / f"{name}_TEST.ts").is_file(), name


def test_multivariate_bundled_set_keeps_its_channels():
    data = read_series("sktime:BasicMotions", split="train")
    assert data.spec == {"channels": 6, "length": 100} and len(data) == 40


# ---------------------------------------------------------------- file formats round-trip


def test_npz_round_trips_values_and_ids(tmp_path):
    x = np.random.default_rng(0).normal(size=(5, 2, 12)).astype(np.float32)
    ids = np.array(["a", "b", "c", "d", "e"])
    np.savez(tmp_path / "x.npz", X=x, ids=ids)
    data = read_series("x.npz", base_dir=tmp_path, normalize="none")
    assert data.ids == ids.tolist() and data.spec == {"channels": 2, "length": 12}
    np.testing.assert_array_equal(_values(data), x)
    assert data.notes == []


def test_npz_two_dimensional_array_is_one_channel_with_row_ids(tmp_path):
    x = np.random.default_rng(1).normal(size=(4, 10))
    np.savez(tmp_path / "x.npz", X=x)
    data = read_series(str(tmp_path / "x.npz"), normalize="none")
    assert data.ids == ["0", "1", "2", "3"] and data.spec == {"channels": 1, "length": 10}
    np.testing.assert_allclose(_values(data)[:, 0], x, rtol=1e-6)


def test_npy_stays_memory_mapped_and_normalises_on_load(tmp_path):
    x = np.random.default_rng(2).normal(loc=5.0, scale=3.0, size=(40, 2, 16)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    raw = read_series(str(tmp_path / "x.npy"), normalize="none")
    assert isinstance(raw.array, np.memmap)
    np.testing.assert_array_equal(_values(raw), x)
    data = read_series(str(tmp_path / "x.npy"))
    assert isinstance(data.array, np.memmap) and data.normalize_on_load
    values = _values(data)
    np.testing.assert_allclose(values.mean(axis=(0, 2)), 0.0, atol=1e-5)
    np.testing.assert_allclose(values.std(axis=(0, 2)), 1.0, atol=1e-5)
    np.testing.assert_array_equal(data.load(3).numpy(), values[3])
    assert any("memory-mapped" in note for note in data.notes)


def test_npy_with_missing_values_is_read_into_memory_and_cleaned(tmp_path):
    x = np.random.default_rng(3).normal(size=(3, 1, 10))
    x[1, 0, 4] = np.nan
    np.save(tmp_path / "x.npy", x)
    data = read_series(str(tmp_path / "x.npy"), normalize="none")
    assert not isinstance(data.array, np.memmap)
    assert np.isclose(_values(data)[1, 0, 4], (x[1, 0, 3] + x[1, 0, 5]) / 2)


def test_wide_csv_round_trips_and_keeps_ids_as_text(tmp_path):
    x = np.random.default_rng(4).normal(size=(3, 11)).round(6)
    frame = pd.DataFrame(x, columns=[f"t{i}" for i in range(11)])
    frame.insert(0, "id", ["007", "010", "x9"])
    frame.to_csv(tmp_path / "wide.csv", index=False)
    data = read_series("wide.csv", base_dir=tmp_path, normalize="none")
    assert data.ids == ["007", "010", "x9"] and data.spec == {"channels": 1, "length": 11}
    np.testing.assert_allclose(_values(data)[:, 0], x, rtol=1e-6)


def test_long_csv_with_two_channels_is_sorted_by_time(tmp_path):
    truth = _write_long_csv(tmp_path / "long.csv", {"s1": 12, "s2": 12, "s3": 12}, np.random.default_rng(5))
    data = read_series(str(tmp_path / "long.csv"), normalize="none")
    assert data.spec == {"channels": 2, "length": 12}
    assert sorted(data.ids) == ["s1", "s2", "s3"]
    for sample_id, expected in truth.items():
        np.testing.assert_allclose(data.raw([data.ids.index(sample_id)])[0], expected, rtol=1e-5)
    one_channel = read_series(str(tmp_path / "long.csv"), value_columns=["b"], normalize="none")
    np.testing.assert_allclose(
        one_channel.raw([one_channel.ids.index("s2")])[0, 0], truth["s2"][1], rtol=1e-5
    )


@pytest.mark.parametrize("form", ["wide", "long"])
def test_parquet_round_trips(tmp_path, form):
    x = np.random.default_rng(6).normal(size=(4, 10))
    if form == "wide":
        frame = pd.DataFrame(x, columns=[str(i) for i in range(10)]).assign(id=[10, 11, 12, 13])
    else:
        frame = pd.DataFrame(
            {"id": np.repeat([10, 11, 12, 13], 10), "time": np.tile(np.arange(10), 4), "v": x.ravel()}
        )
    frame.to_parquet(tmp_path / "x.parquet")
    data = read_series(str(tmp_path / "x.parquet"), normalize="none")
    assert data.ids == ["10", "11", "12", "13"]
    np.testing.assert_allclose(_values(data)[:, 0], x, rtol=1e-6)


def test_hand_written_ts_file_round_trips(tmp_path):
    x = np.arange(30, dtype=float).reshape(3, 10) / 4
    lines = ["@problemName demo", "@timeStamps false", "@univariate true", "@equalLength true"]
    lines += ["@seriesLength 10", "@classLabel true a b", "@data"]
    lines += [",".join(f"{v:g}" for v in row) + f":{'ab'[i % 2]}" for i, row in enumerate(x)]
    (tmp_path / "demo.ts").write_text("\n".join(lines) + "\n")
    data = read_series(str(tmp_path / "demo.ts"), normalize="none")
    assert data.ids == ["0", "1", "2"]
    np.testing.assert_array_equal(_values(data)[:, 0], x)


# ---------------------------------------------------------------- cleaning


def test_unequal_lengths_are_padded_with_the_last_value(tmp_path):
    truth = _write_long_csv(tmp_path / "long.csv", {"a": 10, "b": 12, "c": 15}, np.random.default_rng(7))
    data = read_series(str(tmp_path / "long.csv"), normalize="none")
    assert data.spec["length"] == 15
    a = data.raw([data.ids.index("a")])[0]
    np.testing.assert_allclose(a[:, :10], truth["a"], rtol=1e-5)
    np.testing.assert_allclose(a[:, 10:], np.repeat(truth["a"][:, -1:], 5, axis=1), rtol=1e-5)
    assert any(n.startswith("Padded 2 series shorter than 15 steps (shortest 10)") for n in data.notes)


def test_unequal_lengths_are_cropped_to_the_shortest(tmp_path):
    truth = _write_long_csv(tmp_path / "long.csv", {"a": 10, "b": 12, "c": 15}, np.random.default_rng(8))
    data = read_series(str(tmp_path / "long.csv"), length_policy="crop", normalize="none")
    assert data.spec["length"] == 10
    np.testing.assert_allclose(data.raw([data.ids.index("c")])[0], truth["c"][:, :10], rtol=1e-5)
    assert any(n.startswith("Cropped 2 series longer than 10 steps") for n in data.notes)


def test_explicit_length_pads_shorter_and_crops_longer_series(tmp_path):
    _write_long_csv(tmp_path / "long.csv", {"a": 10, "b": 12, "c": 15}, np.random.default_rng(9))
    padded = read_series(str(tmp_path / "long.csv"), length=12)
    assert padded.spec["length"] == 12 and len(padded) == 3
    assert any(n.startswith("Padded 1 series") for n in padded.notes)
    assert any(n.startswith("Cropped 1 series longer than 12 steps (longest 15)") for n in padded.notes)
    cropped = read_series(str(tmp_path / "long.csv"), length=12, length_policy="crop")
    assert cropped.ids == ["b", "c"] or sorted(cropped.ids) == ["b", "c"]
    assert [s.id for s in cropped.skipped] == ["a"] and "shorter" in cropped.skipped[0].reason


def test_all_missing_series_is_skipped_and_listed(tmp_path):
    x = np.random.default_rng(10).normal(size=(4, 2, 10))
    x[2, 1, :] = np.nan  # one channel with no observation
    np.savez(tmp_path / "x.npz", X=x, ids=np.array(["p", "q", "r", "s"]))
    data = read_series(str(tmp_path / "x.npz"))
    assert data.ids == ["p", "q", "s"]
    assert [(s.id, s.reason, s.source) for s in data.skipped] == [
        ("r", "all values missing", str(tmp_path / "x.npz"))
    ]
    assert "Skipped 1 series whose values are all missing in at least one channel." in data.notes


def test_scattered_missing_values_are_linearly_interpolated_and_counted(tmp_path):
    x = np.tile(np.arange(12, dtype=float), (3, 1))
    x[0, [3, 4]] = np.nan  # between 2 and 5: 3, 4
    x[1, 0] = np.nan  # leading edge: copies 1
    frame = pd.DataFrame(x, columns=[f"t{i}" for i in range(12)]).assign(id=["a", "b", "c"])
    frame.to_csv(tmp_path / "wide.csv", index=False)
    data = read_series(str(tmp_path / "wide.csv"), normalize="none")
    values = _values(data)[:, 0]
    np.testing.assert_array_equal(values[0], np.arange(12))
    np.testing.assert_array_equal(values[1], [1.0, *range(1, 12)])
    assert any(
        n.startswith("Filled 3 missing values in 2 series by linear interpolation") for n in data.notes
    )


def test_trailing_empty_cells_in_a_wide_table_mark_a_shorter_series(tmp_path):
    (tmp_path / "wide.csv").write_text(
        "id," + ",".join(f"t{i}" for i in range(12)) + "\n"
        "a," + ",".join(str(i) for i in range(12)) + "\n"
        "b," + ",".join(str(i) for i in range(10)) + ",,\n"
    )
    data = read_series(str(tmp_path / "wide.csv"), length_policy="crop", normalize="none")
    assert data.spec["length"] == 10
    assert any("end of a shorter series" in note for note in data.notes)


def test_non_numeric_cell_skips_only_that_row(tmp_path):
    header = "id," + ",".join(f"t{i}" for i in range(10))
    good = [f"{name}," + ",".join(str(i) for i in range(10)) for name in ("a", "c")]
    bad = "b,0,1,2,oops,4,5,6,7,8,9"
    (tmp_path / "wide.csv").write_text("\n".join([header, good[0], bad, good[1]]) + "\n")
    data = read_series(str(tmp_path / "wide.csv"), normalize="none")
    assert data.ids == ["a", "c"]
    assert len(data.skipped) == 1 and data.skipped[0].id == "b"
    assert "'oops'" in data.skipped[0].reason and "'t3'" in data.skipped[0].reason


def test_duplicate_ids_in_a_wide_table_are_an_error(tmp_path):
    frame = pd.DataFrame(np.ones((3, 10))).assign(id=["a", "b", "a"])
    frame.to_csv(tmp_path / "wide.csv", index=False)
    with pytest.raises(DataError, match=r"wide\.csv.*ids repeat.*'a'"):
        read_series(str(tmp_path / "wide.csv"))


def test_too_short_series_are_an_error_naming_the_length(tmp_path):
    np.save(tmp_path / "short.npy", np.ones((4, 1, 5)))
    with pytest.raises(DataError, match=r"short\.npy.*at least 9 steps.*has 5 steps"):
        read_series(str(tmp_path / "short.npy"))


def test_no_surviving_sample_is_an_error_naming_the_file_and_reasons(tmp_path):
    np.savez(tmp_path / "empty.npz", X=np.full((3, 1, 10), np.nan))
    with pytest.raises(DataError, match=r"empty\.npz.*all 3 were skipped: all values missing \(3\)"):
        read_series(str(tmp_path / "empty.npz"))


# ---------------------------------------------------------------- normalisation


def test_dataset_normalisation_is_reused_on_new_data(tmp_path):
    rng = np.random.default_rng(11)
    train = rng.normal(loc=[[3.0], [-2.0]], scale=[[2.0], [0.5]], size=(30, 2, 20))
    new = rng.normal(loc=10.0, size=(5, 2, 25))
    np.savez(tmp_path / "train.npz", X=train)
    np.savez(tmp_path / "new.npz", X=new)
    fitted = read_series(str(tmp_path / "train.npz"))
    values = _values(fitted)
    np.testing.assert_allclose(values.mean(axis=(0, 2)), 0.0, atol=1e-5)
    np.testing.assert_allclose(values.std(axis=(0, 2)), 1.0, atol=1e-5)
    stored = json.loads(json.dumps(fitted.preprocessing))
    reread = read_series(str(tmp_path / "new.npz"), preprocessing=stored)
    mean, std = train.mean(axis=(0, 2)), train.std(axis=(0, 2))
    expected = (new[:, :, :20] - mean[None, :, None]) / std[None, :, None]
    np.testing.assert_allclose(_values(reread), expected, rtol=1e-4, atol=1e-5)
    assert reread.preprocessing["mean"] == stored["mean"] and reread.spec["length"] == 20
    assert any("stored preprocessing" in note for note in reread.notes)


def test_reused_preprocessing_with_other_channel_count_is_an_error(tmp_path):
    np.savez(tmp_path / "two.npz", X=np.random.default_rng(12).normal(size=(4, 2, 12)))
    np.savez(tmp_path / "one.npz", X=np.random.default_rng(13).normal(size=(4, 12)))
    stored = read_series(str(tmp_path / "two.npz")).preprocessing
    with pytest.raises(DataError, match=r"one\.npz.*1 channel.*fitted on 2"):
        read_series(str(tmp_path / "one.npz"), preprocessing=stored)


def test_series_normalisation_z_normalises_each_series(tmp_path):
    x = np.random.default_rng(14).normal(loc=4.0, scale=3.0, size=(6, 2, 30))
    np.savez(tmp_path / "x.npz", X=x)
    values = _values(read_series(str(tmp_path / "x.npz"), normalize="series"))
    np.testing.assert_allclose(values.mean(axis=2), 0.0, atol=1e-5)
    np.testing.assert_allclose(values.std(axis=2), 1.0, atol=1e-4)


# ---------------------------------------------------------------- errors name the file


def test_missing_file_names_the_path_and_base_dir(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"nope\.csv.*resolved against"):
        read_series("nope.csv", base_dir=tmp_path)


def test_unknown_extension_lists_the_supported_ones(tmp_path):
    (tmp_path / "x.xlsx").write_text("")
    with pytest.raises(DataError, match=r"x\.xlsx.*\.ts, \.npz, \.npy, \.csv, \.parquet"):
        read_series(str(tmp_path / "x.xlsx"))


def test_bad_arguments_are_refused_with_the_parameter_name(tmp_path):
    with pytest.raises(DataError, match="'length_policy'.*Got 'stretch'"):
        read_series("sktime:GunPoint", length_policy="stretch")
    with pytest.raises(DataError, match="'length'.*at least 9"):
        read_series("sktime:GunPoint", length=4)
    np.savez(tmp_path / "x.npz", X=np.ones((2, 10)))
    with pytest.raises(DataError, match="split='train' only applies to sktime"):
        read_series(str(tmp_path / "x.npz"), split="train")


def test_missing_id_column_names_the_file_and_columns(tmp_path):
    pd.DataFrame({"name": ["a"], "t0": [1.0]}).to_csv(tmp_path / "t.csv", index=False)
    with pytest.raises(DataError, match=r"t\.csv.*no id column 'id'.*'name'"):
        read_series(str(tmp_path / "t.csv"))


def test_long_table_with_dates_sorts_steps_and_skips_only_the_bad_series(tmp_path):
    days = pd.date_range("2024-01-01", periods=10, freq="D").strftime("%Y-%m-%d").tolist()
    rows = [("u", day, float(t)) for t, day in enumerate(days)]
    rows += [("v", day, float(-t)) for t, day in enumerate(days)]
    rows[13] = ("v", days[3], "n/a?")
    frame = pd.DataFrame(rows, columns=["id", "time", "value"]).iloc[::-1]  # newest first
    frame.to_csv(tmp_path / "long.csv", index=False)
    data = read_series(str(tmp_path / "long.csv"), value_columns=["value"], normalize="none")
    assert data.ids == ["u"]
    np.testing.assert_array_equal(_values(data)[0, 0], np.arange(10))
    assert data.skipped[0].id == "v" and "'n/a?' in column 'value'" in data.skipped[0].reason


def test_label_column_in_a_table_never_becomes_input(tmp_path):
    from proxyml.modalities.timeseries import TimeSeriesModality

    frame = pd.DataFrame({"id": ["a", "b", "c"], "t0": [1.0, 2, 3], "t1": [2.0, 3, 4], "churn": [0, 1, 0]})
    for t in range(2, 10):
        frame[f"t{t}"] = frame["t1"] + t
    frame = frame[["id", "t0", "t1", "churn"] + [f"t{t}" for t in range(2, 10)]]
    frame.to_csv(tmp_path / "wide.csv", index=False)
    modality = TimeSeriesModality()
    params = modality.reader_params({"normalize": "none"})
    with_label = modality.read(str(tmp_path / "wide.csv"), params)
    without = modality.read(str(tmp_path / "wide.csv"), params, label_columns=("churn",))
    assert with_label.spec["length"] == 11 and without.spec["length"] == 10
    assert "churn" in " ".join(without.notes)
    np.testing.assert_array_equal(without.load(1).numpy()[0], [2, 3] + [3 + t for t in range(2, 10)])


def test_rows_without_an_id_are_named_by_file_line_in_csv_and_row_in_parquet(tmp_path):
    steps = ",".join(f"t{i}" for i in range(10))
    values = ",".join(str(i) for i in range(10))
    (tmp_path / "wide.csv").write_text(
        f"id,{steps}\na,{values}\n\n,{values}\nb,{values}\n,{values}\n"  # empty ids on lines 4 and 6
    )
    data = read_series(str(tmp_path / "wide.csv"), normalize="none")
    assert data.ids == ["a", "b"]
    assert [s.id for s in data.skipped] == ["<line 4>", "<line 6>"]
    frame = pd.read_csv(tmp_path / "wide.csv", dtype={"id": str})
    frame.to_parquet(tmp_path / "wide.parquet")
    from_parquet = read_series(str(tmp_path / "wide.parquet"), normalize="none")
    assert [s.id for s in from_parquet.skipped] == ["<row 2>", "<row 4>"]


def test_malformed_and_infinite_cells_in_series_tables(tmp_path):
    header = "id," + ",".join(f"t{i}" for i in range(10))
    good = [f"s{r}," + ",".join(str(r + i) for i in range(10)) for r in range(4)]
    wide = [header, good[0], good[1] + ",99,98", good[2].replace(",5,", ",inf,", 1), good[3]]
    (tmp_path / "wide.csv").write_text("\n".join(wide) + "\n")
    data = read_series(str(tmp_path / "wide.csv"), normalize="none")
    assert data.ids == ["s0", "s3"]
    reasons = {s.id: s.reason for s in data.skipped}
    assert reasons["<line 3>"] == "expected 11 fields, saw 13"
    assert "'inf'" in reasons["s2"] and "not a finite number" in reasons["s2"]
    assert np.isfinite(data.raw([0, 1])).all()

    long = ["id,time,x", *(f"a,{t},{t}" for t in range(12)), "a,12,5,extra"]
    (tmp_path / "long.csv").write_text("\n".join(long) + "\n")
    with pytest.raises(DataError, match=r"line 14 .*each line is one step of a series"):
        read_series(str(tmp_path / "long.csv"))
