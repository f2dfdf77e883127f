"""``barometre-geo territories``: summary of the territorial reference."""

from __future__ import annotations

import json

__all__ = ["add_parser", "run"]


def add_parser(sub):
    """Register the command."""
    p = sub.add_parser(
        "territories",
        help="summarise the territorial reference (counts, populations, areas per level)",
        description=(
            "Load the territorial reference (embedded COG 2025 by default) and print counts, "
            "populations and areas per level."
        ),
    )
    p.add_argument(
        "--source",
        default="embedded",
        help="'embedded' (default, offline), a local ADMIN EXPRESS GeoPackage or shapefile "
        "folder, or the name of a downloadable edition",
    )
    p.add_argument("--cog", type=int, default=2025, help="COG year (default 2025)")
    p.add_argument("--cache-dir", default=None, help="cache folder for downloads")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    return p


def run(args) -> int:
    """Run the command."""
    from ..territories.load import load_territories

    t = load_territories(args.cog, source=args.source, cache_dir=args.cache_dir)
    s = t.summary()
    if args.json:
        out = {
            "cog": t.cog,
            "source": t.source,
            "levels": {
                lv: {
                    "count": int(r["count"]),
                    "population": int(r["population"]),
                    "area_km2": round(float(r["area_km2"]), 1),
                    "metropole": int(r["metropole"]),
                    "outre_mer": int(r["outre_mer"]),
                }
                for lv, r in s.iterrows()
            },
        }
        print(json.dumps(out, ensure_ascii=False, indent=2))
        return 0
    print(f"Référentiel territorial — COG {t.cog} ({t.source})")
    print(f"{'Niveau':<26}{'Nombre':>9}{'Population':>14}{'Superficie km²':>17}{'Outre-mer':>11}")
    for _, r in s.iterrows():
        print(
            f"{r['label']:<26}{int(r['count']):>9,}{int(r['population']):>14,}"
            f"{r['area_km2']:>17,.0f}{int(r['outre_mer']):>11,}".replace(",", "\u202f")
        )
    return 0
