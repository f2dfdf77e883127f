"""``barometre-geo indicators``: compute the indicators and write the open-data tables.

Reads survey exports (or the synthetic demo edition with ``--demo``), computes
every indicator at the chosen levels and breakdowns with small-count
protection, writes ``indicateurs.csv``, ``indicateurs.parquet``, the data
dictionary and the metadata into ``--out``, and prints a summary; with
``--compare``, the national figures next to the published ones.

Exit codes: 0 written; 1 written, but ``--compare`` found national figures
that differ from the published ones; 2 unusable input (see the message).
"""

from __future__ import annotations

__all__ = ["add_parser", "run"]


def add_parser(sub):
    """Register the command."""
    p = sub.add_parser(
        "indicators",
        help="compute indicators per territory (with statistical secrecy) and write CSV/Parquet",
        description=(
            "Compute every indicator of the catalogue per commune, EPCI, département, région "
            "and France from survey exports (or --demo), with 95 % confidence intervals, "
            "participation, calibration-weighted estimates and small-count protection "
            "(public mode by default), and write indicateurs.csv, indicateurs.parquet, "
            "dictionnaire.csv/.md and metadonnees.json into --out."
        ),
    )
    p.add_argument("files", nargs="*", metavar="FILE", help="export files (one per wave)")
    p.add_argument("--demo", action="store_true", help="use the synthetic demo edition")
    p.add_argument("--out", required=True, help="output folder (created if needed)")
    p.add_argument(
        "--level",
        default="departement,region,france",
        help="comma-separated levels among commune, epci, departement, region, france "
        "(default: departement,region,france)",
    )
    p.add_argument(
        "--by",
        default="",
        help="comma-separated breakdowns: stratum, profile, type_label, kind or a column",
    )
    p.add_argument(
        "--earlier-by",
        default="",
        help="custom breakdowns of this edition already published, in their order: the new "
        "tables are protected on top of them (the same decisions as one call with all)",
    )
    p.add_argument("--indicators", default="", help="comma-separated indicator ids (default all)")
    p.add_argument("--k", type=int, default=5, help="minimum answers of a published figure")
    p.add_argument(
        "--k-sensitive", type=int, default=10, help="minimum for sensitive indicators (≥ k)"
    )
    p.add_argument("--mode", default="public", help="public (default) or restricted")
    p.add_argument("--no-weights", action="store_true", help="skip the calibration weights")
    p.add_argument(
        "--compare",
        action="store_true",
        help="compare national figures with the published ones (those of --indicators, if given)",
    )
    p.add_argument("--mapping", default=None, help="mapping file (YAML) for the exports")
    return p


def _split(text: str) -> list[str]:
    return [x.strip() for x in text.split(",") if x.strip()]


def run(args) -> int:
    """Run the command."""
    import warnings

    from ..errors import InputFileError
    from ..indicators.aggregate import AGGREGATE_LEVELS, aggregate
    from ..indicators.tables import compare_published, write_aggregates
    from ..protection.rules import check_thresholds, parse_mode
    from ..territories.reference import parse_level

    # check the cheap options before reading anything
    for level in _split(args.level):
        parse_level(level, allowed=AGGREGATE_LEVELS)
    parse_mode(args.mode)
    check_thresholds(args.k, args.k_sensitive)
    if args.demo == bool(args.files):
        raise InputFileError(
            "Give export files or --demo (not both, not neither), e.g. "
            "'barometre-geo indicators --demo --out sortie/'.",
            fr="Donnez des fichiers d’export ou --demo (l’un des deux, pas les deux), par "
            "exemple « barometre-geo indicators --demo --out sortie/ ».",
        )
    if args.demo:
        from ..demo.edition import load_demo

        responses = load_demo()
    else:
        from ..survey.responses import read_responses

        responses = read_responses(args.files, mapping=args.mapping)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        table = aggregate(
            responses,
            level=_split(args.level),
            by=_split(args.by) or None,
            earlier_by=_split(args.earlier_by) or None,
            indicators=_split(args.indicators) or None,
            k=args.k,
            k_sensitive=args.k_sensitive,
            mode=args.mode,
            weights=None if args.no_weights else "calibration",
        )
    for w in caught:
        print(f"attention : {w.message}")
    paths = write_aggregates(table, args.out)
    meta = table.attrs["barometre_geo"]
    shown = int((~table["suppressed"]).sum())

    def num(x: int) -> str:
        return f"{x:,}".replace(",", "\u202f")

    print(
        f"{len(meta['indicators'])} indicateurs, {num(len(table))} lignes ({num(shown)} "
        f"publiées, {num(len(table) - shown)} masquées par le secret statistique) — "
        f"mode {meta['mode']}, k = {meta['k']}"
    )
    for key in ("csv", "parquet", "dictionary_md"):
        print(f"  {paths[key]}")
    if not args.compare:
        return 0
    cmp = compare_published(responses, indicators=_split(args.indicators) or None)
    bad = cmp[~cmp["matches"]]
    print(f"Chiffres nationaux publiés retrouvés : {len(cmp) - len(bad)}/{len(cmp)}")
    for r in bad.itertuples():
        what = r.option or r.kind or ""
        print(f"  {r.indicator} {what}: publié {r.published:g}, calculé {r.computed:.3g} {r.note}")
    return 1 if len(bad) else 0
