"""``barometre-geo demo-data``: write the synthetic demo edition as raw export files."""

from __future__ import annotations

import json

__all__ = ["add_parser", "run"]


def add_parser(sub):
    """Register the command."""
    p = sub.add_parser(
        "demo-data",
        help="write a SYNTHETIC first edition (raw exports, calibrated on the published "
        "figures) to run demos offline",
        description=(
            "Write a synthetic edition of the barometer in its raw export format: "
            "demo-synthetique-vague-1.csv (';' UTF-8), -vague-2.csv (';' Windows-1252, as "
            "re-saved by Excel), -vague-3.xlsx and LISEZMOI.txt. 2,174 / 629 / 587 responses "
            "from 3,117 real collectivities of the COG 2025, answers drawn so that every "
            "published national figure of the 1st edition is reproduced, plus a few defects "
            "for the ingest report. SYNTHETIC: never publish figures computed from it. "
            "Existing demo files in DIR are replaced; other files are left alone."
        ),
    )
    p.add_argument("--out", metavar="DIR", required=True, help="output folder (created)")
    p.add_argument("--seed", type=int, default=2025, help="random seed (default 2025)")
    p.add_argument(
        "--check",
        action="store_true",
        help="read the files back with the reader and print the ingest summary",
    )
    p.add_argument("--json", action="store_true", help="machine-readable output")
    return p


def _n(x: int) -> str:
    return f"{x:,}".replace(",", "\u202f")


def run(args) -> int:
    """Run the command."""
    from ..demo.edition import DEMO_EDITION, README, write_demo_exports

    files = write_demo_exports(args.out, seed=args.seed)
    out = {
        "edition": DEMO_EDITION,
        "synthetic": True,
        "seed": args.seed,
        "files": [str(f) for f in files],
        "readme": str(files[0].parent / README),
    }
    if args.check:
        from ..survey.responses import read_responses

        r = read_responses(files, edition=DEMO_EDITION)
        s = r.report.summary()
        out["check"] = {
            "responses_per_wave": {
                int(w): int(n) for w, n in r.data["wave"].value_counts().sort_index().items()
            },
            "collectivities": int(s["collectivities"]),
            "superseded": int(s["superseded"]),
            "rejected": int(s["rejected"]),
        }
    if args.json:
        print(json.dumps(out, ensure_ascii=False, indent=2))
        return 0
    print(f"{DEMO_EDITION} — DONNÉES SYNTHÉTIQUES, graine {args.seed}")
    for f in files:
        print(f"  {f}")
    print(f"  {out['readme']}")
    if args.check:
        c = out["check"]
        waves = ", ".join(f"vague {w} : {_n(n)}" for w, n in c["responses_per_wave"].items())
        print(
            f"Relu : {waves} réponses acceptées ; {_n(c['collectivities'])} collectivités "
            f"distinctes ; {c['superseded']} lignes remplacées, {c['rejected']} rejetées."
        )
    print("Ne publiez aucun chiffre tiré de ces fichiers : ce n'est pas le baromètre réel.")
    return 0
