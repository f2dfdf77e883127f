"""``barometre-geo coverage``: coverage of the territory by mutualisation structures."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

__all__ = ["add_parser", "run"]

EXIT_OK, EXIT_PROBLEMS = 0, 1


def add_parser(sub):
    """Register the command."""
    p = sub.add_parser(
        "coverage",
        help="coverage of the territory by mutualisation structures (OPSN): shares, "
        "uncovered zones, GeoPackage",
        description=(
            "Read a structures file (CSV, JSON, GeoJSON or GeoPackage), compute which communes "
            "each structure serves, the shares covered per EPCI, département, région and "
            "France, the uncovered zones and the uncovered communes near each structure, and "
            "write them to DIR/couverture.gpkg, the map DIR/couverture.html (one view per "
            "structure: couverture.html?structure=<SIREN>) and the prospect lists (CSV and "
            "XLSX) in DIR/couverture/. Exit code 1 "
            "when members are unknown or structures have no usable territory (see "
            "DIR/structures-problemes.csv)."
        ),
    )
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--structures", metavar="FILE", help="structures file to read")
    src.add_argument(
        "--demo",
        action="store_true",
        help="use the illustrative structures shipped with the package (not the real OPSN)",
    )
    p.add_argument("--out", metavar="DIR", required=True, help="output folder (created)")
    p.add_argument(
        "--responses",
        nargs="+",
        metavar="FILE",
        default=None,
        help="survey exports (CSV or .xlsx): the maps and lists then say which communes "
        "answered the barometer (waves) and the summary compares participation",
    )
    p.add_argument(
        "--mapping", default=None, help="mapping file of the exports (YAML; see 'validate')"
    )
    p.add_argument("--layer", default=None, help="GeoPackage layer of the structures file")
    p.add_argument("--nearest", type=int, default=10, help="nearest uncovered communes listed")
    p.add_argument(
        "--max-distance-km", type=float, default=30.0, help="search radius for them (km)"
    )
    p.add_argument("--top", type=int, default=5, help="uncovered zones shown in the summary")
    p.add_argument(
        "--no-html", action="store_true", help="do not write the HTML map (couverture.html)"
    )
    p.add_argument(
        "--basemap",
        default="plan_ign",
        help="background of the HTML map: plan_ign (default), osm, cartodb or none",
    )
    p.add_argument("--json", action="store_true", help="machine-readable output")
    return p


def run(args) -> int:
    """Run the command."""
    from .._tables import write_csv
    from ..coverage.lists import PROSPECTS_DIR, write_lists
    from ..coverage.measure import coverage
    from ..coverage.structures import load_demo_structures, read_structures
    from ..errors import DataQualityWarning
    from ..territories.load import load_territories

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    territories = load_territories()
    with warnings.catch_warnings():
        # the same facts are printed in the summary and written to structures-problemes.csv
        warnings.simplefilter("ignore", DataQualityWarning)
        structures = (
            load_demo_structures(territories)
            if args.demo
            else read_structures(args.structures, territories=territories, layer=args.layer)
        )
    responses = None
    if args.responses:
        from ..survey.responses import read_responses

        responses = read_responses(args.responses, mapping=args.mapping, territories=territories)
    result = coverage(
        structures,
        territories,
        responses=responses,
        nearest=args.nearest,
        max_distance_km=args.max_distance_km,
    )
    files = [out / "couverture.gpkg", out / "couverture-resume.json"]
    result.to_gpkg(files[0])
    lists = write_lists(result, out)
    summary = result.summary(top=args.top)
    files[1].write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")
    problems = result.report.warnings
    if len(problems):
        path = out / "structures-problemes.csv"
        write_csv(problems, path)
        files.append(path)
    if not args.no_html:
        files.append(result.to_html(out / "couverture.html", basemap=args.basemap, lists=True))
    if args.json:
        summary["files"] = [str(f) for f in files + lists]
        summary["problems"] = problems[["nom", "issue", "value", "message"]].to_dict("records")
        print(json.dumps(summary, ensure_ascii=False, indent=2))
    else:
        print(result.to_text(top=args.top))
        if len(problems):
            print(result.report.to_text())
        print("Fichiers écrits : " + ", ".join(str(f) for f in files))
        n = (len(lists) - 3) // 2
        print(
            f"Listes de prospects (CSV et XLSX) : {n} structure(s) dans {out / PROSPECTS_DIR}, "
            f"France entière : {lists[-3]} ; dictionnaire des données : {lists[-1]}"
        )
    return EXIT_PROBLEMS if len(problems) else EXIT_OK
