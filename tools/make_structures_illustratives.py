"""Regenerate ``barometre_geo/data/structures-illustratives.json``.

ILLUSTRATIVE data, NOT the real list of OPSN nor their real members. The
structures are types of mutualisation structures found in France (syndicats
mixtes, agences techniques départementales, centres de gestion, GIP, SPL,
associations of mayors, syndicats intercommunaux), placed on real
territories of the COG 2025 reference by the fixed rules written below, so
that the coverage demo shows a realistic mix: départemental structures
covering most of some départements, EPCI-level members, a regional structure,
overlaps, exclusions, a polygon perimeter, an overseas case and real
uncovered areas (Île-de-France, most of the Mediterranean coast, the
north-east, the Antilles…). Deterministic: same reference, same file.

Run from the repository root::

    .venv/bin/python tools/make_structures_illustratives.py
"""

from __future__ import annotations

import json
from pathlib import Path

OUT = (
    Path(__file__).resolve().parents[1] / "barometre_geo" / "data" / "structures-illustratives.json"
)

WARNING = (
    "ILLUSTRATIF — structures fictives placées sur des territoires réels par des règles "
    "fixes (tools/make_structures_illustratives.py). Ce n'est PAS la liste réelle des OPSN "
    "ni de leurs adhérents : ne pas publier comme tel."
)


def _epci(t, dep: str):
    e = t.epci[t.epci["departement"] == dep]
    return e.sort_values(["population", "code"], ascending=[False, True])


def _communes(t, dep: str):
    return t.communes[t.communes["departement"] == dep]


def _disc(t, commune: str, radius_m: float) -> dict:
    """Return a disc around a commune (Lambert-93, km-rounded centre) as WGS84 GeoJSON."""
    import geopandas as gpd
    import shapely

    c = t.communes[t.communes["code"] == commune].to_crs(2154)
    p = c.geometry.iloc[0].representative_point()
    centre = shapely.Point(round(p.x, -3), round(p.y, -3))
    disc = gpd.GeoSeries([centre.buffer(radius_m, 16)], crs=2154).to_crs(4326)
    geom = shapely.set_precision(disc.iloc[0], 1e-5)
    return json.loads(shapely.to_geojson(geom))


#: Structures serving whole départements: (id, name, type, départements).
WHOLE = [
    ("16-atd", "Agence technique départementale de la Charente", "agence_technique", ["16"]),
    (
        "19-23-87-syndicat",
        "Syndicat mixte informatique du Limousin",
        "syndicat_mixte",
        ["19", "23", "87"],
    ),
    ("86-atd", "Agence technique départementale de la Vienne", "agence_technique", ["86"]),
    ("79-cdg", "Centre de gestion des Deux-Sèvres", "centre_de_gestion", ["79"]),
    ("47-syndicat", "Syndicat mixte numérique de Lot-et-Garonne", "syndicat_mixte", ["47"]),
    ("46-syndicat", "Syndicat mixte numérique du Lot", "syndicat_mixte", ["46"]),
    ("81-amf", "Association des maires du Tarn", "association_maires", ["81"]),
    ("09-cdg", "Centre de gestion de l'Ariège", "centre_de_gestion", ["09"]),
    (
        "03-43-63-syndicat",
        "Syndicat mixte numérique d'Auvergne",
        "syndicat_mixte",
        ["03", "43", "63"],
    ),
    ("01-syndicat", "Syndicat intercommunal numérique de l'Ain", "syndicat_intercommunal", ["01"]),
    (
        "74-syndicat",
        "Syndicat des énergies et du numérique de la Haute-Savoie",
        "syndicat_mixte",
        ["74"],
    ),
    ("39-syndicat", "Syndicat informatique du Jura", "syndicat_mixte", ["39"]),
    ("21-58-71-89-agence", "Agence numérique de Bourgogne", "gip", ["21", "58", "71", "89"]),
    ("27-syndicat", "Syndicat mixte numérique de l'Eure", "syndicat_mixte", ["27"]),
    ("76-syndicat", "Syndicat mixte numérique de la Seine-Maritime", "syndicat_mixte", ["76"]),
    ("61-syndicat", "Syndicat mixte informatique de l'Orne", "syndicat_mixte", ["61"]),
    ("60-association", "Association informatique des communes de l'Oise", "association", ["60"]),
    (
        "44-49-53-72-85-syndicat",
        "Syndicat mixte numérique des Pays de la Loire",
        "syndicat_mixte",
        ["44", "49", "53", "72", "85"],
    ),
    ("40-atd", "Agence technique départementale des Landes", "agence_technique", ["40"]),
    ("07-26-syndicat", "Syndicat mixte numérique Drôme-Ardèche", "syndicat_mixte", ["07", "26"]),
    ("15-cdg", "Centre de gestion du Cantal", "centre_de_gestion", ["15"]),
    ("17-syndicat", "Syndicat informatique de Charente-Maritime", "syndicat_mixte", ["17"]),
    ("12-syndicat", "Syndicat mixte numérique de l'Aveyron", "syndicat_mixte", ["12"]),
    ("25-70-90-gip", "GIP numérique Nord Franche-Comté", "gip", ["25", "70", "90"]),
]


