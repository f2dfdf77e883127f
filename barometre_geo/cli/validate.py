"""``barometre-geo validate``: read survey exports and print the ingest report.

What it shows: the *detailed* report — every rejected row, unknown answer and
rejected cell with its file and line — because its reader holds the exports
and needs the lines to fix them. That report links lines to answers, so it is
headed « RAPPORT DÉTAILLÉ — PRIVÉ » (``--json``: ``"private": true``) and
nothing is written. ``--public`` prints instead what ``barometre-geo build``
publishes in ``rapports/``: counts, unknown answers per column, no line.

Exit codes: 0 when the files could be read — even with rejected rows, cells or
unknown answers, which the report lists (they are the normal life of a survey
export, not a failure of the command); 2 on a fatal error (missing or unreadable
file, unknown encoding, no identification or question column, invalid mapping).
"""

from __future__ import annotations

import json

__all__ = ["add_parser", "run"]


def add_parser(sub):
    """Register the command."""
    p = sub.add_parser(
        "validate",
        help="read survey exports and report what happens to every row (nothing is written)",
        description=(
            "Read survey exports (CSV or .xlsx) like read_responses() does and print the "
            "ingest report: rows accepted, superseded and rejected (with reasons), rejected "
            "cells with file/line/column, unknown answers, personal-data columns dropped. "
            "This detailed report links lines to answers: it is PRIVATE (said on its first "
            "line; nothing is written); --public prints what the build publishes instead. "
            "Exit code 0 when the files are readable, even with rejected rows; 2 on a fatal "
            "error (unreadable file, missing column, invalid mapping)."
        ),
    )
    p.add_argument("files", nargs="+", metavar="FILE", help="export files (one per wave, usually)")
    p.add_argument(
        "--mapping", default=None, help="mapping file (YAML); default: the barometer's format"
    )
    p.add_argument(
        "--edition", default=None, help="edition label (default: the mapping's or catalogue's)"
    )
    p.add_argument(
        "--keep",
        default="latest_complete",
        choices=["latest_complete", "latest", "first"],
        help="which answer to keep when a collectivity answered a wave twice",
    )
    p.add_argument("--limit", type=int, default=20, help="rows listed per section (default 20)")
    p.add_argument("--json", action="store_true", help="machine-readable report on stdout")
    p.add_argument(
        "--public",
        action="store_true",
        help="print the publishable report (counts, unknown answers per column, no line), "
        "as the build writes it in rapports/",
    )
    return p


def run(args) -> int:
    """Run the command."""
    from ..survey.publish import public_dict, public_text
    from ..survey.responses import read_responses

    responses = read_responses(
        args.files, mapping=args.mapping, edition=args.edition, keep=args.keep
    )
    report = responses.report
    if args.json:
        data = public_dict(report) if args.public else report.to_dict()
        print(json.dumps(data, ensure_ascii=False, indent=2))
    elif args.public:
        print(public_text(report, limit=args.limit))
    else:
        print(report.to_text(limit=args.limit, folder=True))  # the reader's own folder, once
    return 0
