"""Bad input to the time-series reader: non-finite values, damaged files, folders, bad .ts lines."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from proxyml.errors import DataError
from proxyml.modalities.timeseries import SeriesReaderParams, TimeSeriesModality, cleaning
from proxyml.modalities.timeseries import io as series_io
from proxyml.modalities.timeseries.io import SeriesSampleSet, read_series


def _values(data: SeriesSampleSet) -> np.ndarray:
    return data.raw(range(len(data)))


def _assert_usable(data: SeriesSampleSet) -> None:
    """Every model input is finite and the preprocessing is strict JSON (no Infinity/NaN)."""
    assert np.isfinite(_values(data)).all()
    json.dumps(data.preprocessing, allow_nan=False)


def _series(n: int = 6, channels: int = 2, steps: int = 20, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(loc=3.0, size=(n, channels, steps))


# ---------------------------------------------------------------- non-finite and out-of-range values


def test_one_inf_cell_in_an_npz_skips_and_names_only_that_series(tmp_path):
    x = _series()
    x[2, 0, 17] = np.inf
    ids = np.array([f"s{i}" for i in range(6)])
    np.savez(tmp_path / "x.npz", X=x, ids=ids)
    data = read_series(str(tmp_path / "x.npz"))
    assert data.ids == ["s0", "s1", "s3", "s4", "s5"]
    [skipped] = data.skipped
    assert skipped.id == "s2" and skipped.source == str(tmp_path / "x.npz")
    assert skipped.reason.startswith("has 1 infinite or out-of-range value (e.g. inf at channel 0, step 17)")
    assert any("infinite" in note and "Skipped 1 series" in note for note in data.notes)
    _assert_usable(data)
    np.testing.assert_allclose(_values(data).mean(axis=(0, 2)), 0.0, atol=1e-5)


@pytest.mark.parametrize("bad", [1e300, -1e39, -np.inf])
def test_values_beyond_the_float32_range_skip_their_series(tmp_path, bad):
    x = _series()
    x[4, 1, 3:5] = bad  # 1e300 is finite in float64, but its square overflows and float32 cannot hold it
    np.savez(tmp_path / "x.npz", X=x)
    data = read_series(str(tmp_path / "x.npz"))
    assert data.ids == ["0", "1", "2", "3", "5"]
    assert [s.id for s in data.skipped] == ["4"]
    assert data.skipped[0].reason.startswith(f"has 2 infinite or out-of-range values (e.g. {bad:g} at channel 1, step 3)")
    _assert_usable(data)


def test_inf_in_a_memory_mappable_npy_falls_back_to_memory_and_skips_it(tmp_path, monkeypatch):
    monkeypatch.setattr(cleaning, "_CHUNK_VALUES", 40)  # scan one series at a time
    x = _series(n=8, channels=1, steps=20).astype(np.float32)
    x[7, 0, 9] = -np.inf  # in the last chunk
    np.save(tmp_path / "x.npy", x)
    data = read_series(str(tmp_path / "x.npy"))
    assert not isinstance(data.array, np.memmap)
    assert data.ids == [str(i) for i in range(7)]
    assert data.skipped[0].id == "7" and "-inf at channel 0, step 9" in data.skipped[0].reason
    assert any("infinite or out-of-range" in note and "into memory" in note for note in data.notes)
    _assert_usable(data)


def test_clean_npy_is_scanned_in_chunks_and_stays_memory_mapped(tmp_path, monkeypatch):
    monkeypatch.setattr(cleaning, "_CHUNK_VALUES", 40)
    seen: list[int] = []
    scan = cleaning.out_of_range

    def spy(chunk: np.ndarray) -> np.ndarray:
        seen.append(len(chunk))
        return scan(chunk)

    monkeypatch.setattr(cleaning, "out_of_range", spy)
    np.save(tmp_path / "x.npy", _series(n=5, channels=1, steps=20))
    data = read_series(str(tmp_path / "x.npy"))
    assert isinstance(data.array, np.memmap) and len(data) == 5
    assert seen and max(seen) <= 2  # never the whole file at once
    _assert_usable(data)


def test_inf_in_an_npy_read_into_memory_is_skipped(tmp_path):
    x = _series(n=4, channels=1, steps=12)
    x[0, 0, 2] = np.nan  # forces the in-memory path
    x[1, 0, 5] = np.inf
    np.save(tmp_path / "x.npy", x)
    data = read_series(str(tmp_path / "x.npy"))
    assert data.ids == ["0", "2", "3"] and [s.id for s in data.skipped] == ["1"]
    _assert_usable(data)


def test_inf_in_a_ts_file_and_a_bundled_set_is_skipped(tmp_path, monkeypatch):
    rows = [",".join(str(v) for v in range(i, i + 10)) + ":a" for i in range(3)]
    rows[1] = rows[1].replace(",5,", ",inf,")
    header = ["@problemName demo", "@timeStamps false", "@univariate true", "@classLabel true a", "@data"]
    (tmp_path / "x.ts").write_text("\n".join(header + rows) + "\n")
    data = read_series(str(tmp_path / "x.ts"))
    assert data.ids == ["0", "2"] and "inf at channel 0, step 4" in data.skipped[0].reason
    _assert_usable(data)

    good = [np.arange(12.0)[None] + i for i in range(3)]
    bad = np.arange(12.0)[None] * 1e300
    monkeypatch.setattr(series_io, "_load_bundled_part", lambda name, part: ([good[0], bad, *good[1:]], ()))
    bundled = read_series("sktime:GunPoint", split="train")
    assert [s.id for s in bundled.skipped] == ["train-0001"] and len(bundled) == 3
    _assert_usable(bundled)


def test_wide_csv_value_beyond_float32_is_skipped(tmp_path):
    header = "id," + ",".join(f"t{i}" for i in range(10))
    rows = [f"s{r}," + ",".join(str(r + i) for i in range(10)) for r in range(3)]
    rows[0] = rows[0].replace(",3,", ",1e300,", 1)
    (tmp_path / "w.csv").write_text("\n".join([header, *rows]) + "\n")
    data = read_series(str(tmp_path / "w.csv"))
    assert data.ids == ["s1", "s2"] and data.skipped[0].id == "s0"
    _assert_usable(data)


def test_huge_but_representable_values_normalise_to_finite_numbers(tmp_path):
    x = np.full((4, 1, 10), -3e38, dtype=np.float32)
    x[0] = 3e38  # x - mean overflows float32
    x[1, 0, ::2] = 1e38  # a float32 sum over steps overflows
    np.save(tmp_path / "x.npy", x)
    for normalize in ("dataset", "series"):
        data = read_series(str(tmp_path / "x.npy"), normalize=normalize)
        assert data.skipped == []
        _assert_usable(data)
    series = _values(read_series(str(tmp_path / "x.npy"), normalize="series"))
    np.testing.assert_allclose(series[1].std(), 1.0, rtol=1e-5)


def test_statistics_must_be_finite():
    with pytest.raises(DataError, match=r"x\.npz: .*not finite"):
        cleaning.channel_stats(np.array([[[1.0, np.inf]]]), source="x.npz")
    mean, std = cleaning.channel_stats(np.full((3, 1, 4), 3e38, dtype=np.float32))
    assert np.isfinite(mean).all() and np.isfinite(std).all()
    stored = {"normalize": "dataset", "mean": [float("nan")], "std": [1.0], "length": 9,
              "length_policy": "pad", "channels": 1}
    with pytest.raises(DataError, match=r"x\.npz: the stored preprocessing has a non-finite mean"):
        cleaning.fit_preprocessing(np.zeros((2, 1, 9)), normalize="dataset", length_policy="pad",
                                   stored=stored, source="x.npz")


# ---------------------------------------------------------------- damaged .npz / .npy files


def _damaged_files(tmp_path: Path, suffix: str) -> dict[str, Path]:
    x = _series(n=20, channels=2, steps=50).astype(np.float32)
    good = tmp_path / f"good{suffix}"
    if suffix == ".npz":
        np.savez(good, X=x)
    else:
        np.save(good, x)
    data = good.read_bytes()
    files = {
        "truncated": data[: len(data) // 2],
        "header only": data[:40],
        "garbage": b"id,t0,t1\na,1,2\n",
        "empty": b"",
    }
    if suffix == ".npz":
        corrupted = bytearray(data)
        corrupted[len(data) // 2] ^= 0xFF
        files["corrupted"] = bytes(corrupted)
    paths = {}
    for name, content in files.items():
        paths[name] = tmp_path / f"{name.replace(' ', '_')}{suffix}"
        paths[name].write_bytes(content)
    return paths


@pytest.mark.parametrize("suffix", [".npz", ".npy"])
def test_damaged_numpy_files_are_a_data_error_naming_the_file(tmp_path, suffix):
    kind = "an .npz archive" if suffix == ".npz" else "an .npy file"
    for name, path in _damaged_files(tmp_path, suffix).items():
        with pytest.raises(DataError) as caught:
            read_series(str(path))
        message = str(caught.value)
        assert message.startswith(f"{path}: damaged or not {kind} written by NumPy"), (name, message)
        assert "re-export it with np.save" in message and "allow_pickle" not in message


def test_npz_and_npy_swapped_are_named(tmp_path):
    x = _series(n=3, channels=1, steps=10)
    np.save(tmp_path / "a.npy", x)
    (tmp_path / "a.npy").rename(tmp_path / "a.npz")
    with pytest.raises(DataError, match=r"a\.npz: .*single array.*not an \.npz archive"):
        read_series(str(tmp_path / "a.npz"))
    np.savez(tmp_path / "b.npz", X=x)
    (tmp_path / "b.npz").rename(tmp_path / "b.npy")
    with pytest.raises(DataError, match=r"b\.npy: .*an \.npz archive, not an \.npy"):
        read_series(str(tmp_path / "b.npy"))


def test_object_arrays_keep_their_own_message(tmp_path):
    np.savez(tmp_path / "o.npz", X=np.zeros((2, 10)), ids=np.array([1, "a"], dtype=object))
    with pytest.raises(DataError, match=r"o\.npz: cannot read .*store numbers for 'X' and strings for 'ids'"):
        read_series(str(tmp_path / "o.npz"))
    np.save(tmp_path / "o.npy", np.array([[1, "a"]], dtype=object))
    with pytest.raises(DataError, match=r"o\.npy: .*Python objects"):
        read_series(str(tmp_path / "o.npy"))


# ---------------------------------------------------------------- a folder as the source


def test_a_directory_source_says_a_file_is_expected(tmp_path):
    folder = tmp_path / "mydir"
    folder.mkdir()
    np.savez(folder / "calls.npz", X=_series(n=2, channels=1, steps=10))
    with pytest.raises(DataError, match=r"mydir is a directory.*one file \(\.ts, \.npz, \.npy, \.csv, \.parquet\).*calls\.npz"):
        read_series("mydir", base_dir=tmp_path)


# ---------------------------------------------------------------- .ts parse errors name the line


def _ts(tmp_path: Path, rows: list[str], header: list[str] | None = None) -> Path:
    header = header or ["@problemName demo", "@timeStamps false", "@univariate true", "@classLabel true 0 1"]
    path = tmp_path / "bad.ts"
    path.write_text("\n".join(["# a comment", *header, "@data", *rows]) + "\n")
    return path


_ROWS = [",".join(f"{v:.1f}" for v in range(i, i + 10)) + f":{i % 2}" for i in range(4)]


def test_ts_non_numeric_value_names_its_line(tmp_path):
    rows = list(_ROWS)
    rows[2] = rows[2].replace("5.0", "5,0x")
    path = _ts(tmp_path, rows)
    with pytest.raises(DataError, match=r"bad\.ts: cannot read as a \.ts file: .*line 9: '2\.0,3\.0.*'0x' is not a number"):
        read_series(str(path))


def test_ts_line_with_another_number_of_dimensions_names_its_line(tmp_path):
    header = ["@problemName demo", "@timeStamps false", "@univariate false", "@dimensions 2",
              "@classLabel true 0 1"]
    rows = [r.replace(":", ":" + r.split(":")[0] + ":") for r in _ROWS]
    rows[3] = _ROWS[3]
    path = _ts(tmp_path, rows, header)
    with pytest.raises(DataError, match=r"line 11: .* has 1 dimension\(s\), expected 2"):
        read_series(str(path))


def test_ts_missing_class_label_names_its_line(tmp_path):
    rows = list(_ROWS)
    rows[1] = rows[1].split(":")[0]
    with pytest.raises(DataError, match=r"line 8: .*no class label"):
        read_series(str(_ts(tmp_path, rows)))
    every = [r.split(":")[0] for r in _ROWS]  # sktime reads these as labels and no values
    with pytest.raises(DataError, match=r"line 7: .*no class label"):
        read_series(str(_ts(tmp_path, every)))


def test_ts_error_without_a_bad_data_line_keeps_the_message(tmp_path):
    path = _ts(tmp_path, _ROWS, ["@problemName demo", "@univariate true", "@classLabel true 0 1"])
    with pytest.raises(DataError) as caught:
        read_series(str(path))
    message = str(caught.value).removeprefix(str(path))
    assert "metadata" in message and "line" not in message


# ---------------------------------------------------------------- CSV encoding


def test_csv_encoding_reader_parameter(tmp_path):
    header = "id," + ",".join(f"t{i}" for i in range(10))
    rows = [f"{name}," + ",".join(str(r + i) for i in range(10)) for r, name in enumerate(["café", "naïve"])]
    (tmp_path / "l1.csv").write_bytes(("\n".join([header, *rows]) + "\n").encode("latin-1"))
    data = read_series(str(tmp_path / "l1.csv"), encoding="latin-1")
    assert data.ids == ["café", "naïve"]
    params = SeriesReaderParams(encoding="latin-1")
    assert SeriesReaderParams().encoding == "utf-8"
    assert TimeSeriesModality().read("l1.csv", params, base_dir=tmp_path).ids == ["café", "naïve"]
    with pytest.raises(DataError, match="'encoding'.*'latin-9000'"):
        read_series(str(tmp_path / "l1.csv"), encoding="latin-9000")
