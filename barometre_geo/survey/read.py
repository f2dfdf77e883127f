"""Reading raw survey exports (CSV of any platform, Excel ``.xlsx``) into text cells.

The reader keeps every cell as text (``""`` when empty) and the 1-based line
of every row in the input file — counting the header and the extra lines of
multi-line quoted cells — so that every later message can name file, line and
column. It never interprets values: that is the job of the mapping.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputFileError
from .records import Damage, count_lines, parse_records

__all__ = ["RawTable", "read_table"]

_DELIMITERS = (";", ",", "\t", "|")


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
    damaged : tuple of Damage
        Lines of a CSV that could not be read as rows (stray quote, row cut
        in two, unquoted delimiter, truncated end): rejected, never merged
        into another row (see :mod:`barometre_geo.survey.records`).
    notes : tuple of str
        French remarks on the reading (mixed encodings, multi-line rows,
        padded short rows, no final line break).
    physical_lines : int
        Lines of the CSV file (header included); 0 for Excel.
    multiline_rows : int
        Data rows spanning several lines (quoted cells with line breaks).
    """

    path: Path
    headers: list[str]
    cells: pd.DataFrame
    lines: np.ndarray
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    blank_rows: int = 0
    damaged: tuple[Damage, ...] = ()
    notes: tuple[str, ...] = ()
    physical_lines: int = 0
    multiline_rows: int = 0

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
            f"sorted(Path({str(path)!r}).glob('*.csv')).",
            fr=f"{path} : c’est un dossier, pas un fichier d’export. Donnez les fichiers "
            f"eux-mêmes (par exemple {path}/*.csv).",
        )
    if not path.is_file():
        raise InputFileError(
            f"{path}: file not found. Check the path (relative paths start from {Path.cwd()}).",
            fr=f"{path} : fichier introuvable. Vérifiez le chemin (un chemin relatif part du "
            f"dossier courant, {Path.cwd()}).",
        )
    suffix = path.suffix.lower()
    if suffix in {".xls", ".ods", ".numbers"}:
        raise InputFileError(
            f"{path}: the {suffix} format is not read. Open it in a spreadsheet and save it as "
            "'Excel workbook (.xlsx)' or 'CSV UTF-8'.",
            fr=f"{path} : le format {suffix} n’est pas lu. Ouvrez-le dans un tableur et "
            "enregistrez-le en « Classeur Excel (.xlsx) » ou en « CSV UTF-8 ».",
        )
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputFileError(
            f"{path}: cannot be read ({exc.strerror}). Check its permissions.",
            fr=f"{path} : lecture impossible ({exc.strerror}). Vérifiez ses droits d’accès.",
        ) from None
    if not raw.strip():
        raise InputFileError(
            f"{path}: the file is empty. Export the responses again from the survey platform.",
            fr=f"{path} : le fichier est vide. Exportez à nouveau les réponses depuis la "
            "plateforme d’enquête.",
        )
    if suffix in {".xlsx", ".xlsm"} or raw[:4] == b"PK\x03\x04":
        return _read_xlsx(path, sheet)
    return _read_csv(path, raw, encoding, delimiter)


# ---------------------------------------------------------------------- CSV


def _decode(path: Path, raw: bytes, encoding: str | None) -> tuple[str, str, list[str]]:
    """Return the text, its encoding and French notes (a file mixing UTF-8 and Windows-1252)."""
    if encoding:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise InputFileError(
                f"{path}: unknown encoding {encoding!r} in the mapping. Use 'utf-8', "
                "'cp1252' (Excel on Windows), 'latin-1' or 'utf-16'.",
                fr=f"{path} : encodage {encoding!r} inconnu dans le fichier de correspondance. "
                "Utilisez 'utf-8', 'cp1252' (Excel sous Windows), 'latin-1' ou 'utf-16'.",
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
                "byte-order mark. Re-export it as 'CSV UTF-8' (or .xlsx).",
                fr=f"{path} : le fichier contient des octets nuls : c’est un fichier binaire, "
                "ou de l’UTF-16 sans marque d’ordre des octets. Exportez-le à nouveau en "
                "« CSV UTF-8 » (ou en .xlsx).",
            )
        candidates = ["utf-8", "cp1252"]
    failures, failures_fr = [], []
    for enc in candidates:
        try:
            return raw.decode(enc), enc, []
        except UnicodeDecodeError as exc:
            line = raw[: exc.start].count(b"\n") + 1
            if enc == "utf-8" and not encoding:
                mixed = _mixed(path, raw)
                if mixed is not None:
                    return mixed
            failures.append(f"not {enc} (byte 0x{raw[exc.start]:02x} on line {line})")
            failures_fr.append(f"pas en {enc} (octet 0x{raw[exc.start]:02x} ligne {line})")
    raise InputFileError(
        f"{path}: cannot decode the file: {'; '.join(failures)}. Re-save it as 'CSV UTF-8' "
        "from your spreadsheet, or declare its encoding in your mapping file "
        "(read: {encoding: latin-1}).",
        fr=f"{path} : impossible de décoder le fichier : {' ; '.join(failures_fr)}. "
        "Enregistrez-le à nouveau en « CSV UTF-8 » depuis votre tableur, ou déclarez son "
        "encodage dans votre fichier de correspondance (read: {encoding: latin-1}).",
    )


