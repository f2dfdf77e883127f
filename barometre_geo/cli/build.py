"""``barometre-geo build``: the main job — every map, GeoPackage, table and report.

With no argument it runs offline on the embedded defaults (COG 2025, the
synthetic demo edition, the illustrative structures) and writes ``maps/``.
See :func:`barometre_geo.build` for what is produced.
"""

from __future__ import annotations

import argparse
import sys

__all__ = ["add_parser", "run"]

EPILOG = """\
examples:
  barometre-geo build                                  démo synthétique -> maps/
  barometre-geo build --responses v1.csv v2.csv v3.xlsx --mapping mon_export.yaml
  barometre-geo build --theme cyber --level departement --level region --inline
  barometre-geo build --config run.toml --out /srv/www/cartes

run.toml (every key optional; paths relative to the file; flags override it):
  responses = ["vague1.csv", "vague2.csv"]   mapping = "mon_export.yaml"
  structures = "operators.json"              territories = "embedded"
  out = "maps"        indicators = ["cyber_pca"]     themes = ["cyber"]
  levels = ["departement", "region"]         k = 5     k_sensitive = 10
  mode = "public"     assets = "local"       weights = true    static = "png"
  basemap = "plan_ign"  base_url = "https://…/cartes/"  jobs = 2   force = false
  territoires = ["reg-84", "dep-69"]         (default "toutes"; "aucune": no territory page)
The output folder holds parametres.toml: `barometre-geo build --config
maps/parametres.toml` replays a run.

exit codes:
  0  built, nothing to look at (rejected input rows are counted in the summary and
     in rapports/import.txt; `validate` or --rapport-detaille DIR list them line by
     line, privately: they do not change the code)
  1  built, with problems to look at: indicators asked with --indicator that the
     exports do not contain, or unusable entries in the structures file
  2  bad input or usage (unreadable file, unknown indicator/theme/level, output
     folder that is not a previous build): nothing written, nothing replaced
  3  internal error (a bug: rerun with --debug and report it)
"""


def add_parser(sub):
    """Register the command."""
    p = sub.add_parser(
        "build",
        help="build every map, GeoPackage, table and report into maps/ (the main job)",
        description=(
            "Build the maps of the barometer: per indicator an HTML map per level and a "
            "GeoPackage, participation and OPSN coverage maps, the results table, the ingest "
            "report, index.html and manifest.json. With no argument: offline, on the embedded "
            "COG 2025, the SYNTHETIC demo edition and the illustrative structures. The output "
            "folder is replaced atomically (built next to it, then swapped)."
        ),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add = p.add_argument
    add("--responses", nargs="+", metavar="FILE", help="survey exports (default: demo edition)")
    add("--mapping", metavar="FILE", help="mapping file (YAML) of the exports")
    add("--structures", metavar="FILE", help="structures file (default: illustrative file)")
    add("--territories", metavar="SOURCE", help="'embedded' (default), a file or an edition id")
    add("--out", metavar="DIR", help="output folder (default: maps)")
    add(
        "--indicator",
        action="append",
        dest="indicators",
        metavar="ID",
        help="map this indicator (repeatable; with --theme: the union)",
    )
    add("--theme", action="append", dest="themes", metavar="ID", help="map this theme (repeatable)")
    add(
        "--level",
        action="append",
        dest="levels",
        metavar="LEVEL",
        help="commune, epci, departement or region (repeatable; default all four)",
    )
    add("--k", type=int, help="minimum answers of a published figure (default 5)")
    add("--k-sensitive", type=int, help="minimum for sensitive indicators (default max(10, k))")
    add("--mode", help="public (default) or restricted")
    add(
        "--assets",
        choices=["local", "inline", "cdn"],
        help="where the pages find Leaflet: local (default: one copy in assets/ of the "
        "folder, works offline and once published), inline (in every page: each file works "
        "alone), cdn (jsDelivr, with SRI)",
    )
    add(
        "--inline",
        action="store_true",
        default=None,
        help="same as --assets inline: self-contained pages",
    )
    add(
        "--weights",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="calibration-weighted figures next to the unweighted ones (default: on)",
    )
    add(
        "--estimates",
        choices=("model", "direct"),
        help="model (default): small-area estimates next to the direct figures, drawn by the "
        "département and EPCI maps with their uncertainty; direct: direct figures only",
    )
    add(
        "--static",
        metavar="FORMAT",
        help="also draw static maps: png or svg (about 1 s per map; default: none)",
    )
    add("--basemap", help="background of the HTML maps: plan_ign (default), osm, cartodb, none")
    add(
        "--style",
        choices=["standard", "dsfr"],
        help="look of the pages: standard (default) or dsfr (the DSFR's colours, typography "
        "and palette, for État websites)",
    )
    add(
        "--base-url",
        metavar="URL",
        help="public address of the folder once published (https://…/cartes/): absolute "
        "iframe snippets in the index (default: relative; each published page shows its own)",
    )
    add(
        "--territoire",
        action="append",
        dest="territoires",
        metavar="CODE",
        help="a page for this territory: reg-84, dep-69, 971 or a name (repeatable; default "
        "'toutes': every région and département; 'aucune': none)",
    )
    add("--jobs", type=int, metavar="N", help="worker processes (default 2)")
    add(
        "--force",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="replace an output folder that is not a previous build (deletes its contents)",
    )
    add("--config", metavar="FILE", help="run.toml holding any of these settings")
    add(
        "--rapport-detaille",
        dest="detailed_report",
        metavar="DIR",
        help="also write the detailed ingest report (rows, unknown answers and rejected cells "
        "with their lines: PRIVATE) into DIR, which must lie outside the output folder; "
        "rapports/ of the output holds the public report (counts only)",
    )
    add("--quiet", action="store_true", help="no progress bars, summary only")
    return p


def run(args) -> int:
    """Run the command."""
    from ..build.job import build

    result = build(
        args.responses,
        mapping=args.mapping,
        structures=args.structures,
        territories=args.territories,
        out=args.out,
        indicators=args.indicators,
        themes=args.themes,
        levels=args.levels,
        k=args.k,
        k_sensitive=args.k_sensitive,
        mode=args.mode,
        assets=args.assets,
        inline=args.inline,
        weights=args.weights,
        estimates=args.estimates,
        static=args.static,
        basemap=args.basemap,
        style=args.style,
        base_url=args.base_url,
        jobs=args.jobs,
        force=args.force,
        territoires=args.territoires,
        config=args.config,
        progress=not args.quiet,
        detailed_report=args.detailed_report,
    )
    print(result.summary())
    if args.detailed_report:
        print(
            f"Rapport détaillé (PRIVÉ, à ne pas publier) : {args.detailed_report}/"
            "import-detaille.txt et .json"
        )
    sys.stdout.flush()
    return result.exit_code
