"""Reading raw survey exports (CSV of any platform, Excel ``.xlsx``) into text cells.

The reader keeps every cell as text (``""`` when empty) and the 1-based line
of every row in the input file — counting the header and the extra lines of
multi-line quoted cells — so that every later message can name file, line and
column. It never interprets values: that is the job of the mapping.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputFileError

__all__ = ["RawTable", "read_table"]

_DELIMITERS = (";", ",", "\t", "|")
_BREAKS = re.compile(r"\r\n|\r|\n")


@dataclass(frozen=True, repr=False)
class RawTable:
    """Cells of one export as text.

    Attributes
    ----------
    path : Path
    headers : list of str
        Header texts as in the file (outer spaces removed), in file order.
    cells : pandas.DataFrame
        One column per header, named by its position (0, 1, …), str values,
        ``""`` for empty cells; blank rows removed.
    lines : numpy.ndarray
        1-based line (CSV) or row (Excel) of each row of ``cells`` in the file.
    encoding, delimiter, sheet : str or None
        What was detected (``encoding``/``delimiter`` for CSV, ``sheet`` for Excel).
    blank_rows : int
        Number of blank rows skipped.
    """

    path: Path
    headers: list[str]
    cells: pd.DataFrame
    lines: np.ndarray
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    blank_rows: int = 0

    def __repr__(self) -> str:
        return f"<RawTable {self.path.name}: {len(self.cells)} rows × {len(self.headers)} columns>"


def read_table(
    path, *, encoding: str | None = None, delimiter: str | None = None, sheet=None
) -> RawTable:
    """Read a CSV or Excel export as text cells with their input line numbers.

    Parameters
    ----------
    path : path-like
        ``.csv``/``.txt``/``.tsv`` (any of ``; , tab |``, UTF-8 with or
        without BOM, UTF-16 with BOM, or Windows-1252 as Excel writes it) or
        ``.xlsx``/``.xlsm``.
    encoding, delimiter : str, optional
        Force the encoding or the delimiter of a CSV instead of detecting them.
    sheet : str or int, optional
        Excel sheet (name or 0-based position); default the first one.

    Raises
    ------
    InputFileError
        Missing, empty, unreadable or undecodable file, or a CSV row with more
        cells than the header; the message names the file and the line.
    """
    path = Path(path)
    if path.is_dir():
        raise InputFileError(
            f"{path}: is a folder, not an export file. Pass the files themselves, e.g. "
            f"sorted(Path({str(path)!r}).glob('*.csv'))."
        )
    if not path.is_file():
        raise InputFileError(
            f"{path}: file not found. Check the path (relative paths start from {Path.cwd()})."
        )
    suffix = path.suffix.lower()
    if suffix in {".xls", ".ods", ".numbers"}:
        raise InputFileError(
            f"{path}: the {suffix} format is not read. Open it in a spreadsheet and save it as "
            "'Excel workbook (.xlsx)' or 'CSV UTF-8'."
        )
    raw = path.read_bytes()
    if not raw.strip():
        raise InputFileError(
            f"{path}: the file is empty. Export the responses again from the survey platform."
        )
    if suffix in {".xlsx", ".xlsm"} or raw[:4] == b"PK\x03\x04":
        return _read_xlsx(path, sheet)
    return _read_csv(path, raw, encoding, delimiter)


# ---------------------------------------------------------------------- CSV


def _decode(path: Path, raw: bytes, encoding: str | None) -> tuple[str, str]:
    if encoding:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise InputFileError(
                f"{path}: unknown encoding {encoding!r} in the mapping. Use 'utf-8', "
                "'cp1252' (Excel on Windows), 'latin-1' or 'utf-16'."
            ) from None
        candidates = [encoding]
    elif raw.startswith(codecs.BOM_UTF8):
        candidates = ["utf-8-sig"]
    elif raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates = ["utf-16"]
    else:
        if b"\x00" in raw[:4096]:
            raise InputFileError(
                f"{path}: the file contains NUL bytes: it is binary or UTF-16 without a "
                "byte-order mark. Re-export it as 'CSV UTF-8' (or .xlsx)."
            )
        candidates = ["utf-8", "cp1252"]
    failures = []
    for enc in candidates:
        try:
            return raw.decode(enc), enc
        except UnicodeDecodeError as exc:
            line = raw[: exc.start].count(b"\n") + 1
            failures.append(f"not {enc} (byte 0x{raw[exc.start]:02x} on line {line})")
    raise InputFileError(
        f"{path}: cannot decode the file: {'; '.join(failures)}. Re-save it as 'CSV UTF-8' "
        "from your spreadsheet, or declare its encoding in your mapping file "
        "(encoding: latin-1)."
    )


def _sniff_delimiter(text: str) -> str:
    sample = text[:65536]
    if len(text) > len(sample) and "\n" in sample:
        sample = sample[: sample.rindex("\n")]
    best, best_score = ",", (False, 0.0, 0)
    for delim in _DELIMITERS:
        records = []
        try:
            for rec in csv.reader(io.StringIO(sample), delimiter=delim):
                if rec:
                    records.append(len(rec))
                if len(records) >= 30:
                    break
        except csv.Error:
            continue
        if not records:
            continue
        head, rest = records[0], records[1:]
        consistency = sum(n == head for n in rest) / len(rest) if rest else 1.0
        score = (head > 1, consistency, head)
        if score > best_score:
            best, best_score = delim, score
    return best


def _read_csv(path: Path, raw: bytes, encoding: str | None, delimiter: str | None) -> RawTable:
    text, enc = _decode(path, raw, encoding)
    if text.startswith("\ufeff"):
        text = text[1:]
    # pandas parses UTF-8 bytes about twice as fast as a str: give it bytes
    utf8 = raw[len(codecs.BOM_UTF8) :] if enc == "utf-8-sig" else raw if enc == "utf-8" else None
    del raw
    delim = delimiter or _sniff_delimiter(text)
    if text.count('"') % 2:
        _check_quotes(path, text, delim)
    try:
        df = pd.read_csv(
            io.BytesIO(utf8 if utf8 is not None else text.encode("utf-8")),
            encoding="utf-8",
            sep=delim,
            header=None,
            dtype=str,
            na_filter=False,
            keep_default_na=False,
            skip_blank_lines=False,
            quotechar='"',
            doublequote=True,
            engine="c",
        )
    except pd.errors.EmptyDataError:
        raise InputFileError(
            f"{path}: no header line found. Export the responses again from the survey platform."
        ) from None
    except pd.errors.ParserError:
        # Rows longer than the header: fine when the extra cells are empty (Excel
        # writes trailing delimiters), else an error naming the exact line.
        return _read_csv_slow(path, text, enc, delim)
    n_records = len(df)
    breaks = np.zeros(n_records, dtype=np.int64)
    n_physical = text.count("\n") + text.count("\r") - text.count("\r\n")
    if text and text[-1] not in "\r\n":
        n_physical += 1
    if n_physical != n_records:  # some cells span several lines: count them where they are
        for col in df.columns:
            s = df[col]
            if s.str.contains("\n", regex=False).any() or s.str.contains("\r", regex=False).any():
                breaks += s.str.count(_BREAKS.pattern).to_numpy(dtype=np.int64)
    del text
    starts = 1 + np.arange(n_records) + np.concatenate([[0], np.cumsum(breaks)[:-1]])
    headers = [_header(v, i) for i, v in enumerate(df.iloc[0].tolist())]
    body = df.iloc[1:]
    return _finish(path, headers, body, starts[1:], enc, delim, None)


@contextlib.contextmanager
def _no_field_limit():
    """Let the csv module read cells of any size (its default limit is 128 KB)."""
    old = csv.field_size_limit()
    csv.field_size_limit(2**31 - 1)
    try:
        yield
    finally:
        csv.field_size_limit(old)


def _read_csv_slow(path: Path, text: str, enc: str, delim: str) -> RawTable:
    """Read row by row: rows longer than the header are fine if the extra cells are empty."""
    header_len, previous = None, 0
    records, starts = [], []
    with _no_field_limit():
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim)
        for rec in reader:
            start, previous = previous + 1, reader.line_num
            if header_len is None:
                header_len = len(rec)
            elif len(rec) > header_len and any(v.strip() for v in rec[header_len:]):
                raise InputFileError(
                    f"{path}: line {start} has {len(rec)} cells but the header has {header_len} "
                    f"(delimiter {delim!r}). A cell probably contains an unquoted {delim!r} or a "
                    'quote " is not closed. Fix: put that cell between double quotes, or export '
                    "the file again from the survey platform or spreadsheet."
                )
            records.append((rec + [""] * header_len)[:header_len])
            starts.append(start)
    headers = [_header(v, i) for i, v in enumerate(records[0])]
    body = pd.DataFrame(records[1:], columns=range(header_len), dtype="str")
    return _finish(path, headers, body, starts[1:], enc, delim, None)


def _check_quotes(path: Path, text: str, delim: str) -> None:
    """Raise if a quoted cell is never closed (pandas would swallow the rest of the file).

    Only the end of data inside quotes is fatal: the other complaints of the strict
    csv mode (a character after a closing quote) are read leniently, as pandas does,
    and the scan goes on with the next line.
    """
    previous = 0
    with _no_field_limit():
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim, strict=True)
        while True:
            try:
                next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                if "unexpected end of data" in str(exc):
                    raise InputFileError(
                        f"{path}: the quoted cell opened on line {previous + 1} is never closed "
                        '(a lone double quote "), so the rest of the file would be read as one '
                        "cell. Fix: close the quote or remove it, or export the file again."
                    ) from None
            previous = reader.line_num


def _header(value, position: int) -> str:
    text = "" if value is None else re.sub(r"\s*[\r\n\t]+\s*", " ", str(value)).strip()
    return text or f"(colonne {position + 1} sans titre)"


def _finish(path, headers, body: pd.DataFrame, lines, enc, delim, sheet) -> RawTable:
    body = body.reset_index(drop=True)
    body.columns = range(body.shape[1])
    blank = np.ones(len(body), dtype=bool)
    for col in body.columns:
        empty = (body[col] == "").to_numpy(dtype=bool, copy=True)
        maybe = blank & ~empty  # only non-empty cells of still-blank rows need a strip
        if maybe.any():
            empty[maybe] = (body[col][maybe].str.strip() == "").to_numpy()
        blank &= empty
    kept = body[~blank].reset_index(drop=True)
    return RawTable(
        path=path,
        headers=headers,
        cells=kept,
        lines=np.asarray(lines, dtype=np.int64)[~blank],
        encoding=enc,
        delimiter=delim,
        sheet=sheet,
        blank_rows=int(blank.sum()),
    )


# ---------------------------------------------------------------------- Excel


def _read_xlsx(path: Path, sheet) -> RawTable:
    import zipfile

    try:
        import openpyxl
        from openpyxl.utils.exceptions import InvalidFileException
    except ImportError:  # pragma: no cover - declared dependency
        raise InputFileError(
            f"{path}: reading .xlsx needs openpyxl: pip install openpyxl"
        ) from None
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError) as exc:
        raise InputFileError(
            f"{path}: not a readable .xlsx workbook ({type(exc).__name__}): it may be corrupt, "
            "password-protected or another format renamed .xlsx. Open it in a spreadsheet and "
            "save it again as .xlsx or 'CSV UTF-8'."
        ) from None
    try:
        names = wb.sheetnames
        if sheet is None:
            ws = wb.worksheets[0]
        elif isinstance(sheet, int) and 0 <= sheet < len(names):
            ws = wb.worksheets[sheet]
        elif isinstance(sheet, str) and sheet in names:
            ws = wb[sheet]
        else:
            raise InputFileError(
                f"{path}: no sheet {sheet!r}; the workbook has: {', '.join(names)}. "
                "Set 'sheet:' in your mapping file to one of them (name or 0-based position)."
            )
        rows, lines = [], []
        for number, row in enumerate(ws.iter_rows(), start=1):
            values = [_xlsx_text(c) for c in row]
            if not rows and not any(v.strip() for v in values):
                continue  # leading blank rows before the header
            rows.append(values)
            lines.append(number)
        title = ws.title
    finally:
        wb.close()
    if not rows:
        raise InputFileError(
            f"{path}: sheet {title!r} is empty. Choose the sheet holding the responses "
            "with 'sheet:' in your mapping file."
        )
    width = max(len(r) for r in rows)
    rows = [r + [""] * (width - len(r)) for r in rows]
    headers = [_header(v, i) for i, v in enumerate(rows[0])]
    body = pd.DataFrame(rows[1:], columns=range(width), dtype="str")
    if body.shape[1] == 0:
        body = pd.DataFrame(columns=range(width), dtype="str")
    return _finish(path, headers, body, lines[1:], None, None, title)


def _xlsx_text(cell) -> str:
    import datetime as dt

    value = getattr(cell, "value", None)
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "Oui" if value else "Non"
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, int | float):
        fmt = getattr(cell, "number_format", "") or ""
        if "%" in fmt:
            return f"{_number(round(value * 100, 9))} %"
        return _number(value)
    return str(value)


def _number(value) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return repr(value) if isinstance(value, float) else str(value)