def _mixed(path: Path, raw: bytes) -> tuple[str, str, list[str]] | None:
    """Decode a file mixing UTF-8 and Windows-1252 lines (two exports pasted together).

    Returns None when no line holds a UTF-8 multi-byte sequence (a plain
    Windows-1252 file). A line that is valid UTF-8 is read as UTF-8 (a
    Windows-1252 text is valid UTF-8 only by an unlikely accident); the others
    as Windows-1252; the note lists them.
    """
    lines = raw.split(b"\n")
    texts, latin, utf8, neither = [], [], 0, None
    for number, line in enumerate(lines, start=1):
        try:
            text = line.decode("utf-8")
            utf8 += not line.isascii()
        except UnicodeDecodeError:
            try:
                text = line.decode("cp1252")
            except UnicodeDecodeError as exc:
                neither = neither or (number, line[exc.start])
                text = ""
            latin.append(number)
        texts.append(text)
    if not utf8:
        return None
    if neither:
        number, byte = neither
        raise InputFileError(
            f"{path}: the file mixes UTF-8 and Windows-1252 lines, and line {number} is "
            f"neither (byte 0x{byte:02x}). Re-save the file as 'CSV UTF-8'.",
            fr=f"{path} : le fichier mêle des lignes en UTF-8 et en Windows-1252, et la ligne "
            f"{number} n’est ni l’un ni l’autre (octet 0x{byte:02x}). Enregistrez à nouveau le "
            "fichier en « CSV UTF-8 ».",
        )
    n = len(latin)
    shown = ", ".join(str(x) for x in latin[:5]) + (" …" if n > 5 else "")
    note = (
        f"fichier mêlant deux encodages : {utf8} ligne{'s' if utf8 > 1 else ''} en UTF-8 et "
        f"{n} en Windows-1252 (ligne{'s' if n > 1 else ''} {shown}), chacune lue dans le "
        "sien ; enregistrez le fichier en « CSV UTF-8 » pour n’en avoir qu’un."
    )
    return "\n".join(texts), "utf-8+cp1252", [note]


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
    text, enc, notes = _decode(path, raw, encoding)
    if text.startswith("\ufeff"):
        text = text[1:]
    # pandas parses UTF-8 bytes about twice as fast as a str: give it bytes
    utf8 = raw[len(codecs.BOM_UTF8) :] if enc == "utf-8-sig" else raw if enc == "utf-8" else None
    del raw
    delim = delimiter or _sniff_delimiter(text)
    found = parse_records(text, delim)
    if found.header is None:
        raise InputFileError(
            f"{path}: no header line found. Export the responses again from the survey platform.",
            fr=f"{path} : aucune ligne d’en-tête. Exportez à nouveau les réponses depuis la "
            "plateforme d’enquête.",
        )
    body = None
    if found.regular:
        body = _pandas_rows(utf8 if utf8 is not None else text.encode("utf-8"), delim, found)
    if body is None:  # damaged or irregular: the rows as the csv module read them
        if found.rows is None:
            found = parse_records(text, delim, store=True)
        body = pd.DataFrame(found.rows, columns=range(len(found.header)), dtype="str")
        if not len(found.rows):
            body = pd.DataFrame(columns=range(len(found.header)), dtype="str")
    physical = count_lines(text)
    del text
    notes += _csv_notes(found, physical)
    headers = [_header(v, i) for i, v in enumerate(found.header)]
    return _finish(
        path,
        headers,
        body,
        found.starts,
        enc,
        delim,
        None,
        damaged=tuple(found.damaged),
        notes=tuple(notes),
        physical_lines=physical,
        multiline_rows=found.multiline,
    )


