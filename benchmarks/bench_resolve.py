"""Benchmark of the resolver against what a user would write instead.

Usage::

    .venv/bin/python benchmarks/bench_resolve.py [--n 100000] [--repeat 5] [--seed 2025]

Builds ``n`` realistic mixed identifiers drawn with a fixed seed from the
embedded COG 2025 reference, each with the territory it designates (the truth):
INSEE codes with and without their leading zero or as spreadsheet floats,
codes of arrondissements and former communes, SIREN with spaces, SIRET, postal
codes, commune names as people type them (prefixes, capitals, "St", no
accents, a département in parentheses), EPCI names long, short or with an
abbreviated prefix, départements and régions, and junk. It times
``barometre_geo.resolve`` (warm: look-up tables built; median of ``repeat``
runs; wall-clock and CPU time, the latter steadier on a shared machine) and two
alternatives measured in the same run:

* *loop*: a per-row Python loop with ``unicodedata`` normalisation and dict
  look-ups (codes zero-padded, SIREN without spaces, names lower-cased without
  accents and hyphens; a homonym takes the last commune of that name);
* *merge*: ``pandas.merge`` of the column on the commune code only.

For each it prints the time and the share of rows resolved right, resolved
wrong, left ambiguous and left unresolved, against the truth.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import unicodedata
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import barometre_geo as bg
from barometre_geo.territories.resolve import resolve

JUNK = ["test", "TEST DECLIC", "aaa", "N/A", "-", "", None, float("nan"), "jean.dupont@mairie.fr"]
JUNK += ["Syndicat des eaux du Val", "Association des maires", "SDIS", "CCAS de Lyon", "xxx"]


def _siret(siren: str) -> str:
    for nic in range(10, 100):
        s = f"{siren}000{nic:02d}"
        total = sum(
            (d * 2 - 9 if d * 2 > 9 else d * 2) if i % 2 else d
            for i, d in enumerate(int(c) for c in reversed(s))
        )
        if total % 10 == 0:
            return s
    raise AssertionError(siren)


def _mangle_name(nom: str, rng: np.random.Generator) -> str:
    """A commune name as a respondent types it."""
    r = rng.random()
    if r < 0.2:
        nom = nom.upper()
    elif r < 0.35:
        nom = nom.replace("œ", "oe").replace("Œ", "Oe")
        nom = unicodedata.normalize("NFKD", nom).encode("ascii", "ignore").decode()
    elif r < 0.45:
        nom = nom.replace("Saint-", "St ").replace("Sainte-", "Ste ")
    elif r < 0.55:
        nom = nom.replace("-", " ").replace("'", "’")
    p = rng.random()
    if p < 0.15:
        return f"Mairie de {nom}"
    if p < 0.25:
        return f"Commune de {nom}"
    if p < 0.3:
        return f"Ville de {nom}"
    return nom


def build_inputs(t, n: int, seed: int) -> tuple[list, list]:
    """Return ``n`` identifiers and the ``level:code`` each designates (None: nothing)."""
    rng = np.random.default_rng(seed)
    com = t.communes[["code", "nom", "siren", "departement"]].to_numpy()
    epci = t.epci[["code", "nom"]].to_numpy()
    deps = t.departements[["code", "nom", "siren"]].to_numpy()
    regs = t.regions[["code", "nom"]].to_numpy()
    ids = t.identifiers
    post = ids[ids["kind"] == "code_postal"]
    unique_post = post.groupby("key")["code"].agg(list)
    unique_post = unique_post[unique_post.map(len) == 1]
    post_keys, post_codes = unique_post.index.to_numpy(), unique_post.map(lambda x: x[0]).to_numpy()
    current = set(t.communes["code"])
    codes_2025 = current | set(
        ids.loc[
            ids["kind"].isin(["arrondissement_municipal", "commune_deleguee", "commune_associee"]),
            "key",
        ]
    )
    older = ids[ids["kind"].isin(["arrondissement_municipal", "commune_deleguee"])]
    older = older[~older["key"].isin(current)][["key", "code"]].to_numpy()
    short = ids[ids["kind"] == "nom_epci"][["key", "nom"]].to_numpy()
    csp = {"Ville de Paris": "commune:75056", "Métropole de Lyon": "epci:200046977"}
    csp |= {
        "Collectivité européenne d'Alsace": "departement:67",
        "Collectivité de Corse": "region:94",
    }

    values, truth = [], []
    kinds = rng.choice(
        12, size=n, p=[0.2, 0.08, 0.04, 0.1, 0.04, 0.06, 0.25, 0.08, 0.04, 0.03, 0.01, 0.07]
    )
    for k in kinds:
        if k == 0:  # INSEE code as text
            c = com[rng.integers(len(com))]
            values.append(c[0])
            truth.append(f"commune:{c[0]}")
        elif k == 1:  # INSEE code that lost its zero, or a spreadsheet float
            c = com[rng.integers(len(com))]
            v = c[0].lstrip("0") if c[0][0] == "0" else c[0]
            values.append(float(v) if v.isdigit() and rng.random() < 0.5 else v)
            truth.append(f"commune:{c[0]}")
        elif k == 2:  # arrondissement or commune déléguée code
            o = older[rng.integers(len(older))]
            values.append(o[0])
            truth.append(f"commune:{o[1]}")
        elif k == 3:  # SIREN of a commune, with spaces or not
            c = com[rng.integers(len(com))]
            s = c[2]
            values.append(f"{s[:3]} {s[3:6]} {s[6:]}" if rng.random() < 0.5 else s)
            truth.append(f"commune:{c[0]}")
        elif k == 4:  # SIRET of a commune
            c = com[rng.integers(len(com))]
            values.append(_siret(c[2]))
            truth.append(f"commune:{c[0]}")
        elif k == 5:  # SIREN of an EPCI
            e = epci[rng.integers(len(epci))]
            values.append(e[0])
            truth.append(f"epci:{e[0]}")
        elif k == 6:  # commune name, sometimes with its département
            c = com[rng.integers(len(com))]
            name = _mangle_name(c[1], rng)
            if rng.random() < 0.2:
                name = f"{name} ({c[3]})"
            values.append(name)
            truth.append(f"commune:{c[0]}")
        elif k == 7:  # postal code of a single commune
            i = rng.integers(len(post_keys))
            values.append(post_keys[i])
            # also an INSEE code of another commune: two readings (ambiguous for the resolver;
            # read as the INSEE code by the alternatives, "preced.")
            both = post_keys[i] in codes_2025 and post_keys[i] != post_codes[i]
            truth.append((f"commune:{post_codes[i]}",) if both else f"commune:{post_codes[i]}")
        elif k == 8:  # EPCI name: long, DGCL short, or "CC"/"CA" + name
            e = epci[rng.integers(len(epci))]
            r = rng.random()
            if r < 0.4:
                values.append(e[1])
            elif r < 0.7:
                values.append(str(e[1]).replace("Communauté de communes", "CC"))
            else:
                hits = short[short[:, 0] == e[0]]
                values.append(hits[0, 1] if len(hits) else e[1])
            truth.append(f"epci:{e[0]}")
        elif k == 9:  # département
            d = deps[rng.integers(len(deps))]
            forms = [f"Département {d[1]}", f"Conseil départemental {d[1]}"]
            # its SIREN; without a conseil départemental (Paris, Guyane…) the bare name
            # designates the collectivité à statut particulier, so keep the prefix
            forms.append(d[2] if isinstance(d[2], str) else f"Département de {d[1]}")
            values.append(forms[rng.integers(len(forms))])
            truth.append(f"departement:{d[0]}")
        elif k == 10:  # région or collectivité à statut particulier
            if rng.random() < 0.5:
                r = regs[rng.integers(len(regs))]
                values.append(f"Région {r[1]}")
                truth.append(f"region:{r[0]}")
            else:
                name = list(csp)[rng.integers(len(csp))]
                values.append(name)
                truth.append(csp[name])
        else:
            values.append(JUNK[rng.integers(len(JUNK))])
            truth.append(None)
    return values, truth


# ------------------------------------------------------------------ alternatives


def _norm(text: str) -> str:
    s = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return " ".join(s.replace("-", " ").replace("'", " ").replace("’", " ").split())


def loop_resolver(t):
    """The per-row loop a user would write: dicts of codes, SIREN and names."""
    codes = {c: f"commune:{c}" for c in t.communes["code"]}
    siren = {
        s: f"commune:{c}" for s, c in zip(t.communes["siren"], t.communes["code"], strict=True)
    }
    siren |= {c: f"epci:{c}" for c in t.epci["code"]}
    siren |= {
        s: f"departement:{c}"
        for s, c in zip(t.departements["siren"], t.departements["code"], strict=True)
        if isinstance(s, str)
    }
    names = {
        _norm(n): f"commune:{c}" for n, c in zip(t.communes["nom"], t.communes["code"], strict=True)
    }
    names |= {_norm(n): f"epci:{c}" for n, c in zip(t.epci["nom"], t.epci["code"], strict=True)}
    names |= {
        _norm(n): f"departement:{c}"
        for n, c in zip(t.departements["nom"], t.departements["code"], strict=True)
    }

    def run(values):
        out = []
        for v in values:
            if v is None or (isinstance(v, float) and np.isnan(v)):
                out.append(None)
                continue
            s = str(v).strip()
            if s.endswith(".0"):
                s = s[:-2]
            digits = s.replace(" ", "")
            if digits.isdigit() and len(digits) <= 5:
                out.append(codes.get(digits.zfill(5)))
            elif digits.isdigit() and len(digits) in (9, 14):
                out.append(siren.get(digits[:9]))
            else:
                out.append(names.get(_norm(s)) or codes.get(s.upper()))
        return out

    return run


def merge_resolver(t):
    ref = t.communes[["code"]].assign(found=lambda d: "commune:" + d["code"])

    def run(values):
        df = pd.DataFrame(
            {"code": pd.array([v if isinstance(v, str) else None for v in values], dtype="str")}
        )
        return df.merge(ref, on="code", how="left")["found"].tolist()

    return run


def score(found: list, status: list | None, truth: list) -> dict[str, float]:
    """Shares of rows resolved right, wrong, by precedence, ambiguous, unresolved.

    A truth in a 1-tuple is a postal code that is also the INSEE code of another
    commune: two readings of equal standing, which the resolver leaves ambiguous
    (issue 14); reading it as the INSEE code, as the alternatives do, is counted
    apart ("precedence"): wrong for a postal code, right for an INSEE code.
    """
    counts = dict.fromkeys(("right", "wrong", "precedence", "ambiguous", "unresolved"), 0)
    for i, f in enumerate(found):
        st = (
            status[i]
            if status is not None
            else ("resolved" if isinstance(f, str) else "unresolved")
        )
        expected = truth[i]
        if st == "resolved":
            if isinstance(expected, tuple):
                counts["right" if f == expected[0] else "precedence"] += 1
            else:
                counts["right" if f == expected else "wrong"] += 1
        else:
            counts[st if st == "ambiguous" else "unresolved"] += 1
    return {k: 100 * v / len(truth) for k, v in counts.items()}


def _found(res: pd.DataFrame) -> list:
    return [
        None if pd.isna(c) else f"{lv}:{c}" for lv, c in zip(res["level"], res["code"], strict=True)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=2025)
    args = parser.parse_args()

    t = bg.load_territories()
    values, truth = build_inputs(t, args.n, args.seed)
    junk = sum(x is None for x in truth)
    distinct = len(set(map(str, values)))
    print(f"{args.n:,} identifiers ({distinct:,} distinct, {junk:,} junk), seed {args.seed}")

    start = time.perf_counter()
    resolve(t, values[:10])
    cold = time.perf_counter() - start

    def timed(fn):
        """Median wall time and median CPU time (steadier on a shared machine)."""
        times, cpu, out = [], [], None
        for _ in range(args.repeat):
            start, start_cpu = time.perf_counter(), time.process_time()
            out = fn(values)
            times.append(time.perf_counter() - start)
            cpu.append(time.process_time() - start_cpu)
        return (statistics.median(times), statistics.median(cpu)), out

    t_res, res = timed(lambda v: resolve(t, v))
    found = _found(res)
    # the same with the département column a survey export carries (communes only)
    dep_of = dict(zip("commune:" + t.communes["code"], t.communes["departement"], strict=True))
    hints = [dep_of.get(x) if isinstance(x, str) else None for x in truth]
    t_hint, res_hint = timed(lambda v: resolve(t, v, departement=hints))
    loop = loop_resolver(t)
    t_loop, loop_out = timed(loop)
    merge = merge_resolver(t)
    t_merge, merge_out = timed(merge)

    rows = [
        ("barometre_geo.resolve", t_res, score(found, res["status"].tolist(), truth)),
        (
            "  + departement hint",
            t_hint,
            score(_found(res_hint), res_hint["status"].tolist(), truth),
        ),
        ("per-row loop + dicts", t_loop, score(loop_out, None, truth)),
        ("pandas merge on code", t_merge, score(merge_out, None, truth)),
    ]
    print(f"look-up tables built once per Territories: {cold:.2f} s (first call)")
    print(
        f"{'method':<24}{'wall s':>8}{'CPU s':>8}{'right %':>9}{'wrong %':>9}{'preced. %':>10}"
        f"{'ambig. %':>10}{'unres. %':>10}"
    )
    for name, (wall, cpu), s in rows:
        print(
            f"{name:<24}{wall:>8.3f}{cpu:>8.3f}{s['right']:>9.1f}{s['wrong']:>9.2f}"
            f"{s['precedence']:>10.2f}{s['ambiguous']:>10.1f}{s['unresolved']:>10.1f}"
        )
    print(
        "preced.: a postal code that is also another commune's INSEE code, read as the "
        "INSEE code (the resolver leaves such values ambiguous: two readings)"
    )
    wrong = [
        (values[i], truth[i], found[i])
        for i in range(len(values))
        if res["status"].iat[i] == "resolved"
        and not isinstance(truth[i], tuple)
        and found[i] != truth[i]
    ]
    if wrong:
        print(f"resolved to another territory than the one drawn ({len(wrong)}), first 10:")
        for w in wrong[:10]:
            print("  ", w)


if __name__ == "__main__":
    main()
