"""Compare two build output folders file by file, apart from timestamps and versions.

Usage: ``python tools/compare_builds.py BEFORE AFTER``. Exit 0 when every file
listed in either manifest has the same content in both; 1 otherwise, listing
the differences.

A file is compared by the sha256 its manifest gives. When the two sums differ,
the file is compared again with its timestamps and version strings masked:
GeoPackages table by table through SQLite (the ``last_change`` column of
``gpkg_contents`` and any ISO date-time are masked), text files line by line
(ISO date-times, folium's random element ids and the CSP hashes of the scripts
holding them, the build's duration, the output folder's name, the checkout the
build ran from and the demo cache's code fingerprint masked). The manifest itself is
compared without ``created_at``, ``elapsed_s``, ``timings_s``, ``versions``,
``replay`` and the output folder's name.
"""

from __future__ import annotations

import json
import re
import sqlite3
import sys
from pathlib import Path

_STAMP = re.compile(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)?")
#: Folium names its elements with a random uuid (map_6f12…); the CSP hashes the scripts
#: holding those names; the summary says how long the build took.
_RANDOM = [
    (re.compile(rb"\b([a-z_]+)_[0-9a-f]{32}\b"), rb"\1_<id>"),
    (re.compile(rb"'sha256-[A-Za-z0-9+/=]{44}'"), b"'sha256-<hash>'"),
    (re.compile(rb"en \d+ s\b"), b"en <n> s"),
    # the checkout the build ran from, and the demo cache's fingerprint of the code
    (re.compile(rb"/[^\s\"']*/(barometre_geo|boundaries)/"), rb"<checkout>/\1/"),
    (re.compile(rb"seed(\d+)-[0-9a-f]{16}"), rb"seed\1-<fingerprint>"),
]
_VOLATILE = {"created_at", "elapsed_s", "timings_s", "versions", "replay", "barometre_geo_version"}


def _manifest(folder: Path) -> dict:
    return json.loads((folder / "manifest.json").read_text(encoding="utf-8"))


def _mask_text(data: bytes, folder: Path) -> bytes:
    data = _STAMP.sub(b"<date>", data)
    for pattern, repl in _RANDOM:
        data = pattern.sub(repl, data)
    data = data.replace(str(folder).encode(), b"<out>")
    return re.sub(rb"(?<![\w.-])" + re.escape(folder.name.encode()) + rb"/", b"<out>/", data)


def _gpkg_rows(path: Path) -> list:
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        out = []
        for t in sorted(tables):
            rows = con.execute(f'SELECT * FROM "{t}"').fetchall()
            masked = [
                tuple(
                    _mask_text(v.encode(), path).decode() if isinstance(v, str) else v for v in row
                )
                for row in rows
            ]
            out.append((t, sorted(masked, key=repr)))
        return out
    finally:
        con.close()


def same_content(a: Path, b: Path, root_a: Path, root_b: Path) -> bool:
    """Whether two files hold the same content apart from timestamps and versions."""
    if a.suffix == ".gpkg":
        return _gpkg_rows(a) == _gpkg_rows(b)
    return _mask_text(a.read_bytes(), root_a) == _mask_text(b.read_bytes(), root_b)


def compare(before: Path, after: Path) -> list[str]:
    """Return the differences between two build folders (empty when identical)."""
    ma, mb = _manifest(before), _manifest(after)
    diffs = []
    fa = {f["path"]: f for f in ma["files"]}
    fb = {f["path"]: f for f in mb["files"]}
    for path in sorted(set(fa) - set(fb)):
        diffs.append(f"only before: {path}")
    for path in sorted(set(fb) - set(fa)):
        diffs.append(f"only after: {path}")
    exact = masked = 0
    for path in sorted(set(fa) & set(fb)):
        if fa[path]["sha256"] == fb[path]["sha256"]:
            exact += 1
        elif same_content(before / path, after / path, before, after):
            masked += 1
        else:
            diffs.append(f"content differs: {path}")
    keys = (set(ma) | set(mb)) - _VOLATILE - {"files"}
    for key in sorted(keys):
        va = _mask_text(json.dumps(ma.get(key), sort_keys=True).encode(), before)
        vb = _mask_text(json.dumps(mb.get(key), sort_keys=True).encode(), after)
        if va != vb:
            diffs.append(f"manifest[{key!r}] differs")
    print(
        f"{len(fa)} files before, {len(fb)} after: {exact} identical byte for byte, "
        f"{masked} identical apart from timestamps/versions, {len(diffs)} difference(s)"
    )
    return diffs


def main(argv: list[str]) -> int:
    """Compare two folders given on the command line."""
    if len(argv) != 2:
        print(__doc__)
        return 2
    diffs = compare(Path(argv[0]).resolve(), Path(argv[1]).resolve())
    for d in diffs:
        print("  " + d)
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
