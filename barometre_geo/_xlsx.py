"""A minimal, deterministic ``.xlsx`` writer (one sheet of headers and rows).

Why not openpyxl, a dependency (it *reads* the survey exports):

* the demo's wave-3 export: survey platforms write their Excel exports with
  their own libraries (PhpSpreadsheet for LimeSurvey…), not with openpyxl;
  this writer gives the reader a workbook it did not write itself;
* the prospect lists of the coverage (one workbook per structure and one for
  France, ~16,000 rows): openpyxl's write-only mode takes about four times as
  long (``benchmarks/bench_coverage.py`` measures both in the same run), and
  the coverage outputs have a 5 s budget.

SpreadsheetML subset: inline strings (a code such as ``01001`` stays text),
numbers, dates with a date format; optionally a bold, frozen header row with
an autofilter and column widths. Byte-identical for the same content (fixed
zip times, no "modified" stamp). Text cells are written as given: neutralise
formula-like text first (:func:`barometre_geo._tables.safe_table`).
Tests read the files back with openpyxl.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from xml.sax.saxutils import escape

import numpy as np
import pandas as pd

__all__ = ["xlsx_bytes"]

_STAMP = (2025, 5, 23, 18, 0, 0)
_EPOCH = dt.datetime(1899, 12, 30)
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG = "http://schemas.openxmlformats.org/package/2006"
_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'

_CONTENT_TYPES = f"""{_HEAD}<Types xmlns="{_PKG}/content-types">\
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>\
<Default Extension="xml" ContentType="application/xml"/>\
<Override PartName="/xl/workbook.xml" \
ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>\
<Override PartName="/xl/worksheets/sheet1.xml" \
ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>\
<Override PartName="/xl/styles.xml" \
ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>\
<Override PartName="/docProps/core.xml" \
ContentType="application/vnd.openxmlformats-package.core-properties+xml"/></Types>"""
_ROOT_RELS = f"""{_HEAD}<Relationships xmlns="{_PKG}/relationships">\
<Relationship Id="rId1" Type="{_REL}/officeDocument" Target="xl/workbook.xml"/>\
<Relationship Id="rId2" Type="{_PKG}/relationships/metadata/core-properties" \
Target="docProps/core.xml"/></Relationships>"""
_WORKBOOK_RELS = f"""{_HEAD}<Relationships xmlns="{_PKG}/relationships">\
<Relationship Id="rId1" Type="{_REL}/worksheet" Target="worksheets/sheet1.xml"/>\
<Relationship Id="rId2" Type="{_REL}/styles" Target="styles.xml"/></Relationships>"""
_STYLES = f"""{_HEAD}<styleSheet xmlns="{_MAIN}">\
<numFmts count="1"><numFmt numFmtId="164" formatCode="dd/mm/yyyy hh:mm:ss"/></numFmts>\
<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>\
<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>\
<fills count="2"><fill><patternFill patternType="none"/></fill>\
<fill><patternFill patternType="gray125"/></fill></fills>\
<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>\
<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>\
<cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>\
<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>\
<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>\
</cellXfs><cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>\
</styleSheet>"""


def _column(i: int) -> str:
    name = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        name = chr(65 + r) + name
    return name


_SEP = "\x00"  # joins a column's texts; removed from the texts first
_ILLEGAL_BUT_SEP = re.compile("[\x01-\x08\x0b\x0c\x0e-\x1f]")


def _plain(value):
    """Return a cell value as ``str``, ``int``/``float``, datetime, or None (empty)."""
    kind = type(value)
    if kind is str:
        return value or None
    if kind is int:
        return value
    if kind is float:
        return None if value != value else value
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, np.bool_ | bool):
        return "oui" if value else "non"
    if isinstance(value, np.integer | np.floating):
        value = value.item()
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, str):
        return value or None
    if isinstance(value, int | float | dt.datetime):
        return value
    return str(value) or None


def _column_cells(letter: str, values: list, first_row: int, style: str) -> list[str]:
    """XML of one column's cells (``""`` for empty ones).

    Text is cleaned and escaped for the whole column at once (joined by a
    separator no cell holds), which is what makes this writer fast.
    """
    values = [_plain(v) for v in values]
    texts = [v.replace(_SEP, "") if _SEP in v else v for v in values if type(v) is str]
    joined = escape(_ILLEGAL_BUT_SEP.sub("", _SEP.join(texts)))
    escaped = iter(joined.split(_SEP) if texts else ())
    text_cell = f'{style} t="inlineStr"><is><t xml:space="preserve">'
    out = []
    for k, v in enumerate(values, start=first_row):
        kind = type(v)
        if kind is str:
            t = next(escaped)
            out.append(f'<c r="{letter}{k}"{text_cell}{t}</t></is></c>' if t else "")
        elif v is None:
            out.append("")
        elif kind is int or kind is float:
            out.append(f'<c r="{letter}{k}"{style}><v>{v!r}</v></c>')
        else:  # a datetime
            serial = (v - _EPOCH).total_seconds() / 86400
            out.append(f'<c r="{letter}{k}" s="1"><v>{serial:.8f}</v></c>')
    return out


def _sheet_view(n_cols: int, n_rows: int, widths) -> tuple[str, str]:
    """Frozen header row, column widths (before ``sheetData``), autofilter (after)."""
    view = (
        '<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" '
        'activePane="bottomLeft" state="frozen"/></sheetView></sheetViews>'
    )
    if widths:
        cols = "".join(
            f'<col min="{i + 1}" max="{i + 1}" width="{float(w):g}" customWidth="1"/>'
            for i, w in enumerate(widths)
        )
        view += f"<cols>{cols}</cols>"
    last = f"{_column(n_cols - 1)}{max(n_rows, 1)}"
    return view, f'<autoFilter ref="A1:{last}"/>'


def xlsx_bytes(
    headers: list[str],
    rows: list[list],
    *,
    sheet: str = "Réponses",
    title: str = "",
    header: bool = False,
    widths: list[float] | None = None,
) -> bytes:
    """One-sheet workbook: ``headers`` then ``rows`` (str, numbers, booleans, datetimes, None).

    Rows whose cells are all empty are left out, as a spreadsheet shows them.
    ``None``, NaN and NA are empty cells; booleans are written « oui » / « non ».

    Parameters
    ----------
    sheet, title : str
        Sheet name and document title (file properties).
    header : bool
        Bold header row, frozen, with an autofilter over the table.
    widths : list of float, optional
        Column widths (characters).

    Examples
    --------
    >>> import io, openpyxl
    >>> data = xlsx_bytes(["Code", "Population"], [["01001", 832]], sheet="Liste", header=True)
    >>> ws = openpyxl.load_workbook(io.BytesIO(data))["Liste"]
    >>> [c.value for c in ws[2]], ws.freeze_panes, ws.auto_filter.ref
    (['01001', 832], 'A2', 'A1:B2')
    """
    width = len(headers)
    body = [list(r[:width]) + [None] * (width - len(r)) for r in rows]
    columns = [
        _column_cells(_column(c), [headers[c]], 1, ' s="2"' if header else "")
        + _column_cells(_column(c), [r[c] for r in body], 2, "")
        for c in range(width)
    ]
    parts = []
    for k, cells in enumerate(zip(*columns, strict=True), start=1):
        xml = "".join(cells)
        if xml:
            parts.append(f'<row r="{k}">{xml}</row>')
    n = len(body) + 1
    before, after = _sheet_view(len(headers), n, widths) if header else ("", "")
    sheet_xml = (
        f'{_HEAD}<worksheet xmlns="{_MAIN}">{before}<sheetData>{"".join(parts)}</sheetData>'
        f"{after}</worksheet>"
    )
    workbook = (
        f'{_HEAD}<workbook xmlns="{_MAIN}" xmlns:r="{_REL}"><sheets>'
        f'<sheet name="{escape(sheet)}" sheetId="1" r:id="rId1"/></sheets></workbook>'
    )
    core = (
        f'{_HEAD}<cp:coreProperties xmlns:cp="{_PKG}/metadata/core-properties" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        f"<dc:title>{escape(title)}</dc:title><dc:creator>barometre-geo</dc:creator>"
        '<dcterms:created xsi:type="dcterms:W3CDTF">2025-05-23T18:00:00Z</dcterms:created>'
        "</cp:coreProperties>"
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in (
            ("[Content_Types].xml", _CONTENT_TYPES),
            ("_rels/.rels", _ROOT_RELS),
            ("docProps/core.xml", core),
            ("xl/workbook.xml", workbook),
            ("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS),
            ("xl/styles.xml", _STYLES),
            ("xl/worksheets/sheet1.xml", sheet_xml),
        ):
            info = zipfile.ZipInfo(name, date_time=_STAMP)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            # level 1: several times faster than the default, about as small for these sheets
            z.writestr(info, text.encode("utf-8"), compresslevel=1)
    return out.getvalue()
