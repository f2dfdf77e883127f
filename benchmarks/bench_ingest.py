"""Benchmark: reading and resolving a 100,000-row survey export.

Builds a scaled-up export in the barometer's format (three wave files, realistic
identifiers: INSEE codes with and without their leading zero, postal codes,
SIREN/SIRET with spaces, names typed by hand with a département, EPCI, duplicates,
test rows, personal columns, decimal commas, multi-line comments), then measures,
each in a fresh subprocess (time and peak RSS from ``resource.getrusage``):

* ``read_responses``: the whole ingest (read, drop personal data, decode answers,
  identify, de-duplicate, report);
* the alternative a user would write: ``pandas.read_csv`` + a merge on the INSEE
  code column with the communes of the reference (no decoding, no de-duplication,
  no EPCI/SIREN/name/postal-code identification, personal data kept);
* reading alone: ``read_table`` (every record checked against the header and the
  quoting rules, damaged lines located: :mod:`barometre_geo.survey.records`)
  next to ``pandas.read_csv`` (which would merge the rows after a stray quote).

Targets: ≤ 10 s and ≤ 1.5 GB peak for 100,000 rows.

    .venv/bin/python benchmarks/bench_ingest.py [--rows 100000] [--keep]
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
TARGET_S, TARGET_MB = 10.0, 1500
ROLES = ("response_ref", "date", "nom", "siren", "insee", "departement", "type", "fonction",
         "name", "email", "phone")  # fmt: skip

ALTERNATIVE = """
import pandas as pd, barometre_geo as bg
t = bg.load_territories()
communes = t.communes[["code", "nom", "epci", "departement", "region", "population"]]
frames = []
for p in PATHS:
    df = pd.read_csv(p, sep=";", dtype=str)
    frames.append(df.merge(communes, how="left", left_on="Code INSEE", right_on="code"))
out = pd.concat(frames)
RESULT = {"rows": len(out), "matched": int(out["code"].notna().sum())}
"""

INGEST = """
import barometre_geo as bg
from barometre_geo.survey.responses import read_responses
r = read_responses(PATHS)
s = r.report.summary()
RESULT = {"rows": s["rows"], "accepted": s["accepted"], "superseded": s["superseded"],
          "rejected": s["rejected"], "responses": s["responses"],
          "collectivities": s["collectivities"], "unknown_values": s["unknown_values"]}
"""

RAW = """
import pandas as pd
frames = [pd.read_csv(p, sep=";", dtype=str) for p in PATHS]
RESULT = {"rows": sum(len(f) for f in frames)}
"""

READ = """
from barometre_geo.survey.read import read_table
tables = [read_table(p) for p in PATHS]
RESULT = {"rows": sum(len(t.cells) for t in tables),
          "damaged": sum(len(getattr(t, "damaged", ())) for t in tables)}
"""

RUNNER = """
import json, resource, sys, time
PATHS = json.loads(sys.argv[1])
t0 = time.perf_counter()
{code}
elapsed = time.perf_counter() - t0
usage = resource.getrusage(resource.RUSAGE_SELF)
cpu = usage.ru_utime + usage.ru_stime
print(json.dumps({{"seconds": elapsed, "cpu": cpu, "peak_mb": usage.ru_maxrss / 1024,
                  "result": RESULT}}))
