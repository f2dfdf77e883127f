"""Benchmark: EPCI names as people write them, resolved without a single wrong answer.

Usage::

    .venv/bin/python benchmarks/bench_epci_names.py [--shared ../shared/data] [--show]

The names come from public sources, not from the official names by string edits:

* **France services** (ANCT, ``france-services/liste-fs-20240801.csv``, Licence
  Ouverte 2.0, read where it is, never copied): the sites whose name carries an EPCI
  ("France services Caux Seine agglo", "Bus France services Communauté
  d'agglomération Grand Cahors", "Pimms Médiation Lyon Métropole - Vaise"). The
  part naming the EPCI is cut out by a fixed rule (from a legal-form word to the
  end of its " - " segment, service words removed; a legal form alone is no name;
  what else the site's name carries stays: "Agglo Pays d'Issoire Ardes", the Ardes
  antenna, is counted unresolved);
  the truth is the EPCI of the site's commune (``insee_com``) in the reference of
  1 January 2025 (itinerant services, registered at their operator's address, are
  left out);
* **the issue's names** (issue 14: names respondents typed in real exports);
* **former names** of EPCI whose SIREN is unchanged, from the DGCL lists of
  2019-2024 (pinned in the reference, identifier kind ``nom_epci_ancien``: this
  group checks the mechanism, the names being indexed);
* **OPSN sample** (``opsn-sample/operators.json``): names of mutualisation
  structures, which are no EPCI: any of them resolved to a territory is wrong.

It prints, per group, the share resolved right, left ambiguous or unresolved and
the number resolved wrong (the target: 0), next to what a user would write instead
(a dict of the official and DGCL names, lower-cased, accents and punctuation
removed), measured on the same names.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
import unicodedata
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import barometre_geo as bg  # noqa: E402
from barometre_geo.territories.resolve import resolve  # noqa: E402

#: Names typed by respondents, quoted in issue 14, with their EPCI.
ISSUE = {
    "Métropole de Montpellier": "243400017",
    "Communauté d'agglomération de Blois": "200030385",
    "Communauté d'Agglomération Rochefort Océan (CARO)": "200041762",
    "Grand Poitiers Communauté Urbaine": "200069854",
    "CA de l'Espace sud Martinique": "249720053",
    "CC du Pays de Lunel": "243400520",
}
_FORM = re.compile(
    r"(?i)\b(?:communaut[ée]s?\s+(?:de|des|d['’])\s*(?:communes|agglom[ée]ration|agglo)"
    r"|communaut[ée]\s+urbaine|agglom[ée]ration\s+(?:de|du|des|d['’])|m[ée]tropole\s+(?:de|du|d['’])"
    r"|cc|ca|cu|cda|cdc)\b"
)
_SUFFIX = re.compile(r"(?i)\b(?:agglo|agglom[ée]ration|communaut[ée]|m[ée]tropole)\b")
_SERVICE = re.compile(
    r"(?i)^(?:bus\s+)?france\s+services?\s*(?:itin[ée]rante|multisites?|intercommunale)?\s*"
    r"(?:(?:de\s+la|de\s+l['’]|du|des|de)\s+)?"
)
_LEADING = re.compile(r"(?i)^(?:pimms\s+m[ée]diation|multisites|itin[ée]rante)\s+")


def france_services_names(path: Path, t) -> pd.DataFrame:
    """EPCI names cut out of the France services site names, with the site's EPCI."""
    fs = pd.read_csv(path, dtype=str, keep_default_na=False)
    com = t.communes.set_index("code")["epci"]
    ids = t.identifiers
    parent = ids[ids["kind"] == "arrondissement_municipal"].set_index("key")["code"]
    rows = []
    # an itinerant service's address is its operator's, often outside the EPCI it serves
    # ("France services itinérante CC Pays d'Uzes" is registered in Nîmes): left out
    fs = fs[fs["format_fs"] != "Itinérante"]
    for site, lib, insee in zip(fs["id_fs"], fs["lib_fs"], fs["insee_com"], strict=True):
        commune = insee if insee in com.index else parent.get(insee)
        truth = com.get(commune) if commune is not None else None
        if not isinstance(truth, str):
            continue
        body = _SERVICE.sub("", lib.strip())
        for segment in re.split(r"\s+[-–]\s+", body):
            m = _FORM.search(segment)
            if m:
                name = segment[m.start() :]
            elif _SUFFIX.search(segment):
                name = _LEADING.sub("", segment)
            else:
                continue
            name = name.strip(" ,.")
            if _FORM.sub("", name).strip(" ,.'’"):  # more than a legal form alone
                rows.append(("France services (ANCT, 2024-08-01)", name, truth, f"site {site}"))
            break
    return pd.DataFrame(rows, columns=["group", "name", "truth", "source"]).drop_duplicates(
        ["name", "truth"]
    )


