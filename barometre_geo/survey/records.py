"""CSV records, row by row: where each row starts, and which lines are damaged.

A spreadsheet shows one row per line of an export, except where a quoted cell
spans several lines. A damaged export breaks that in ways a plain CSV parser
hides: a stray opening quote swallows every following line into one cell
until the next quote (136 rows silently merged into one in the attack of
issue 12), a line break outside quotes cuts a row in two, an unquoted
delimiter shifts the cells, a copy stopped half-way truncates the last row.

:func:`parse_records` reads the text with the standard ``csv`` module and
checks every record against the header and, where it holds quotes, against
the strict quoting rules:

* a record spanning several lines that is badly quoted, or whose multi-line
  cell holds lines that look like rows, is a **stray quote**: its first line
  is rejected and the reading starts again on the next line, so each
  following row is read on its own (a stray quote reaching the end of the
  file whose first line is not a full row and whose following lines hold no
  full row is a **truncated** last row);
* a single-line record badly quoted with the wrong number of cells has
  **misplaced quotes**: rejected (with the right number, it is read leniently,
  as pandas and spreadsheets do, and listed in a note);
* a single-line record with more non-empty cells than the header has an
  **unquoted delimiter**: rejected (empty cells beyond the header are
  trailing delimiters: read, and listed in a note);
* two consecutive short lines whose cells add up to the header's plus one
  are **one row cut by a line break** outside quotes: both rejected; a line
  of a single cell (in a file of three columns or more) is the **fragment**
  of a row cut at its first or last cell: rejected;
* a short last line without a final line break, or a last row ending inside
  quotes, is **truncated**: rejected;
* any other short line is padded with empty cells and listed in a note.

Every rejected line is a :class:`Damage` (lines, reason, French detail with
the fix); none of them is merged into another row. The details name columns
and lines, never a cell's value.
"""

from __future__ import annotations

import contextlib
import csv
import io
import itertools
import re
from dataclasses import dataclass, field

__all__ = ["CsvRecords", "Damage", "count_lines", "parse_records"]

_BREAK = re.compile(r"\r\n|\r|\n")


@dataclass(frozen=True)
class Damage:
    """Lines of an export that cannot be read as a row: rejected and located.

    Attributes
    ----------
    line, end : int
        First and last physical line (1-based) of the damaged stretch.
    reason : {"damaged", "truncated"}
    detail : str
        What is wrong and how to fix it (French), without any cell value.
    """

    line: int
    end: int
    reason: str
    detail: str


@dataclass
class CsvRecords:
    """What :func:`parse_records` found in a CSV text.

    ``rows`` (the data records, padded or trimmed to the header's width) is
    only filled when asked (``store=True``) or when the file is irregular.
    """

    header: list[str] | None = None
    header_index: int = 0  # position of the header among all records
    n_records: int = 0  # every record the csv module yields, blank lines included
    rows: list[list[str]] | None = None
    starts: list[int] = field(default_factory=list)
    damaged: list[Damage] = field(default_factory=list)
    padded: list[int] = field(default_factory=list)  # short rows completed with empty cells
    long_rows: list[int] = field(default_factory=list)  # rows with empty cells beyond the header
    lenient: list[int] = field(default_factory=list)  # rows read despite misplaced quotes
    multiline: int = 0
    restarted: bool = False  # a stray quote made the reading start again
    final_break: bool = True

    @property
    def regular(self) -> bool:
        """True when pandas' fast reader gives the same rows (nothing to repair)."""
        return not (self.damaged or self.long_rows or self.restarted)  # lists: empty is False


@contextlib.contextmanager
def _no_field_limit():
    """Let the csv module read cells of any size (its default limit is 128 KB)."""
    old = csv.field_size_limit()
    csv.field_size_limit(2**31 - 1)
    try:
        yield
    finally:
        csv.field_size_limit(old)


def count_lines(text: str) -> int:
    r"""Physical lines of a text (``\n``, ``\r\n`` or ``\r``; a last line without break counts).

    Examples
    --------
    >>> count_lines("a\r\nb\rc\n"), count_lines("a\nb"), count_lines("")
    (3, 2, 0)
    """
    n = text.count("\n") + text.count("\r") - text.count("\r\n")
    if text and text[-1] not in "\r\n":
        n += 1
    return n


def _records(feed, delim: str, base: int):
    """Yield ``(start line, end line, cells)`` of each record of ``feed`` (lines from ``base + 1``).

    The csv module consumes exactly the lines of each record it yields, so a
    reading started again after a damaged record can go on from the same
    iterator (see :func:`parse_records`).
    """
    reader = csv.reader(feed, delimiter=delim)
    previous = 0
    for rec in reader:
        yield base + previous + 1, base + reader.line_num, rec
        previous = reader.line_num


def _blank(rec: list[str]) -> bool:
    return not any(v.strip() for v in rec)