"""


def _luhn_digit(partial: str) -> str:
    for d in "0123456789":
        total = 0
        for i, ch in enumerate(reversed(partial + d)):
            n = int(ch) * (2 if i % 2 else 1)
            total += n - 9 if n > 9 else n
        if total % 10 == 0:
            return d
    raise AssertionError


def build(folder: Path, n_rows: int, seed: int = 1) -> list[Path]:
    import barometre_geo as bg

    rng = random.Random(seed)
    cat = bg.load_catalogue()
    mapping = bg.default_mapping(cat)
    t = bg.load_territories()
    communes = t.communes[["code", "nom", "siren", "departement"]].to_dict("records")
    epci = t.epci[["code", "nom", "departement"]].to_dict("records")
    postal = t.identifiers[t.identifiers["kind"] == "code_postal"]
    postal_of = dict(zip(postal["code"], postal["key"], strict=False))
    fonctions = [
        "DGS",
        "Secrétaire de mairie",
        "Maire",
        "Adjoint au numérique",
        "DSI",
        "Chargée de mission numérique",
        "Conseiller délégué",
        "Président",
    ]
    paths = []
    shares = {1: 0.64, 2: 0.19, 3: 0.17}  # as 2,174 / 629 / 587
    for wave, share in shares.items():
        questions = [i for i in cat.indicators if i.wave in (0, wave)]
        # identification headers of the barometer's own format (first of each role)
        heads = [mapping.columns[r][0] for r in ROLES] + ["Commentaire"]
        for ind in questions:
            if ind.kind == "multiple_choice":
                heads += [f"{ind.question} [{o.label}]" for o in ind.options]
            else:
                heads.append(ind.question)
        path = folder / f"vague{wave}.csv"
        with open(path, "w", encoding="utf-8", newline="") as f:
            w = csv.writer(f, delimiter=";", lineterminator="\r\n")
            w.writerow(heads)
            for i in range(int(n_rows * share)):
                ident = _identity(rng, communes, epci, postal_of, i)
                row = [
                    str(i),
                    f"{rng.randint(1, 28):02d}/0{rng.randint(1, 9)}/2024 "
                    f"{rng.randint(8, 18)}:{rng.randint(0, 59):02d}",
                    *ident,
                    rng.choice(fonctions),
                    "Jeanne Martin",
                    "jeanne.martin@mairie.fr",
                    "06 12 34 56 78",
                    "Ligne 1\nLigne 2" if i % 50 == 0 else "",
                ]
                for ind in questions:
                    if ind.id == "profil_type_collectivite":
                        row.append("")  # the free-text "Type de collectivité" column is used
                        continue
                    if ind.kind == "multiple_choice":
                        row += ["Oui" if rng.random() < 0.4 else "" for _ in ind.options]
                    elif ind.kind == "percentage":
                        row.append(f"{rng.uniform(0, 30):.1f} %".replace(".", ","))
                    else:
                        row.append(rng.choice(ind.options).label if rng.random() > 0.05 else "")
                w.writerow(row)
        paths.append(path)
    return paths


def _identity(rng, communes, epci, postal_of, i):
    """nom, SIREN, INSEE, département, type — in the many ways respondents write them."""
    if i % 40 == 0:
        return ["Test Déclic", "", "", "", "Commune"]
    if rng.random() < 0.08:
        e = rng.choice(epci)
        siren = e["code"]
        if rng.random() < 0.5:
            siren = f"{siren[:3]} {siren[3:6]} {siren[6:]}"
        return [e["nom"], siren, "", e["departement"], "Communauté de communes"]
    c = rng.choice(communes)
    form = rng.random()
    dep = c["departement"]
    if form < 0.45:
        return [c["nom"], "", c["code"], dep, "Commune"]
    if form < 0.6:
        return [f"Mairie de {c['nom']}", "", c["code"].lstrip("0"), "", "Commune"]
    if form < 0.75:
        siret = c["siren"] + "0001" + _luhn_digit(c["siren"] + "0001")
        return [c["nom"], f"{siret[:3]} {siret[3:6]} {siret[6:9]} {siret[9:]}", "", dep, "Commune"]
    if form < 0.85 and c["code"] in postal_of:
        return [c["nom"], "", postal_of[c["code"]], dep, "Commune"]
    return [f"Commune de {c['nom']}", "", "", dep.lstrip("0"), "Commune"]


def measure(code: str, paths: list[Path]) -> dict:
    script = RUNNER.format(code=code)
    out = subprocess.run(
        [sys.executable, "-c", script, json.dumps([str(p) for p in paths])],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--keep", action="store_true", help="keep the generated exports")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench_ingest_"))
    t0 = time.perf_counter()
    paths = build(folder, args.rows)
    size = sum(p.stat().st_size for p in paths) / 1e6
    print(
        f"export: {args.rows:,} rows in {len(paths)} files, {size:.0f} MB "
        f"(built in {time.perf_counter() - t0:.1f} s) in {folder}"
    )
    alt = measure(ALTERNATIVE, paths)
    ing = measure(INGEST, paths)
    raw = measure(RAW, paths)
    read = measure(READ, paths)
    print(f"{'':40}{'wall s':>8}{'CPU s':>8}{'peak RSS MB':>13}")
    print(
        f"{'pandas.read_csv (3 files)':40}{raw['seconds']:>8.2f}{raw['cpu']:>8.2f}"
        f"{raw['peak_mb']:>13.0f}   {raw['result']['rows']:,} rows"
    )
    print(
        f"{'barometre_geo read_table (3 files)':40}{read['seconds']:>8.2f}{read['cpu']:>8.2f}"
        f"{read['peak_mb']:>13.0f}   {read['result']['rows']:,} rows, "
        f"{read['result']['damaged']:,} damaged lines"
    )
    print(
        f"{'pandas.read_csv + merge on Code INSEE':40}{alt['seconds']:>8.2f}{alt['cpu']:>8.2f}"
        f"{alt['peak_mb']:>13.0f}   {alt['result']['matched']:,} of {alt['result']['rows']:,} "
        "rows matched a commune"
    )
    r = ing["result"]
    print(
        f"{'barometre_geo.read_responses':40}{ing['seconds']:>8.2f}{ing['cpu']:>8.2f}"
        f"{ing['peak_mb']:>13.0f}"
        f"   {r['accepted']:,} accepted, {r['superseded']:,} superseded, {r['rejected']:,} "
        f"rejected; {r['responses']:,} responses from {r['collectivities']:,} collectivities"
    )
    ok_t, ok_m = ing["seconds"] <= TARGET_S, ing["peak_mb"] <= TARGET_MB
    print(
        f"target ≤ {TARGET_S:.0f} s: {'met' if ok_t else 'MISSED'}; "
        f"≤ {TARGET_MB} MB: {'met' if ok_m else 'MISSED'}"
    )
    if not args.keep:
        for p in paths:
            p.unlink()
        folder.rmdir()


if __name__ == "__main__":
    main()
