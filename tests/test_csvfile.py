"""proxyml.csvfile: the delimiter check, encoding errors with their line, and the options the
fallback tokenizer must honour."""

from __future__ import annotations

import pandas as pd
import pytest

from proxyml.csvfile import MalformedLine, check_delimiter, data_row_lines, read_csv, row_names
from proxyml.errors import DataError

# ------------------------------------------------------------------------------- delimiter


def test_a_semicolon_file_read_as_one_column_names_the_delimiter(tmp_path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("a;b;c\n1;2;3\n4;5;6\n")
    with pytest.raises(DataError) as error:
        read_csv(path, dtype=str, keep_default_na=True, option_hint="data.params")
    assert str(error.value) == (f"{path}: read as a single column 'a;b;c' — the file looks ';'-separated; "
                                "proxyml reads comma-separated files (set data.params.delimiter: ';')")
    with pytest.raises(DataError, match=r"\(set labels.delimiter: ';'\)$"):
        read_csv(path, dtype=str, option_hint="labels")
    with pytest.raises(DataError, match=r"\(read it with the delimiter option set to ';', or save it "
                                        r"comma-separated\)$"):
        read_csv(path)  # no option_hint: no recipe key the caller may not have
    frame, malformed = read_csv(path, sep=";")
    assert frame.columns.tolist() == ["a", "b", "c"] and malformed == []


def test_tab_and_pipe_files_and_a_wrong_delimiter_option(tmp_path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("a\tb\n1\t2\n")
    with pytest.raises(DataError, match=r"looks tab-separated; .*\(set data.params.delimiter: \"\\t\"\)"):
        read_csv(path, option_hint="data.params")
    path.write_text("a|b\n1|2\n")
    with pytest.raises(DataError, match=r"looks '\|'-separated; proxyml reads ';'-separated files"):
        read_csv(path, sep=";")
    path.write_text("a|b\n")  # a header without rows
    with pytest.raises(DataError, match=r"single column 'a\|b'"):
        read_csv(path)


def test_genuine_single_columns_are_not_blamed_on_the_delimiter(tmp_path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("id\na\nb\n")
    assert read_csv(path)[0]["id"].tolist() == ["a", "b"]
    path.write_text('"notes; misc"\nplain\ntext\n')  # the name holds ';', the cells do not
    assert read_csv(path)[0].columns.tolist() == ["notes; misc"]
    check_delimiter(path, pd.DataFrame({"a;b": ["1;2"], "c": ["3"]}))  # two columns: not a question


def test_semicolons_over_decimal_commas_name_the_delimiter(tmp_path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("id;x\na;1,5\nb;2,5\n")  # two fields per row for one in the header
    with pytest.raises(DataError, match=r"single column 'id;x' — the file looks ';'-separated"):
        read_csv(path, option_hint="labels")


def test_the_fallback_honours_the_delimiter(tmp_path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("id;x\na;1\nb;2;3\nc;4\n")
    frame, malformed = read_csv(path, sep=";", dtype=str)
    assert frame["id"].tolist() == ["a", "c"] and malformed == [MalformedLine(3, "expected 2 fields, saw 3")]
    assert row_names(path, [0, 1], 2, delimiter=";") == ["<line 2>", "<line 4>"]


# -------------------------------------------------------------------------------- encoding


def test_a_latin1_file_names_the_file_the_line_and_the_option(tmp_path) -> None:
    path = tmp_path / "x.csv"
    path.write_bytes('id,city\na,"two\nlines"\n\nb,Orléans\nc,Nîmes\n'.encode("latin-1"))
    with pytest.raises(DataError) as error:
        read_csv(path, dtype=str, option_hint="labels")
    assert str(error.value) == (f"{path}: line 5 is not valid utf-8 text (byte 0xe9); "
                                "set labels.encoding: latin-1 (or cp1252) if that is how the file was saved")
    assert "data.params" not in str(error.value)
    with pytest.raises(DataError, match=r"line 5 .*; read it with the encoding option set to latin-1 "
                                        r"\(or cp1252\) if that is how the file was saved, or save it as UTF-8$"):
        read_csv(path)
    frame, _ = read_csv(path, dtype=str, encoding="latin-1")
    assert frame["city"].tolist() == ["two\nlines", "Orléans", "Nîmes"]


def test_the_line_is_right_far_into_a_large_file(tmp_path) -> None:
    """The bad byte lies past the first MiB read, after a valid two-byte character that the
    read splits."""
    path = tmp_path / "x.csv"
    head = "id,x\n" + "".join(f"r{i},{i}\n" for i in range(60_000))
    head += "p" * ((1 << 20) - len(head.encode()) - 2) + ",é\n"  # 'é' straddles the MiB boundary
    assert head.encode()[(1 << 20) - 1:(1 << 20) + 1] == "é".encode()
    path.write_bytes(head.encode() + "q,ok\nbad,\xff\n".encode("latin-1"))
    lines = head.count("\n") + 2  # the header is line 1, then the "q" line
    with pytest.raises(DataError, match=rf"line {lines} is not valid utf-8 text \(byte 0xff\)"):
        read_csv(path, dtype=str)


def test_the_fallback_and_row_names_honour_the_encoding(tmp_path) -> None:
    path = tmp_path / "x.csv"
    path.write_bytes("id,city\na,Sète\nb,Nîmes,extra\n,Orléans\nc,Brest\n".encode("cp1252"))
    frame, malformed = read_csv(path, dtype=str, encoding="cp1252")
    assert frame["city"].tolist() == ["Sète", "Orléans", "Brest"] and [m.line for m in malformed] == [3]
    assert data_row_lines(path, encoding="cp1252") == [2, 4, 5]
    assert row_names(path, [1], 3, encoding="cp1252") == ["<line 4>"]
    assert row_names(path, [1], 3) == ["<row 2>"]  # scanned as UTF-8 it cannot be read: row numbers


def test_a_utf8_byte_order_mark_is_still_dropped_by_the_fallback(tmp_path) -> None:
    path = tmp_path / "x.csv"
    path.write_bytes("\ufeffid,x\na,1\nb,2,3\n".encode())
    frame, malformed = read_csv(path, dtype=str)
    assert frame.columns.tolist() == ["id", "x"] and len(malformed) == 1


def test_an_unknown_encoding_is_a_data_error(tmp_path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("id,x\na,1\n")
    with pytest.raises(DataError, match=r"x.csv: unknown encoding 'latin-9000'"):
        read_csv(path, encoding="latin-9000")