def former_names(t) -> pd.DataFrame:
    ids = t.identifiers
    old = ids[ids["kind"] == "nom_epci_ancien"]
    return pd.DataFrame(
        {
            "group": "former names (DGCL 2019-2024, indexed)",
            "name": old["key"].to_numpy(),
            "truth": old["code"].to_numpy(),
            "source": old["nom"].to_numpy(),
        }
    )


def opsn_names(path: Path) -> pd.DataFrame:
    ops = json.loads(path.read_text(encoding="utf-8"))
    names = [o["nom"] for o in ops]
    return pd.DataFrame(
        {"group": "OPSN sample (no EPCI)", "name": names, "truth": None, "source": "operators.json"}
    )


def _norm(text: str) -> str:
    s = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode().lower()
    return " ".join(re.sub(r"[^a-z0-9]+", " ", s).split())


def user_dict(t):
    """A dict of the official and DGCL names, normalised: what a user would write."""
    ids = t.identifiers
    names = {_norm(n): c for n, c in zip(t.epci["nom"], t.epci["code"], strict=True)}
    short = ids[ids["kind"] == "nom_epci"]
    names |= {_norm(n): c for n, c in zip(short["nom"], short["code"], strict=True)}
    return lambda values: [names.get(_norm(v)) for v in values]


def tally(df: pd.DataFrame, found: list, status: list) -> pd.DataFrame:
    d = df.assign(found=found, status=status)
    ok = d["status"] == "resolved"
    d["right"] = ok & (d["found"] == d["truth"])
    d["wrong"] = ok & (d["found"] != d["truth"])
    g = d.groupby("group", sort=False)
    return pd.DataFrame(
        {
            "n": g.size(),
            "right %": 100 * g["right"].mean(),
            "ambiguous %": 100 * g["status"].apply(lambda s: (s == "ambiguous").mean()),
            "unresolved %": 100 * g["status"].apply(lambda s: (s == "unresolved").mean()),
            "wrong": g["wrong"].sum(),
        }
    ), d


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=HERE.parents[1] / "shared" / "data")
    parser.add_argument("--show", action="store_true", help="list names not resolved right")
    args = parser.parse_args()
    shared = args.shared if args.shared.is_dir() else Path("/work/shared/data")
    t = bg.load_territories()
    parts = [pd.DataFrame([("issue 14", n, c, "issue") for n, c in ISSUE.items()],
                          columns=["group", "name", "truth", "source"])]  # fmt: skip
    fs = shared / "france-services" / "liste-fs-20240801.csv"
    ops = shared / "opsn-sample" / "operators.json"
    if fs.is_file():
        parts.append(france_services_names(fs, t))
    else:
        print(f"(France services list not found under {shared}: group skipped)")
    parts.append(former_names(t))
    if ops.is_file():
        parts.append(opsn_names(ops))
    cases = pd.concat(parts, ignore_index=True)
    print(f"{len(cases):,} names")

    start = time.perf_counter()
    r = resolve(t, cases["name"].tolist())
    elapsed = time.perf_counter() - start
    found = [c if isinstance(c, str) else None for c in r["code"]]
    table, detail = tally(cases, found, r["status"].tolist())
    user = user_dict(t)
    start = time.perf_counter()
    u_found = user(cases["name"].tolist())
    u_elapsed = time.perf_counter() - start
    u_status = ["resolved" if f is not None else "unresolved" for f in u_found]
    u_table, _ = tally(cases, u_found, u_status)

    pd.set_option("display.width", 200)
    pd.set_option("display.max_colwidth", 90)
    print(f"\n== barometre_geo.resolve ({elapsed:.2f} s)")
    print(table.round(1).to_string())
    print(f"\n== user's dict of official + DGCL names ({u_elapsed:.3f} s)")
    print(u_table.round(1).to_string())
    named = detail["group"] != "OPSN sample (no EPCI)"
    usual = detail["group"].isin(["issue 14", "France services (ANCT, 2024-08-01)"])
    right = 100 * detail.loc[usual, "right"].mean()
    print(
        f"\nusual names (issue 14 + France services): {right:.1f} % "
        f"resolved right, {int(detail.loc[usual, 'wrong'].sum())} wrong; all groups: "
        f"{int(detail['wrong'].sum())} wrong"
    )
    wrong = detail[detail["wrong"]]
    if len(wrong):
        print("\nWRONG:")
        print(wrong[["group", "name", "truth", "found", "source"]].to_string())
    if args.show:
        rest = detail[named & ~detail["right"]]
        cols = ["group", "name", "truth", "status", "source"]
        print("\nnot resolved right:")
        print(rest.assign(reason=r.loc[rest.index, "reason_code"])[[*cols, "reason"]].to_string())


if __name__ == "__main__":
    main()
