"""Benchmark: codes with two readings are never resolved to the wrong one.

Usage::

    .venv/bin/python benchmarks/bench_resolve_readings.py [--per-group 2000] [--seed 2025]

Cases built from the embedded COG 2025 reference (no hand-written value): every
5-digit code that has two readings — a current INSEE code, a code of a commune
déléguée, associée or arrondissement, or a former code, which is *also* the postal
code of another commune — typed once with each intent (the INSEE-side reading, then
the postal one), plus controls (INSEE codes and postal codes with one reading).
Each case is resolved:

* ``auto``: the bare value, nothing else (a column of unknown kind);
* ``declared``: the column declared ``insee`` or ``postal`` (``holds=``);
* ``+ name``: the official name of the intended commune on the row (``names=``);
* ``+ département``: the département of the intended commune (``departement=``).

It prints, per group and way, the share resolved right, left ambiguous, left
unresolved, and the number resolved *wrong* (must be 0), next to what a user would
write instead — an INSEE dict looked up first, then a postal dict — measured on the
same cases.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import barometre_geo as bg
from barometre_geo.territories.resolve import resolve


def build_cases(t, per_group: int, seed: int) -> pd.DataFrame:
    """One row per (value, intent): ``group, value, truth, holds, nom, departement``."""
    rng = np.random.default_rng(seed)
    ids = t.identifiers
    com = t.communes.set_index("code")
    postal: dict[str, set[str]] = defaultdict(set)
    for k, c in ids.loc[ids["kind"] == "code_postal", ["key", "code"]].itertuples(index=False):
        postal[k].add(c)
    current = set(com.index)
    secondary = {}
    for kind in ("arrondissement_municipal", "commune_deleguee", "commune_associee"):
        sub = ids[ids["kind"] == kind]
        for k, c in zip(sub["key"], sub["code"], strict=True):
            if k not in current:
                secondary.setdefault(k, c)
    former = {}
    sub = ids[ids["kind"] == "ancien_code"]
    for k, c in zip(sub["key"], sub["code"], strict=True):
        if k not in current and k not in secondary and (k[:2] == c[:2] or k[:2] == "20"):
            former.setdefault(k, c)

    rows = []

    def add(group, value, truth, holds):
        nom, dep = com.at[truth, "nom"], com.at[truth, "departement"]
        rows.append((group, value, truth, holds, nom, dep))

    groups = {
        "INSEE code, also another commune's postal code": {c: c for c in current},
        "commune déléguée/associée/arrondissement code, also a postal code": secondary,
        "former code, also a postal code": former,
    }
    for label, table in groups.items():
        both = sorted(k for k, c in table.items() if k in postal and postal[k] != {c})
        pick = rng.permutation(both)[:per_group]
        for k in pick:
            add(label + " — typed as INSEE", k, table[k], "insee")
            others = postal[k] - {table[k]}
            if len(postal[k]) == 1:  # a postal code of one commune: its intent is clear
                add(label + " — typed as postal code", k, next(iter(others)), "postal")
    plain = sorted(c for c in current if c not in postal)
    for c in rng.permutation(plain)[:per_group]:
        add("control: INSEE code, one reading", c, c, "insee")
    single = sorted(k for k, v in postal.items() if len(v) == 1 and k not in current)
    single = [k for k in single if k not in secondary and k not in former]
    for k in rng.permutation(single)[:per_group]:
        add("control: postal code of one commune, one reading", k, next(iter(postal[k])), "postal")
    return pd.DataFrame(rows, columns=["group", "value", "truth", "holds", "nom", "departement"])


def naive(t):
    """What a user would write: an INSEE dict first, then a postal dict of single communes."""
    ids = t.identifiers
    insee = set(t.communes["code"])
    post = ids[ids["kind"] == "code_postal"].groupby("key")["code"].agg(set)
    postal = {k: next(iter(v)) for k, v in post.items() if len(v) == 1}

    def run(values):
        return [v if v in insee else postal.get(v) for v in values]

    return run


def tally(df: pd.DataFrame, found: list, status: list) -> pd.DataFrame:
    d = df.assign(found=found, status=status)
    d["right"] = (d["status"] == "resolved") & (d["found"] == d["truth"])
    d["wrong"] = (d["status"] == "resolved") & (d["found"] != d["truth"])
    d["ambiguous"] = d["status"] == "ambiguous"
    d["unresolved"] = d["status"] == "unresolved"
    g = d.groupby("group", sort=False)
    out = pd.DataFrame(
        {
            "n": g.size(),
            "right %": 100 * g["right"].mean(),
            "ambiguous %": 100 * g["ambiguous"].mean(),
            "unresolved %": 100 * g["unresolved"].mean(),
            "wrong": g["wrong"].sum(),
        }
    )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-group", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=2025)
    args = parser.parse_args()
    t = bg.load_territories()
    cases = build_cases(t, args.per_group, args.seed)
    values = cases["value"].tolist()
    print(f"{len(cases):,} cases from the embedded COG 2025 reference (seed {args.seed})")

    def run(label, **kw):
        start = time.perf_counter()
        r = resolve(t, values, **kw)
        elapsed = time.perf_counter() - start
        found = [c if isinstance(c, str) else None for c in r["code"]]
        return label, elapsed, tally(cases, found, r["status"].tolist())

    results = [
        run("auto (bare value)"),
        run("declared (holds=insee|postal)", holds=cases["holds"].tolist()),
        run("auto + name on the row", names=cases["nom"].tolist()),
        run("auto + département", departement=cases["departement"].tolist()),
    ]
    user = naive(t)
    start = time.perf_counter()
    found = user(values)
    elapsed = time.perf_counter() - start
    status = ["resolved" if f is not None else "unresolved" for f in found]
    results.append(("user's dicts: INSEE, then postal", elapsed, tally(cases, found, status)))

    pd.set_option("display.width", 200)
    pd.set_option("display.max_colwidth", 80)
    total_wrong = {}
    for label, elapsed, table in results:
        print(f"\n== {label}  ({elapsed:.2f} s)")
        print(table.round(1).to_string())
        total_wrong[label] = int(table["wrong"].sum())
    print("\nwrong, all groups:", total_wrong)


if __name__ == "__main__":
    main()
