"""Media sources shared by the file-backed modalities (audio, video, images): a **folder** of
files or a **manifest** (CSV/Parquet with an id column, a file column relative to the manifest,
and metadata columns), listed without decoding anything.

:func:`list_media` turns ``data.source`` into a :class:`Listing` (ids, files, metadata);
:func:`probe_files` opens each file's header with the modality's probe and skips, naming the
file and the reason, what is missing, empty or unreadable. :class:`MediaReaderParams` holds the
``data.params`` keys every such reader shares.

Example:
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "a.wav").write_bytes(b"x"); _ = (folder / "sub").mkdir()
    >>> _ = (folder / "sub" / "b.wav").write_bytes(b"y")
    >>> list_media(str(folder), base_dir=None, suffixes=(".wav",), what="recordings").ids
    ['a', 'sub/b']
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd
from pydantic import Field, field_validator

from proxyml.csvfile import delimiter_option, encoding_option, read_csv
from proxyml.data import SkippedSample, id_text, repeated_ids
from proxyml.errors import DataError
from proxyml.params import Params
from proxyml.sources import resolve_path

MANIFEST_SUFFIXES = (".csv", ".parquet", ".pq")
Info = TypeVar("Info")


class MediaReaderParams(Params):
    """The ``data.params`` keys of every folder-or-manifest reader."""

    id_column: str = Field("id", description="a manifest's (or metadata table's) column of sample ids")
    file_column: str = Field("file", description="a manifest's column of file paths, relative to the manifest")
    metadata: str | None = Field(None, description="for a folder source: a CSV/Parquet of id + metadata columns "
                                 "(relative to the recipe)")
    encoding: str = Field("utf-8", description="a CSV manifest's text encoding")
    delimiter: str = Field(",", description="what separates a CSV manifest's cells: ',', ';', '|' or a tab ('tab')")

    _delimiter = field_validator("delimiter")(lambda cls, value: delimiter_option(value))
    _encoding = field_validator("encoding")(lambda cls, value: encoding_option(value))


@dataclass
class Listing:
    """The files of a source before their headers are read: ids, files, metadata (indexed by id)."""

    ids: list[str]
    files: list[Path]
    metadata: pd.DataFrame | None
    source: str
    notes: list[str] = field(default_factory=list)


def list_media(source: str, *, base_dir: Path | None, suffixes: Sequence[str], what: str, id_column: str = "id",
               file_column: str = "file", metadata: str | None = None, encoding: str = "utf-8",
               delimiter: str = ",", label_columns: tuple[str, ...] = ()) -> Listing:
    """The files ``source`` names: a folder (searched recursively for ``suffixes``; ids are paths
    relative to it without the suffix, metadata from the table ``metadata``) or a manifest.
    ``what`` names the files in messages (``"recordings"``, ``"videos"``)."""
    path = resolve_path(source, base_dir)
    if path.is_dir():
        listing = list_folder(path, suffixes)
        if metadata is not None:
            listing.metadata = metadata_table(resolve_path(metadata, base_dir), id_column, encoding, delimiter,
                                              label_columns, listing.notes)
    elif path.is_file():
        if path.suffix.lower() not in MANIFEST_SUFFIXES:
            raise DataError(f"data.source: {path} is neither a folder of {what} nor a manifest "
                            f"({', '.join(MANIFEST_SUFFIXES)} with {id_column!r} and {file_column!r} columns)")
        listing = list_manifest(path, id_column=id_column, file_column=file_column, encoding=encoding,
                                delimiter=delimiter, label_columns=label_columns)
    else:
        raise FileNotFoundError(f"data.source: no folder or manifest at {path}")
    if not listing.files:
        raise DataError(f"data.source: {path} holds no {what} ({', '.join(suffixes)})")
    return listing


def list_folder(folder: Path, suffixes: Sequence[str]) -> Listing:
    """Every file under ``folder`` (recursively) with one of ``suffixes``; ids are paths relative
    to it, without the suffix (``queue_a/call17``)."""
    wanted = {s.lower() for s in suffixes}
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in wanted)
    ids = [p.relative_to(folder).with_suffix("").as_posix() for p in files]
    dupes = repeated_ids(ids)
    if dupes:
        raise DataError(f"data.source: {folder} holds files that differ only in their suffix, e.g. {dupes[:3]}; "
                        "their ids would repeat. Keep one file per sample, or use a manifest with an id column.")
    return Listing(ids, files, None, str(folder), [])


def _read_table(path: Path, encoding: str, delimiter: str, key: str) -> tuple[pd.DataFrame, list[int]]:
    """A CSV (as text) or Parquet table and the lines of a CSV skipped as malformed."""
    try:
        if path.suffix.lower() in (".parquet", ".pq"):
            return pd.read_parquet(path), []
        frame, malformed = read_csv(path, dtype=str, keep_default_na=True, sep=delimiter, encoding=encoding,
                                    option_hint="data.params")
        return frame, [m.line for m in malformed]
    except pd.errors.EmptyDataError:
        raise DataError(f"{key}: {path} is empty") from None
    except DataError:
        raise
    except (pd.errors.ParserError, OSError, ValueError) as exc:
        raise DataError(f"{key}: cannot read {path} ({exc})") from None


def _ids(frame: pd.DataFrame, path: Path, id_column: str) -> list[str]:
    if id_column not in frame.columns:
        raise DataError(f"{path}: needs a {id_column!r} column (data.params.id_column); has {list(frame.columns)[:10]}")
    ids = [id_text(v) for v in frame[id_column]]
    missing = [i + 2 for i, v in enumerate(ids) if not isinstance(v, str) or not v.strip()]
    if missing:
        raise DataError(f"{path}: {len(missing)} rows have no {id_column!r}, e.g. line {missing[:5]}")
    dupes = repeated_ids(ids)
    if dupes:
        raise DataError(f"{path}: column {id_column!r} repeats ids, e.g. {dupes[:5]}")
    return ids


def list_manifest(path: Path, *, id_column: str, file_column: str, encoding: str, delimiter: str,
                  label_columns: tuple[str, ...]) -> Listing:
    """The files a manifest names (``file`` relative to the manifest's folder), and its other
    columns as metadata (less ``label_columns``, which are the labels)."""
    frame, malformed = _read_table(path, encoding, delimiter, "data.source")
    if file_column not in frame.columns:
        raise DataError(f"{path}: needs a {file_column!r} column (data.params.file_column); "
                        f"has {list(frame.columns)[:10]}")
    ids = _ids(frame, path, id_column)
    notes = []
    if malformed:
        notes.append(f"{len(malformed)} malformed lines of {path.name} were not used: line "
                     + ", ".join(str(m) for m in malformed[:10]))
    files = []
    for i, name in enumerate(frame[file_column]):
        if not isinstance(name, str) or not name.strip():
            raise DataError(f"{path}: line {i + 2} (id {ids[i]!r}) has no {file_column!r}")
        files.append(resolve_path(name.strip(), path.parent))
    extra = [c for c in frame.columns if c not in (id_column, file_column)]
    dropped = [c for c in extra if c in label_columns]
    if dropped:
        notes.append(f"manifest columns {dropped} are labels (labels.target) and are not metadata")
    columns = [c for c in extra if c not in label_columns]
    metadata = frame[columns].set_axis(pd.Index(ids, name="id")) if columns else None
    return Listing(ids, files, metadata, str(path), notes)


def metadata_table(path: Path, id_column: str, encoding: str, delimiter: str, label_columns: tuple[str, ...],
                   notes: list[str]) -> pd.DataFrame:
    """``data.params.metadata`` of a folder source: a CSV/Parquet with ``id`` + free columns."""
    if not path.is_file():
        raise FileNotFoundError(f"data.params.metadata: file not found: {path}")
    frame, _ = _read_table(path, encoding, delimiter, "data.params.metadata")
    ids = _ids(frame, path, id_column)
    columns = [c for c in frame.columns if c != id_column and c not in label_columns]
    if len(columns) < len(frame.columns) - 1:
        notes.append(f"metadata columns {[c for c in label_columns if c in frame.columns]} are labels and are not used")
    return frame[columns].set_axis(pd.Index(ids, name="id"))


def probe_files(listing: Listing, probe: Callable[[Path], Info], what: str,
                ) -> tuple[list[str], list[Path], list[Info], list[SkippedSample]]:
    """Each file's header through ``probe`` (which raises :class:`DataError` naming the file for
    one it cannot use); a file that is missing or empty, or that ``probe`` refuses, is skipped
    with its reason. Returns the ids, files and infos kept, and the skipped. Raises when none
    is left."""
    ids: list[str] = []
    files: list[Path] = []
    infos: list[Info] = []
    skipped: list[SkippedSample] = []
    for sample_id, file in zip(listing.ids, listing.files, strict=True):
        try:
            if not file.is_file():
                raise DataError(f"{file} does not exist")
            if file.stat().st_size == 0:
                raise DataError(f"{file.name} is empty (0 bytes)")
            info = probe(file)
        except DataError as exc:
            skipped.append(SkippedSample(sample_id, str(file), str(exc)))
            continue
        ids.append(sample_id)
        files.append(file)
        infos.append(info)
    if not ids:
        reasons = "; ".join(s.reason for s in skipped[:3])
        raise DataError(f"data.source: none of the {len(listing.files)} {what} in {listing.source} can be used "
                        f"({reasons})")
    return ids, files, infos, skipped


def subset_metadata(listing: Listing, ids: list[str]) -> pd.DataFrame | None:
    """The listing's metadata for the ``ids`` kept (``None`` without metadata)."""
    return None if listing.metadata is None else listing.metadata.reindex(ids)


def count_note(counts: dict[Any, int], describe: Callable[[Any], str]) -> str:
    """``"3 files at 16000 Hz, 1 files at 44100 Hz"``-style list of ``counts``."""
    return ", ".join(f"{n} files {describe(key)}" for key, n in sorted(counts.items()))


__all__ = ["Listing", "MANIFEST_SUFFIXES", "MediaReaderParams", "list_folder", "list_manifest", "list_media",
           "metadata_table", "probe_files", "subset_metadata"]
