"""Nothing lost when reading damaged exports (issue 12, item 3).

A property-based test mutates a real-looking export (rows of the synthetic demo
edition in the barometer's format, multi-line cells included): stray opening
quotes, quoted and unquoted line breaks, unquoted delimiters, other delimiters
and line endings, Windows-1252 or half-and-half encodings, truncation at any
byte. Whatever the damage, every row a spreadsheet shows is accounted for
exactly once (accepted + superseded + rejected), the damaged ones are located
by their line, and the rows the damage did not touch are read exactly as
before (never merged into another one).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from barometre_geo.survey.read import read_table
from barometre_geo.survey.responses import default_mapping, read_responses

N_SINGLE, N_MULTI = 22, 4
SETTINGS = dict(
    database=None,  # tests write only under tmp_path: no .hypothesis folder
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _breaks(cell: str) -> bool:
    return "\n" in cell or "\r" in cell


def _plain(cell: str) -> bool:
    """A cell written without quotes whatever the delimiter, long enough to cut in two."""
    return len(cell) >= 2 and not any(ch in cell for ch in '";,\t\n\r') and cell.strip() == cell


@pytest.fixture(scope="module")
def base(demo_exports):
    """Header and rows of a small export: single-line rows and rows with multi-line cells."""
    with open(demo_exports[0], encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh, delimiter=";"))
    header, body = rows[0], rows[1:]

    def cp1252_safe(r):
        try:
            ";".join(r).encode("cp1252")
            return True
        except UnicodeEncodeError:
            return False

    single = [r for r in body if not any(_breaks(c) for c in r) and cp1252_safe(r)][:N_SINGLE]
    multi = [r for r in body if any(_breaks(c) for c in r) and cp1252_safe(r)][:N_MULTI]
    data = single[:10] + multi[:2] + single[10:] + multi[2:]
    return header, data


@pytest.fixture(scope="module")
def context(territories):
    import barometre_geo as bg

    catalogue = bg.load_catalogue()
    mapping = default_mapping(catalogue)
    return {"territories": territories, "catalogue": catalogue, "mapping": mapping}


@dataclass
class Export:
    """A mutated export and what a spreadsheet shows of it."""

    data: bytes
    starts: list[int] = field(default_factory=list)  # byte offset of each row shown
    origin: list[int] = field(default_factory=list)  # base row of each row shown
    lines: list[int] = field(default_factory=list)  # first physical line of each row shown
    affected: set[int] = field(default_factory=set)  # base rows touched by the damage
    damaged_lines: set[int] = field(default_factory=set)  # lines that must be rejected
    encoding: str = "utf-8"


def _csv_text(cells: list[str], delim: str) -> str:
    buf = io.StringIO()  # a line terminator with both characters: cells with breaks get quoted
    csv.writer(buf, delimiter=delim, lineterminator="\r\n").writerow(cells)
    return buf.getvalue()[:-2]


def _write_line(cells: list[str], delim: str, *, raw: dict[int, str] | None = None) -> str:
    """One row as CSV text: minimal quoting, except ``raw`` cells written as given."""
    if not raw:
        return _csv_text(cells, delim)
    parts = []
    for k, cell in enumerate(cells):
        if k in raw:
            parts.append(raw[k])
        else:
            parts.append(_csv_text([cell], delim) if cell else "")
    return delim.join(parts)


@st.composite
def mutations(draw, n_rows: int):
    rows = draw(st.permutations(range(n_rows)))
    kinds = draw(
        st.lists(
            st.sampled_from(["stray_quote", "split", "inner_newline", "extra_delim"]),
            max_size=3,
            unique=True,
        )
    )
    picks = {k: (rows[i], draw(st.integers(0, 10_000))) for i, k in enumerate(kinds)}
    return {
        "delim": draw(st.sampled_from([";", ",", "\t"])),
        "eol": draw(st.sampled_from(["\n", "\r\n"])),
        "encoding": draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "mixed"])),
        "picks": picks,
        "cut": draw(st.none() | st.floats(0.0, 1.0, exclude_max=True)),
    }


def _build(header, data, m) -> Export:
    delim, eol = m["delim"], m["eol"]
    by_row = {row: (kind, seed) for kind, (row, seed) in m["picks"].items()}
    segments: list[tuple[str, int]] = []  # (text, base row)
    exp = Export(b"")
    for i, cells in enumerate(data):
        kind, seed = by_row.get(i, (None, 0))
        plain = [k for k, c in enumerate(cells) if _plain(c)]
        single = not any(_breaks(c) for c in cells)
        if kind is None or not plain or (kind in ("stray_quote", "split") and not single):
            segments.append((_write_line(cells, delim), i))
            continue
        k = plain[seed % len(plain)]
        cell = cells[k]
        cut = 1 + seed % (len(cell) - 1)
        exp.affected.add(i)
        if kind == "stray_quote":
            segments.append((_write_line(cells, delim, raw={k: '"' + cell}), i))
            exp.damaged_lines.add(len(segments) - 1)
        elif kind == "inner_newline":
            changed = [*cells[:k], cell[:cut] + "\n" + cell[cut:], *cells[k + 1 :]]
            segments.append((_write_line(changed, delim), i))
        elif kind == "extra_delim":
            shifted = cell[:cut] + delim + cell[cut:]
            segments.append((_write_line(cells, delim, raw={k: shifted}), i))
        else:  # split: a line break outside quotes cuts the row in two lines
            text = _write_line(cells, delim, raw={k: cell[:cut] + "\0" + cell[cut:]})
            first, second = text.split("\0")
            segments += [(first, i), (second, i)]
            if 0 < k < len(cells) - 1:  # two short lines: both rejected
                exp.damaged_lines |= {len(segments) - 2, len(segments) - 1}
            else:  # a one-cell fragment next to a full line: the fragment is rejected
                exp.damaged_lines.add(len(segments) - (2 if k == 0 else 1))
    head = _write_line(header, delim)
    encoding = m["encoding"]
    exp.encoding = encoding

    def enc(text: str, position: int) -> bytes:
        if encoding == "cp1252" or (encoding == "mixed" and position % 2):
            return text.encode("cp1252")
        return text.encode("utf-8")

    out = bytearray(b"\xef\xbb\xbf" if encoding == "utf-8-sig" else b"")
    out += enc(head + eol, 0)
    line = 2 + head.count("\n")
    damaged = set()
    for position, (text, row) in enumerate(segments, start=1):
        exp.starts.append(len(out))
        exp.origin.append(row)
        exp.lines.append(line)
        if position - 1 in exp.damaged_lines:
            damaged.add(line)
        out += enc(text + eol, position)
        line += 1 + text.count("\n")
    exp.damaged_lines = damaged
    data_bytes = bytes(out)
    if m["cut"] is not None:  # truncation at any byte after the first row
        first_end = exp.starts[1] if len(exp.starts) > 1 else len(data_bytes)
        at = first_end + int(m["cut"] * (len(data_bytes) - first_end))
        data_bytes = data_bytes[:at]
        keep = [j for j, s in enumerate(exp.starts) if s < at]
        if at < len(out):
            exp.affected.add(exp.origin[keep[-1]])  # the last row may be cut
        exp.starts = [exp.starts[j] for j in keep]
        exp.lines = [exp.lines[j] for j in keep]
        exp.origin = [exp.origin[j] for j in keep]
        cut_row = {x for x, o in zip(exp.lines, exp.origin, strict=True) if o == exp.origin[-1]}
        kept = set(exp.lines) - cut_row
        exp.damaged_lines = {x for x in exp.damaged_lines if x in kept}
    exp.data = data_bytes
    return exp


@given(m=mutations(N_SINGLE + N_MULTI))
@example(  # a stray quote on the second-to-last row of a file cut in its last row
    m={
        "delim": ";",
        "eol": "\n",
        "encoding": "utf-8",
        "picks": {"stray_quote": (8, 0)},
        "cut": 0.3125,
    }
)
@settings(max_examples=60, **SETTINGS)
def test_reader_accounts_for_every_row_a_spreadsheet_shows(base, tmp_path, m):
    header, data = base
    exp = _build(header, data, m)
    path = tmp_path / "export.csv"
    path.write_bytes(exp.data)
    table = read_table(path)
    read = {int(x) for x in table.lines} | {d.line for d in table.damaged}
    assert len(table.cells) + table.blank_rows + len(table.damaged) == len(exp.starts)
    assert read == set(exp.lines)  # every row shown, once, at its own line
    assert exp.damaged_lines <= {d.line for d in table.damaged}
    for d in table.damaged:  # each damage says what to do
        assert d.reason in ("damaged", "truncated")
        assert "Corrigez" in d.detail or "Exportez-le à nouveau" in d.detail
    assert table.headers[0] == header[0]
    # a row the damage did not touch is read exactly as written
    rows = dict(zip(table.lines.tolist(), table.cells.values.tolist(), strict=True))
    for line, origin in zip(exp.lines, exp.origin, strict=True):
        if origin not in exp.affected and line in rows:
            assert rows[line] == data[origin]


@pytest.fixture(scope="module")
def baseline(base, context, tmp_path_factory):
    """The undamaged export read through the whole ingest: state of each base row."""
    header, data = base
    exp = _build(
        header, data, {"delim": ";", "eol": "\n", "encoding": "utf-8", "picks": {}, "cut": None}
    )
    path = tmp_path_factory.mktemp("baseline") / "export.csv"
    path.write_bytes(exp.data)
    rows = read_responses(path, **context).report.rows
    by_line = rows.set_index("line")
    return {o: by_line.loc[line] for line, o in zip(exp.lines, exp.origin, strict=True)}


@pytest.mark.slow
@given(m=mutations(N_SINGLE + N_MULTI))
@settings(max_examples=12, **SETTINGS)
def test_ingest_accepted_superseded_rejected_equals_the_rows_shown(
    base, context, baseline, tmp_path, m
):
    header, data = base
    exp = _build(header, data, m)
    path = tmp_path / "export.csv"
    path.write_bytes(exp.data)
    report = read_responses(path, **context).report
    s = report.summary()
    assert s["accepted"] + s["superseded"] + s["rejected"] == s["rows"] == len(exp.starts)
    rows = report.rows.set_index("line")
    assert sorted(rows.index) == sorted(exp.lines)
    for line in exp.damaged_lines:
        assert rows.loc[line, "reason"] in ("damaged", "truncated")
    touched = {baseline[o]["collectivity"] for o in exp.affected} - {None}
    for line, origin in zip(exp.lines, exp.origin, strict=True):
        if origin in exp.affected:
            continue
        now, before = rows.loc[line], baseline[origin]
        assert (now["reason"], now["collectivity"], now["answers"]) == (
            before["reason"],
            before["collectivity"],
            before["answers"],
        )
        if before["collectivity"] not in touched:
            assert now["state"] == before["state"]