def _has_break(value: str) -> bool:
    return "\n" in value or "\r" in value


def _quotes_ok(raw: str, delim: str) -> bool:
    """Whether ``raw`` (the lines of one record) is exactly one well-quoted record."""
    reader = csv.reader(io.StringIO(raw, newline=""), delimiter=delim, strict=True)
    try:
        return sum(1 for _ in reader) == 1
    except csv.Error:
        return False


def _rows_inside(rec: list[str], width: int, delim: str) -> bool:
    """Tell whether a multi-line cell holds lines that look like rows (half the delimiters)."""
    threshold = max(1, (width - 1) // 2)
    for value in rec:
        if _has_break(value):
            for line in _BREAK.split(value)[1:]:
                if line.count(delim) >= threshold:
                    return True
    return False


def _column(header: list[str], k: int) -> str:
    name = header[k] if k < len(header) else ""
    return f"la colonne {k + 1}" + (f" « {name[:60]} »" if name.strip() else "")


def parse_records(text: str, delim: str, *, store: bool = False) -> CsvRecords:
    r"""Read CSV text record by record, locating damaged lines (see the module docstring).

    Parameters
    ----------
    text : str
        The decoded file (no byte-order mark).
    delim : str
        The delimiter.
    store : bool, default False
        Keep the data rows (else only the records that need repairing are
        kept, for the caller to choose pandas' fast reader when nothing does).

    Returns
    -------
    CsvRecords

    Examples
    --------
    A stray quote on line 3 would swallow lines 4 and 5 into one cell: line 3
    is rejected, lines 4 and 5 are read as their own rows.

    >>> r = parse_records('a;b;c\n1;x;y\n2;"x;y\n3;x;y\n4;x;y\n', ";", store=True)
    >>> r.starts, r.rows, [(d.line, d.reason) for d in r.damaged]
    ([2, 4, 5], [['1', 'x', 'y'], ['3', 'x', 'y'], ['4', 'x', 'y']], [(3, 'damaged')])
    """
    out = CsvRecords(final_break=not text or text[-1] in "\r\n")
    lines = io.StringIO(text, newline="").readlines()
    quoted = '"' in text
    items: list[tuple[int, int, int, list[str] | None]] = []  # start, end, width, cells
    total = len(lines)
    width = 0
    with _no_field_limit():
        source = iter(lines)  # shared: a new reading after damage goes on from where it is
        gen = _records(source, delim, 0)
        while True:
            try:
                start, end, rec = next(gen)
            except StopIteration:
                break
            out.n_records += 1
            if out.header is None:
                if _blank(rec) and len(rec) <= 1:
                    continue  # blank lines before the header
                out.header, width = rec, len(rec)
                out.header_index = out.n_records - 1
                continue
            bad_quotes = False
            if quoted and not _blank(rec):
                raw = lines[start - 1] if end == start else "".join(lines[start - 1 : end])
                bad_quotes = '"' in raw and not _quotes_ok(raw, delim)
            if end > start and not _blank(rec) and (bad_quotes or _rows_inside(rec, width, delim)):
                if (
                    end >= total
                    and not _rows_inside(rec, width, delim)
                    and not _row_with_quote(lines[start - 1], rec, width, delim)
                    and not _rows_after(lines, start, delim, width)
                ):
                    k = next((i for i, v in enumerate(rec) if _has_break(v)), len(rec) - 1)
                    out.damaged.append(
                        Damage(start, end, "truncated", _truncated_in_quotes(out.header, k, start))
                    )
                    break
                out.damaged.append(_stray_quote(out.header, rec, start))
                out.restarted = True
                # lines start+1..end were read as part of the damaged record: read them again
                gen = _records(itertools.chain(lines[start:end], source), delim, start)
                continue
            if end > start and not _blank(rec):
                out.multiline += 1
            if bad_quotes and end >= total and not out.final_break:
                k = next((i for i, v in enumerate(rec) if '"' in v), max(len(rec) - 1, 0))
                out.damaged.append(
                    Damage(start, end, "truncated", _truncated_in_quotes(out.header, k, start))
                )
                continue
            if bad_quotes and len(rec) != width:
                out.damaged.append(_misplaced_quotes(len(rec), width, start))
                continue
            if bad_quotes:
                out.lenient.append(start)
            keep = store or len(rec) != width
            items.append((start, end, len(rec), rec if keep else None))
    if out.header is None:
        return out
    _classify(out, items, width, delim, total)
    return out


def _rows_after(lines: list[str], start: int, delim: str, width: int) -> bool:
    """Whether the lines after ``start`` hold at least one full row when read on their own."""
    for _, _, rec in _records(iter(lines[start:]), delim, start):
        if len(rec) == width and not _blank(rec):
            return True
    return False


def _row_with_quote(line: str, rec: list[str], width: int, delim: str) -> bool:
    """Whether the first ``line`` of a record is a full row plus a stray opening quote.

    Its cells, quotes taken as plain characters, are exactly the header's, and
    the quoted cell already holds a delimiter on that line: the quote swallowed
    the rest of the row, not a multi-line cell (whose first line would give
    fewer cells, or more if its text held delimiters).
    """
    k = next((i for i, v in enumerate(rec) if _has_break(v)), None)
    if k is None or delim not in _BREAK.split(rec[k], maxsplit=1)[0]:
        return False
    text = _BREAK.split(line, maxsplit=1)[0]
    cells = next(csv.reader([text], delimiter=delim, quoting=csv.QUOTE_NONE), [])
    return len(cells) == width


def _truncated_in_quotes(header: list[str], k: int, start: int) -> str:
    return (
        f"le fichier s’arrête dans une cellule entre guillemets ouverte ligne {start} "
        f"({_column(header, k)}) : il semble tronqué (export ou copie interrompus), ou ce "
        "guillemet est en trop. Corrigez le guillemet, ou exportez à nouveau le fichier."
    )


def _misplaced_quotes(n: int, width: int, start: int) -> Damage:
    return Damage(
        start,
        start,
        "damaged",
        f"guillemets mal placés : la ligne se lit en {n} cellule{'s' if n > 1 else ''} au lieu "
        f"de {width} (un guillemet ouvrant isolé, ou un guillemet non doublé dans une cellule "
        'entre guillemets). Corrigez : supprimez le guillemet en trop, ou doublez-le ("").',
    )


def _stray_quote(header: list[str], rec: list[str], start: int) -> Damage:
    k = next((i for i, v in enumerate(rec) if _has_break(v)), 0)
    return Damage(
        start,
        start,
        "damaged",
        f"guillemet ouvert dans {_column(header, k)} et jamais refermé sur la ligne : la "
        "suite du fichier aurait été lue comme une seule cellule ; les lignes suivantes ont "
        "été relues une à une. Corrigez : supprimez ce guillemet ou refermez-le.",
    )


def _classify(out: CsvRecords, items, width: int, delim: str, total: int) -> None:
    """Sort the records into rows, padded rows and damaged lines (see the module docstring)."""
    rows: list[list[str] | None] = []
    skip = False
    last = len(items) - 1
    for i, (start, end, n, rec) in enumerate(items):
        if skip:
            skip = False
            continue
        if rec is not None and n != width and _blank(rec):
            rows.append([""] * width)  # a blank line: dropped later, counted as blank
            out.starts.append(start)
            continue
        nxt = items[i + 1] if i < last else None
        if (
            nxt is not None
            and end == start
            and nxt[0] == end + 1
            and nxt[1] == nxt[0]
            and n + nxt[2] == width + 1
            and max(n, nxt[2]) < width
            and not (nxt[0] >= total and not out.final_break)
        ):
            detail = (
                f"lignes {start} et {nxt[0]} : une seule réponse coupée en deux par un "
                f"retour à la ligne hors guillemets ({n} + {nxt[2]} cellules pour {width} "
                "colonnes). Corrigez : rejoignez les deux lignes, ou mettez la cellule "
                "entre guillemets."
            )
            out.damaged.append(Damage(start, end, "damaged", detail))
            out.damaged.append(Damage(nxt[0], nxt[1], "damaged", detail))
            skip = True
            continue
        if n > width:
            if any(v.strip() for v in rec[width:]):
                out.damaged.append(
                    Damage(
                        start,
                        end,
                        "damaged",
                        f"{n} cellules au lieu de {width} : une cellule contient "
                        f"probablement un « {delim} » sans guillemets. Corrigez : mettez "
                        "cette cellule entre guillemets, ou exportez à nouveau le fichier.",
                    )
                )
                continue
            out.long_rows.append(start)
        elif n < width:
            if end >= total and not out.final_break:
                out.damaged.append(
                    Damage(
                        start,
                        end,
                        "truncated",
                        f"dernière ligne incomplète ({n} cellule{'s' if n > 1 else ''} sur "
                        f"{width}) et pas de fin de ligne : le fichier semble tronqué (export "
                        "ou copie interrompus). Exportez-le à nouveau.",
                    )
                )
                continue
            if n == 1 and width >= 3:
                out.damaged.append(
                    Damage(
                        start,
                        end,
                        "damaged",
                        f"une seule cellule pour {width} colonnes : sans doute le morceau "
                        "d’une ligne voisine coupée par un retour à la ligne hors guillemets "
                        f"(vérifiez aussi les lignes {start - 1} et {end + 1}). Corrigez : "
                        "rejoignez-la à sa ligne, ou mettez la cellule entre guillemets.",
                    )
                )
                continue
            out.padded.append(start)
        rows.append(None if rec is None else (rec + [""] * width)[:width])
        out.starts.append(start)
    out.rows = rows if all(r is not None for r in rows) else None
    out.damaged.sort(key=lambda d: d.line)