def build(t) -> dict:
    """Return the illustrative structures document for the reference ``t``."""
    s = []

    def add(ident, nom, kind, note, **territory):
        rec = {"id": f"illustratif-{ident}", "nom": f"{nom} (illustratif)", "type": kind}
        for key, value in territory.items():
            rec[key] = sorted(value) if isinstance(value, (list, set)) else value
        rec["note"] = note
        s.append(rec)

    for ident, nom, kind, deps in WHOLE:
        note = "Tout le département." if len(deps) == 1 else "Départements entiers."
        add(ident, nom, kind, note, departements=deps)
    add(
        "24-cdg",
        "Centre de gestion de la Dordogne",
        "centre_de_gestion",
        "Tout le département : chevauche le syndicat mixte.",
        departements=["24"],
    )
    e24 = _epci(t, "24")
    add(
        "24-syndicat",
        "Syndicat mixte numérique de la Dordogne",
        "syndicat_mixte",
        "EPCI membres : tous ceux dont le siège est en Dordogne sauf l'agglomération la plus "
        "peuplée (services informatiques propres) et la 5e intercommunalité par population.",
        membres=list(e24["code"].iloc[[1, 2, 3]]) + list(e24["code"].iloc[5:]),
    )
    add(
        "53-gip",
        "GIP régional numérique de Bretagne",
        "gip",
        "Structure régionale : toute la région Bretagne.",
        regions=["53"],
    )
    c29 = _communes(t, "29")
    add(
        "29-sivu",
        "Syndicat intercommunal informatique du Finistère",
        "syndicat_intercommunal",
        "Communes membres : celles de moins de 10 000 habitants ; chevauche le GIP régional.",
        membres=list(c29.loc[c29["population"] < 10_000, "code"]),
    )
    e33 = _epci(t, "33")
    add(
        "33-syndicat",
        "Syndicat mixte numérique de la Gironde",
        "syndicat_mixte",
        "EPCI membres : tous ceux dont le siège est en Gironde sauf la métropole.",
        membres=list(e33["code"].iloc[1:]),
    )
    c32 = _communes(t, "32")
    add(
        "32-amf",
        "Association des maires du Gers",
        "association_maires",
        "Département servi, restreint aux communes adhérentes nommées (moins de 3 000 "
        "habitants) : la liste de membres restreint le département.",
        departements=["32"],
        membres=list(c32.loc[c32["population"] < 3_000, "code"]),
    )
    e31 = _epci(t, "31")
    add(
        "31-agence",
        "Agence départementale numérique de la Haute-Garonne",
        "agence_technique",
        "Tout le département sauf la métropole (exclusion).",
        departements=["31"],
        exclus=[e31["code"].iloc[0]],
    )
    e42, e69 = _epci(t, "42"), _epci(t, "69")
    add(
        "42-69-spl",
        "SPL numérique Loire-Rhône",
        "spl",
        "EPCI actionnaires : un sur deux (par population décroissante) dans la Loire et le "
        "Rhône, hors métropoles.",
        membres=list(e42["code"].iloc[1::2]) + list(e69["code"].iloc[1::2]),
    )
    c73 = _communes(t, "73")
    add(
        "73-syndicat",
        "Syndicat départemental d'énergie et du numérique de la Savoie",
        "syndicat_mixte",
        "Communes membres : celles de moins de 5 000 habitants.",
        membres=list(c73.loc[c73["population"] < 5_000, "code"]),
    )
    e84 = _epci(t, "84")
    add(
        "84-syndicat",
        "Syndicat mixte informatique du Vaucluse",
        "syndicat_mixte",
        "EPCI membres : tous sauf l'agglomération la plus peuplée.",
        membres=list(e84["code"].iloc[1:]),
    )
    add(
        "88-petr",
        "PETR numérique des Vosges",
        "petr",
        "Périmètre donné par un polygone : disque de 30 km autour d'Épinal ; une commune en "
        "fait partie si la moitié de sa superficie est dans le disque.",
        geometry=_disc(t, "88160", 30_000.0),
    )
    add(
        "24-gip",
        "GIP régional numérique Centre-Val de Loire",
        "gip",
        "Structure régionale : toute la région Centre-Val de Loire.",
        regions=["24"],
    )
    small = t.communes[t.communes["departement"].isin(["51", "52", "54"])]
    add(
        "51-52-54-spl",
        "SPL de dématérialisation Champagne-Lorraine",
        "spl",
        "Communes actionnaires : celles de moins de 1 000 habitants de la Marne, de la "
        "Haute-Marne et de la Meurthe-et-Moselle (les autres restent non couvertes).",
        membres=list(small.loc[small["population"] < 1_000, "code"]),
    )
    e974 = _epci(t, "974")
    add(
        "974-syndicat",
        "Syndicat numérique de La Réunion",
        "syndicat_mixte",
        "EPCI membres : les trois moins peuplés de l'île (outre-mer partiellement couvert).",
        membres=list(e974["code"].iloc[2:]),
    )
    return {
        "metadata": {
            "titre": "Structures de mutualisation illustratives",
            "avertissement": WARNING,
            "cog": int(t.cog),
            "genere_par": "tools/make_structures_illustratives.py",
            "licence": "Licence Ouverte 2.0 (codes du COG, INSEE) ; contenu fictif",
        },
        "structures": s,
    }


def dumps(doc: dict) -> str:
    """Serialise the document exactly as the shipped file."""
    return json.dumps(doc, ensure_ascii=False, indent=1) + "\n"


def main() -> None:
    """Rewrite the shipped file from the embedded reference."""
    import barometre_geo as bg

    OUT.write_text(dumps(build(bg.load_territories())), encoding="utf-8")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
