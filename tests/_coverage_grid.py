"""A tiny synthetic territorial reference for hand-checked coverage tests.

Metropolitan département ``01`` (région ``84``): a 4 × 4 grid of square
communes of 0.1° in longitude/latitude from (5.0° E, 46.0° N); commune ``k``
(1–16, row-major from the south-west) has code ``010kk`` and ``100 k``
inhabitants. EPCI ``200000008`` holds the two western columns, ``200000016``
the two eastern ones.

    row 3:  13 14 15 16
    row 2:   9 10 11 12
    row 1:   5  6  7  8
    row 0:   1  2  3  4

Overseas département ``974`` (région ``04``): three communes in a row,
0.05° wide from (55.3° E, 21.1° S), codes ``97401``–``97403``, populations
10, 20, 30, EPCI ``249740002``.
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import shapely

from barometre_geo.territories.crs import area_km2
from barometre_geo.territories.reference import _COLUMNS, from_frames


def luhn(base: str) -> str:
    """Complete ``base`` with its Luhn check digit (SIREN and SIRET are Luhn-valid)."""
    for digit in "0123456789":
        total = 0
        for i, ch in enumerate(reversed(base + digit)):
            d = int(ch) * (2 if i % 2 else 1)
            total += d - 9 if d > 9 else d
        if total % 10 == 0:
            return base + digit
    raise AssertionError(base)  # pragma: no cover


def _level(rows, crs=4326):
    return gpd.GeoDataFrame(pd.DataFrame(rows), geometry="geometry", crs=crs)


def grid_territories():
    communes = []
    xs = [round(5.0 + 0.1 * i, 9) for i in range(5)]  # shared vertices: exactly equal floats
    ys = [round(46.0 + 0.1 * i, 9) for i in range(5)]
    for k in range(1, 17):
        r, c = divmod(k - 1, 4)
        communes.append(
            {
                "code": f"010{k:02d}",
                "nom": f"Commune {k}",
                "siren": luhn(f"210{k:05d}"),
                "population": 100 * k,
                "epci": "200000008" if c < 2 else "200000016",
                "departement": "01",
                "region": "84",
                "zone": "metropole",
                "geometry": shapely.box(xs[c], ys[r], xs[c + 1], ys[r + 1]),
            }
        )
    xs = [round(55.3 + 0.05 * i, 9) for i in range(4)]
    for k in range(1, 4):
        communes.append(
            {
                "code": f"9740{k}",
                "nom": f"Île {k}",
                "siren": luhn(f"2197{k:04d}"),
                "population": 10 * k,
                "epci": "249740002",
                "departement": "974",
                "region": "04",
                "zone": "974",
                "geometry": shapely.box(xs[k - 1], -21.1, xs[k], -21.05),
            }
        )
    com = _level(communes)
    com["population"] = com["population"].astype("Int64")
    com["area_km2"] = area_km2(com)
    com = com[_COLUMNS["commune"]]

    def dissolve(key, extra):
        rows = []
        for code, g in com.groupby(key):
            first = g.iloc[0]
            row = {
                "code": code,
                "nom": f"{key} {code}",
                "siren": pd.NA,
                "population": int(g["population"].sum()),
                "area_km2": float(g["area_km2"].sum()),
                "n_communes": len(g),
                "zone": first["zone"],
                "geometry": shapely.coverage_union_all(g.geometry.to_numpy()),
            }
            row.update({k: first[k] for k in extra})
            rows.append(row)
        return _level(rows)

    epci = dissolve("epci", ["departement", "region"])
    epci["nature"], epci["siege"], epci["departements"] = "CC", None, epci["departement"]
    deps = dissolve("departement", ["region"])
    regs = dissolve("region", [])
    ids = pd.DataFrame(
        [
            ("siren_departement", "220100010", "departement:01", "Conseil départemental (Test)"),
            ("siren_region", "200053767", "region:84", "Conseil régional (Test)"),
        ],
        columns=["kind", "key", "code", "nom"],
    )
    return from_frames(
        {"commune": com, "epci": epci, "departement": deps, "region": regs},
        ids,
        cog=2025,
        source="grille de test",
    )


#: Structures of the grid: s1 communes 1, 2, 5; s2 the eastern EPCI but 15 and 16;
#: s3 communes 10, 11, 13, 14 (11 shared with s2); s4 the first island commune.
GRID_STRUCTURES = [
    {"id": "s1", "nom": "Syndicat 1", "membres": ["01001", "01002", "01005"]},
    {"id": "s2", "nom": "Syndicat 2", "membres": ["200000016"], "exclus": ["01015", "01016"]},
    {"id": "s3", "nom": "Agence 3", "membres": ["01010", "01011", "01013", "01014"]},
    {"id": "s4", "nom": "Syndicat île", "membres": ["97401"]},
]