def _pandas_rows(data: bytes, delim: str, found) -> pd.DataFrame | None:
    """Return the data rows read by pandas' C reader (None if its records differ from csv's)."""
    try:
        df = pd.read_csv(
            io.BytesIO(data),
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
    except (pd.errors.ParserError, pd.errors.EmptyDataError):
        return None
    if len(df) != found.n_records or df.shape[1] != len(found.header):
        return None
    return df.iloc[found.header_index + 1 :]


def _thousands(n: int) -> str:
    return f"{n:,}".replace(",", "\u202f")


def _lines_text(lines: list[int], limit: int = 5) -> str:
    shown = ", ".join(str(x) for x in lines[:limit])
    return shown + (" …" if len(lines) > limit else "")


def _csv_notes(found, physical: int) -> list[str]:
    """French notes on the reading: multi-line rows, padded rows, missing final line break."""
    notes = []
    if found.multiline:
        notes.append(
            f"{found.multiline} ligne{'s' if found.multiline > 1 else ''} de données "
            f"occupe{'nt' if found.multiline > 1 else ''} plusieurs lignes du fichier (cellules "
            f"sur plusieurs lignes, entre guillemets) : {_thousands(physical)} lignes physiques, "
            "en-tête compris."
        )
    if found.padded:
        n = len(found.padded)
        notes.append(
            f"{n} ligne{'s' if n > 1 else ''} plus courte{'s' if n > 1 else ''} que l’en-tête, "
            f"complétée{'s' if n > 1 else ''} par des cellules vides (ligne"
            f"{'s' if n > 1 else ''} {_lines_text(found.padded)})."
        )
    if found.long_rows:
        n = len(found.long_rows)
        notes.append(
            f"{n} ligne{'s' if n > 1 else ''} avec des cellules vides au-delà de l’en-tête "
            f"(séparateurs en fin de ligne, ignorés ; ligne{'s' if n > 1 else ''} "
            f"{_lines_text(found.long_rows)}) : si une cellule y contient un séparateur sans "
            "guillemets, ses colonnes sont décalées, vérifiez-les."
        )
    if found.lenient:
        n = len(found.lenient)
        notes.append(
            f"{n} ligne{'s' if n > 1 else ''} aux guillemets mal placés mais au bon nombre de "
            f"cellules, lue{'s' if n > 1 else ''} en ignorant ces guillemets (ligne"
            f"{'s' if n > 1 else ''} {_lines_text(found.lenient)}) : vérifiez-les."
        )
    if not found.final_break and not any(d.reason == "truncated" for d in found.damaged):
        notes.append(
            "le fichier ne se termine pas par un retour à la ligne : vérifiez que sa dernière "
            "ligne est complète (un export interrompu s’arrête ainsi)."
        )
    return notes


def _header(value, position: int) -> str:
    text = "" if value is None else re.sub(r"\s*[\r\n\t]+\s*", " ", str(value)).strip()
    return text or f"(colonne {position + 1} sans titre)"


def _finish(path, headers, body: pd.DataFrame, lines, enc, delim, sheet, **extra) -> RawTable:
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
        **extra,
    )


# ---------------------------------------------------------------------- Excel


def _unreadable_xlsx(path: Path, exc: BaseException) -> InputFileError:
    return InputFileError(
        f"{path}: not a readable .xlsx workbook ({type(exc).__name__}): it may be corrupt, "
        "password-protected or another format renamed .xlsx. Open it in a spreadsheet and "
        "save it again as .xlsx or 'CSV UTF-8'.",
        fr=f"{path} : classeur .xlsx illisible ({type(exc).__name__}) : il est peut-être "
        "abîmé, protégé par un mot de passe, ou d’un autre format renommé en .xlsx. Ouvrez-le "
        "dans un tableur et enregistrez-le à nouveau en .xlsx ou en « CSV UTF-8 ».",
    )


def _read_xlsx(path: Path, sheet) -> RawTable:
    import openpyxl

    # a workbook is a zip of XML parts: a damaged one fails in zipfile, the XML
    # parser, openpyxl's readers or their type conversions, with many exception
    # types; every one of them means "this file is not a readable workbook"
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:
        raise _unreadable_xlsx(path, exc) from None
    try:
        names = wb.sheetnames
        if sheet is None:
            ws = wb.worksheets[0] if wb.worksheets else None
        elif isinstance(sheet, int) and 0 <= sheet < len(names):
            ws = wb.worksheets[sheet]
        elif isinstance(sheet, str) and sheet in names:
            ws = wb[sheet]
        else:
            raise InputFileError(
                f"{path}: no sheet {sheet!r}; the workbook has: {', '.join(names)}. "
                "Set 'sheet:' in your mapping file to one of them (name or 0-based position).",
                fr=f"{path} : pas de feuille {sheet!r} ; le classeur contient : "
                f"{', '.join(names)}. Indiquez l’une d’elles sous « read: {{sheet: …}} » dans "
                "votre fichier de correspondance (nom, ou position à partir de 0).",
            )
        if ws is None:
            raise _unreadable_xlsx(path, ValueError("no worksheet"))
        rows, lines = [], []
        try:
            for number, row in enumerate(ws.iter_rows(), start=1):
                values = [_xlsx_text(c) for c in row]
                if not rows and not any(v.strip() for v in values):
                    continue  # leading blank rows before the header
                rows.append(values)
                lines.append(number)
        except Exception as exc:  # damaged sheet XML (see above)
            raise _unreadable_xlsx(path, exc) from None
        title = ws.title
    finally:
        wb.close()
    if not rows:
        raise InputFileError(
            f"{path}: sheet {title!r} is empty. Choose the sheet holding the responses "
            "with 'sheet:' in your mapping file.",
            fr=f"{path} : la feuille {title!r} est vide. Choisissez la feuille qui contient les "
            "réponses sous « read: {sheet: …} » dans votre fichier de correspondance.",
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
