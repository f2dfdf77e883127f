"""``barometre-geo compare``: a collectivity's answers next to similar collectivities.

Reads survey exports (``--responses FILE…``) or, by default, the synthetic
demo edition (no real data ship with barometre-geo: the output then says so),
finds the collectivity (INSEE code, SIREN or name) and prints its comparison
fiche as text, or writes it as an HTML page (``--out fiche.html``) or JSON
(``--json``, on standard output).

Exit codes: 0 done; 2 unusable input (unknown or ambiguous collectivity, one
that did not answer, bad file: see the message).
"""

from __future__ import annotations

__all__ = ["add_parser", "run"]

DEMO_NOTE = (
    "Données synthétiques : édition de démonstration (aucune donnée réelle n’est fournie avec "
    "barometre-geo). Passez --responses FICHIER… pour comparer sur vos exports."
)


def add_parser(sub):
    """Register the command."""
    p = sub.add_parser(
        "compare",
        help="compare a collectivity with similar ones (fiche d'auto-positionnement)",
        description=(
            "Put a collectivity's answers next to those of similar collectivities: same type "
            "and population stratum in France, same type in its département and région, and "
            "every respondent in France, with the number of answers and 95 % confidence "
            "intervals. Small groups are replaced by larger ones (never shown). Without "
            "--responses, uses the synthetic demo edition."
        ),
        epilog="Example: barometre-geo compare 01053 --responses vague1.csv vague2.csv "
        "--out fiche.html (CODE first: --responses takes every file name after it).",
    )
    p.add_argument("code", metavar="CODE", help="INSEE code, SIREN or name of the collectivity")
    p.add_argument(
        "--responses", nargs="+", metavar="FILE", default=None, help="export files (one per wave)"
    )
    p.add_argument("--mapping", default=None, help="mapping file (YAML) for the exports")
    p.add_argument(
        "--demo", action="store_true", help="use the synthetic demo edition (the default)"
    )
    p.add_argument("--out", default=None, help="write the HTML fiche to this file")
    p.add_argument("--json", action="store_true", help="print the comparison as JSON")
    p.add_argument("--wave", type=int, default=None, help="compare only this wave (1, 2 or 3)")
    p.add_argument("--departement", default=None, help="département of an ambiguous name (e.g. 93)")
    p.add_argument("--k", type=int, default=5, help="minimum answers of other collectivities")
    p.add_argument(
        "--k-sensitive", type=int, default=10, help="minimum for sensitive questions (≥ k)"
    )
    return p


def run(args) -> int:
    """Run the command."""
    import json
    import sys

    from ..compare.fiche import compare
    from ..errors import InputFileError
    from ..protection.rules import check_thresholds

    check_thresholds(args.k, args.k_sensitive)
    if args.demo and args.responses:
        raise InputFileError(
            "Give --responses FILE… or --demo, not both, e.g. "
            "'barometre-geo compare 01053 --responses vague1.csv'.",
            fr="Donnez --responses FICHIER… ou --demo, pas les deux, par exemple "
            "« barometre-geo compare 01053 --responses vague1.csv ».",
        )
    if args.mapping and not args.responses:
        raise InputFileError(
            "--mapping applies to --responses files: add --responses FILE…, or drop --mapping.",
            fr="--mapping s’applique aux fichiers de --responses : ajoutez --responses "
            "FICHIER…, ou retirez --mapping.",
        )
    if args.responses:
        from ..survey.responses import read_responses

        responses = read_responses(args.responses, mapping=args.mapping)
    else:
        from ..demo.edition import load_demo

        print(DEMO_NOTE, file=sys.stderr)
        responses = load_demo()
    result = compare(
        args.code,
        responses,
        k=args.k,
        k_sensitive=args.k_sensitive,
        wave=args.wave,
        departement=args.departement,
    )
    if args.out:
        path = result.save(args.out)
        shown = int(result.table["value"].notna().sum())
        print(
            f"Fiche écrite : {path} — {result.nom} ({result.code}), "
            f"{result.table['indicator'].nunique()} questions, {shown} chiffres de comparaison."
        )
    if args.json:
        print(json.dumps(result.to_dict(), ensure_ascii=False, indent=1, default=str))
    elif not args.out:
        sys.stdout.write(result.to_text())
    return 0
