"""GeoPackage export of an indicator (barometre_geo.maps.write_indicator_gpkg).

Every file is read back: layers (pyogrio), CRS, rows, columns, NULLs, the
QGIS ``layer_styles`` table and the metadata table (sqlite3).
"""

from __future__ import annotations

import json
import re
import sqlite3
import xml.etree.ElementTree as ET

import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from _agg_tables import make_table
from _qgis import run_qgis, system_qgis

from barometre_geo.errors import InputFileError, SchemaError, UnknownValueError
from barometre_geo.maps import get_palette, indicator_map, write_indicator_gpkg
from barometre_geo.maps._breaks import indicator_classes
from barometre_geo.maps._palettes import NEUTRAL_INK, NO_DATA_PATTERN
from barometre_geo.maps._qgis import LAYER_STYLES_COLUMNS, qgis_color

ZONES = ("971", "972", "973", "974", "976")
EPSG = {"971": 5490, "972": 5490, "973": 2972, "974": 2975, "976": 4471}
HIDDEN = (
    "value",
    "ci_low",
    "ci_high",
    "value_weighted",
    "ci_low_weighted",
    "ci_high_weighted",
    "deff",
    "n",
    "low_reliability",
)


@pytest.fixture(scope="module")
def table(territories):
    return make_table(territories, leak=True, seed=1)


@pytest.fixture(scope="module")
def gpkg(table, territories, tmp_path_factory):
    out = tmp_path_factory.mktemp("gpkg")
    return write_indicator_gpkg(table, territories, indicator="cyber_pca", out_dir=out)


def read_sql(path, sql, *args):
    con = sqlite3.connect(path)
    try:
        return con.execute(sql, args).fetchall()
    finally:
        con.close()


def qml_of(path, layer, default=True):
    rows = read_sql(
        path,
        "SELECT styleQML FROM layer_styles WHERE f_table_name = ? AND useAsDefault = ?",
        layer,
        int(default),
    )
    return [r[0] for r in rows]


def ranges(qml: str):
    root = ET.fromstring(qml)  # the DOCTYPE is part of the document
    renderer = root.find("renderer-v2")
    out = []
    for r in renderer.find("ranges"):
        sym = renderer.find(f"symbols/symbol[@name='{r.get('symbol')}']")
        out.append((float(r.get("lower")), float(r.get("upper")), r.get("label"), sym))
    return renderer, out


# ---------------------------------------------------------------- layout, CRS, rows


def test_layers_crs_rows_and_columns(gpkg, territories):
    assert gpkg.name == "cyber_pca.gpkg"
    layers = dict(pyogrio.list_layers(gpkg))
    expected = [
        f"{lv}{s}" for lv in ("departement", "region") for s in ["", *(f"_{z}" for z in ZONES)]
    ]
    assert list(layers) == [*expected, "france", "metadonnees", "layer_styles"]
    for name in expected:
        info = pyogrio.read_info(gpkg, layer=name)
        zone = name.rsplit("_", 1)[1] if "_" in name else "metropole"
        assert info["crs"] == f"EPSG:{EPSG.get(zone, 2154)}"
        assert info["geometry_type"] == "MultiPolygon"
        level = name.split("_")[0]
        ref = territories.level(level)
        assert info["features"] == int((ref["zone"] == zone).sum())
    contents = dict(read_sql(gpkg, "SELECT table_name, data_type FROM gpkg_contents"))
    assert {contents[n] for n in expected} == {"features"}
    assert contents["france"] == contents["metadonnees"] == contents["layer_styles"] == "attributes"
    df = pyogrio.read_dataframe(gpkg, layer="departement")
    assert list(df.columns) == [
        "code",
        "nom",
        "region",
        "population",
        "area_km2",
        "value",
        "ci_low",
        "ci_high",
        "value_weighted",
        "ci_low_weighted",
        "ci_high_weighted",
        "suppressed",
        "reason",
        "low_reliability",
        "classe",
        "classe_libelle",
        "n",
        "deff",
        "participation",
        "population_share",
        "geometry",
    ]
    assert df["code"].tolist() == sorted(df["code"].tolist())
    assert "75" in set(df["code"]) and "974" not in set(df["code"])


def test_overseas_layers_measure_areas_right(gpkg, table, territories, tmp_path):
    ref = territories.departements.set_index("code")["area_km2"]
    full = write_indicator_gpkg(
        table, territories, indicator="cyber_pca", path=tmp_path / "full.gpkg", simplify=False
    )
    for zone in ZONES:
        df = pyogrio.read_dataframe(gpkg, layer=f"departement_{zone}")
        # the column is measured on the reference's contours, the generalised polygon is close
        assert df["area_km2"].iloc[0] == pytest.approx(ref[zone])
        area = float(shapely.area(df.geometry.values).sum()) / 1e6
        assert area == pytest.approx(ref[zone], rel=0.03)
        exact = pyogrio.read_dataframe(full, layer=f"departement_{zone}")
        assert float(shapely.area(exact.geometry.values).sum()) / 1e6 == pytest.approx(
            ref[zone], rel=2e-3
        )
    # the same island measured in Lambert-93 would be several percent off
    reunion = territories.departements[territories.departements["code"] == "974"]
    assert float(reunion.to_crs(2154).area.iloc[0]) / 1e6 > ref["974"] * 1.05


def test_suppressed_cells_are_null_in_the_file(gpkg, table):
    # the table leaked values into suppressed rows: the file must not carry them
    sub = table[(table["level"] == "departement") & (table["by"] == "total")]
    assert sub.loc[sub["suppressed"], "value"].notna().all()
    total = 0
    for layer in ["departement", *(f"departement_{z}" for z in ZONES)]:
        leaks = read_sql(
            gpkg,
            f'SELECT count(*) FROM "{layer}" WHERE suppressed AND NOT ('
            + " AND ".join(f"{c} IS NULL" for c in HIDDEN)
            + ")",
        )
        assert leaks == [(0,)]
        total += read_sql(gpkg, f'SELECT count(*) FROM "{layer}" WHERE suppressed')[0][0]
        labels = read_sql(
            gpkg, f'SELECT DISTINCT classe_libelle, classe FROM "{layer}" WHERE suppressed'
        )
        assert labels in ([], [("Secret statistique", None)])  # sensitive: never "too few"
    assert total == int(sub["suppressed"].sum()) > 0
    nat = pyogrio.read_dataframe(gpkg, layer="france")
    assert nat["level"].tolist() == ["france", "france_metropolitaine", "outre_mer"]
    assert nat["nom"].tolist() == ["France", "France métropolitaine", "Outre-mer (DROM)"]


def test_values_and_classes_are_those_of_the_html_map(gpkg, table, territories):
    df = pyogrio.read_dataframe(gpkg, layer="departement")
    rows = table[(table["level"] == "departement") & (table["by"] == "total")]
    rows = rows.set_index(rows["code"].astype(str))
    shown = ~rows.loc[df["code"], "suppressed"].to_numpy()
    # shares are stored in % (the unit the metadata states), classified as the map in 0–1
    np.testing.assert_allclose(df["value"][shown], 100 * rows.loc[df["code"], "value"][shown])
    np.testing.assert_allclose(df["ci_high"][shown], 100 * rows.loc[df["code"], "ci_high"][shown])
    np.testing.assert_allclose(df["participation"], 100 * rows.loc[df["code"], "participation"])
    assert df["value"].max() > 1
    values = np.where(rows.loc[df["code"], "suppressed"], np.nan, rows.loc[df["code"], "value"])
    # the default classes: pooled over the table's levels (départements and régions here)
    pooled = indicator_classes(table, "cyber_pca")
    assert pooled.levels == ("departement", "region") and pooled.rounded
    expected = pooled.assign(values) + 1
    assert (
        df["classe"].fillna(0).astype(int).tolist() == np.where(expected > 0, expected, 0).tolist()
    )
    # the HTML map of the same table draws the same classes (all territories, DROM included)
    doc = indicator_map(
        table, territories, indicator="cyber_pca", level="departement", basemap="none", min_n=10
    )
    all_df = pd.concat(
        [
            pyogrio.read_dataframe(gpkg, layer=n, read_geometry=False)
            for n in ["departement", *(f"departement_{z}" for z in ZONES)]
        ]
    )
    counts = all_df["classe"].value_counts()
    k = doc.classification.k
    assert tuple(int(counts.get(i + 1, 0)) for i in range(k)) == doc.classification.counts
    assert set(all_df["classe_libelle"]) <= {
        *doc.classification.labels,
        "Pas de réponse",
        "Secret statistique",
    }


# ---------------------------------------------------------------- QGIS styles


def test_layer_styles_table_is_what_qgis_reads(gpkg):
    cols = [r[1] for r in read_sql(gpkg, "PRAGMA table_info(layer_styles)")]
    assert cols == ["id", *LAYER_STYLES_COLUMNS]
    spatial = read_sql(gpkg, "SELECT table_name, column_name FROM gpkg_geometry_columns")
    for layer, geom_col in spatial:
        rows = read_sql(
            gpkg,
            "SELECT f_table_catalog, f_table_schema, f_geometry_column, useAsDefault, "
            "styleName, update_time FROM layer_styles WHERE f_table_name = ?",
            layer,
        )
        assert len(rows) == 1, layer  # one style: the indicator has no options
        catalog, schema, column, default, name, when = rows[0]
        # QGIS's loadStyle filter: f_table_schema='' AND f_table_name AND f_geometry_column
        assert (catalog, schema, column, default) == ("", "", geom_col, 1)
        assert name == "Carte" and when.endswith("Z")


def test_qml_is_a_graduated_renderer_with_the_map_classes(gpkg, table):
    (qml,) = qml_of(gpkg, "departement")
    assert qml.startswith("<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>")
    renderer, rng = ranges(qml)
    assert renderer.get("type") == "graduatedSymbol"
    assert renderer.get("graduatedMethod") == "GraduatedColor"
    assert renderer.get("attr") == (
        'CASE WHEN "suppressed" THEN -2 WHEN "value" IS NULL THEN -1 ELSE "value" END'
    )
    c = indicator_classes(table, "cyber_pca")
    palette = get_palette("Blues").for_k(c.k)
    assert [r[2] for r in rng] == [
        *c.labels,
        "Pas de réponse",
        "Secret statistique",
    ]
    bounds = list(
        zip(
            [100 * c.lower, *(100 * b for b in c.bins[:-1])],
            [100 * b for b in c.bins],
            strict=True,
        )
    )
    assert [(lo, hi) for lo, hi, *_ in rng[: c.k]] == bounds
    for (_, _, _, sym), color in zip(rng[: c.k], palette, strict=True):
        layer = sym.find("layer")
        assert layer.get("class") == "SimpleFill"
        props = {p.get("k"): p.get("v") for p in layer.findall("prop")}
        options = {o.get("name"): o.get("value") for o in layer.findall("Option/Option")}
        assert props["color"] == options["color"] == qgis_color(color)
    dotted, hatched = rng[c.k][3], rng[c.k + 1][3]
    # no answer: white, dark dots (the HTML map's texture, 3:1 from every class)
    assert dotted.find("layer/prop[@k='color']").get("v") == qgis_color(NO_DATA_PATTERN["bg"])
    assert [lyr.get("class") for lyr in dotted.findall("layer")] == [
        "SimpleFill",
        "PointPatternFill",
    ]
    dot = dotted.find("layer[@class='PointPatternFill']/symbol")
    assert dot.get("type") == "marker" and dot.get("name") == f"@{c.k}@1"
    assert dot.find("layer/prop[@k='color']").get("v") == qgis_color(NEUTRAL_INK)
    classes = [lyr.get("class") for lyr in hatched.findall("layer")]
    assert classes == ["SimpleFill", "LinePatternFill"]
    sub = hatched.find("layer[@class='LinePatternFill']/symbol")
    assert sub.get("type") == "line" and sub.get("name") == f"@{c.k + 1}@1"
    aliases = {a.get("field"): a.get("name") for a in ET.fromstring(qml).iter("alias")}
    assert aliases["value"] == "Valeur" and aliases["ci_low"] == "IC 95 % bas"


def test_qml_ranges_reproduce_the_class_column(gpkg):
    """Evaluate the renderer as QGIS does (first range with lower <= v <= upper)."""
    (qml,) = qml_of(gpkg, "departement")
    _, rng = ranges(qml)
    df = pyogrio.read_dataframe(gpkg, layer="departement", read_geometry=False)
    for value, sup, classe, label in df[
        ["value", "suppressed", "classe", "classe_libelle"]
    ].itertuples(index=False):
        v = -2 if sup else -1 if pd.isna(value) else value
        hit = next(i for i, (lo, hi, *_) in enumerate(rng) if lo <= v <= hi)
        assert rng[hit][2] == label
        assert (hit + 1 if hit < 5 else None) == (None if pd.isna(classe) else int(classe))


# ---------------------------------------------------------------- options, metadata


def test_per_option_columns_and_styles(territories, tmp_path):
    opts = ("facebook", "instagram", "linkedin")
    table = make_table(
        territories,
        indicator="communication_reseaux_sociaux",
        levels=("region",),
        options=opts,
        headline=False,
        seed=3,
    )
    out = write_indicator_gpkg(
        table, territories, indicator="communication_reseaux_sociaux", path=tmp_path / "rs.gpkg"
    )
    df = pyogrio.read_dataframe(out, layer="region", read_geometry=False)
    for o in opts:
        assert {f"value_{o}", f"ci_low_{o}", f"suppressed_{o}", f"classe_{o}"} <= set(df.columns)
        assert df.loc[df[f"suppressed_{o}"], f"value_{o}"].isna().all()
    assert "value" not in df.columns and "n" in df.columns
    rows = read_sql(
        out,
        "SELECT styleName, useAsDefault, styleQML FROM layer_styles "
        "WHERE f_table_name = 'region' ORDER BY id",
    )
    assert [(r[0], r[1]) for r in rows] == [("Facebook", 1), ("Instagram", 0), ("LinkedIn", 0)]
    attr = ET.fromstring(rows[1][2]).find("renderer-v2").get("attr")
    assert '"value_instagram"' in attr and '"suppressed_instagram"' in attr
    nat = pyogrio.read_dataframe(out, layer="france")
    assert {"value_facebook", "value_linkedin", "n"} <= set(nat.columns)


def test_headline_and_options_together(territories, tmp_path):
    table = make_table(
        territories,
        indicator="strategie_approche",
        levels=("region",),
        options=("strategie_formalisee", "aucune"),
        seed=4,
    )
    out = write_indicator_gpkg(table, territories, indicator="strategie_approche", out_dir=tmp_path)
    df = pyogrio.read_dataframe(out, layer="region", read_geometry=False)
    assert {"value", "value_strategie_formalisee", "value_aucune"} <= set(df.columns)
    names = [
        r[0]
        for r in read_sql(
            out,
            "SELECT styleName FROM layer_styles WHERE f_table_name = 'region' AND useAsDefault = 1",
        )
    ]
    assert names == ["Carte"]


def test_means_and_unweighted_tables(territories, tmp_path):
    table = make_table(
        territories,
        indicator="outils_materiel_reconditionne",
        levels=("departement",),
        mean=True,
        weighted=False,
        seed=5,
    )
    out = write_indicator_gpkg(
        table, territories, indicator="outils_materiel_reconditionne", out_dir=tmp_path
    )
    df = pyogrio.read_dataframe(out, layer="departement", read_geometry=False)
    assert "value_weighted" not in df.columns  # aggregated without weights
    assert df["value"].max() > 1  # means in %
    (qml,) = qml_of(out, "departement")
    labels = [r[2] for r in ranges(qml)[1]]
    assert labels[0].startswith("de ") and labels[0].endswith("\u202f%")
    meta = dict(read_sql(out, "SELECT cle, valeur FROM metadonnees"))
    assert meta["classes:departement"].startswith("seuils naturels (Fisher-Jenks) : de ")


def test_metadata_table(territories, tmp_path):
    table = make_table(territories, levels=("region",), attrs={"k": 7, "k_sensitive": 12})
    out = write_indicator_gpkg(
        table,
        territories,
        indicator="cyber_pca",
        out_dir=tmp_path,
        synthetic=True,
        edition="demo-2025",
    )
    meta = dict(read_sql(out, "SELECT cle, valeur FROM metadonnees"))
    assert meta["titre"] == "Plan de continuité d’activité (PCA)"
    assert meta["question"].endswith("\u00a0?")
    assert meta["theme"] == "cyber — Cybersécurité" and meta["vague"].startswith("1 (2023-11-01")
    assert meta["edition"].endswith("édition demo-2025")
    assert meta["donnees_synthetiques"] == "oui"
    assert "DONNÉES SYNTHÉTIQUES" in meta["source_enquete"]
    assert (meta["seuil_k"], meta["seuil_k_sensible"], meta["seuil_applique"]) == ("7", "12", "12")
    assert meta["indicateur_sensible"] == "oui" and meta["ponderation"] == "calibration"
    assert "Wilson" in meta["intervalle_confiance"]
    assert json.loads(meta["referentiel_provenance"])["cog"] == 2025
    assert "Licence Ouverte 2.0" in meta["referentiel"]
    assert meta["barometre_geo_version"] and meta["genere_le"].endswith("Z")
    assert meta["couche:region_974"].startswith("EPSG:2975 ; 1 entité(s)")
    assert meta["couche:france"].startswith("sans géométrie ; 3 entité(s)")
    assert "NULL si masquée" in meta["colonne:value"]
    legend = qml_of(out, "region")[0]
    assert "Secret statistique" in legend and "Effectif insuffisant" not in legend
    unknown = write_indicator_gpkg(
        table, territories, indicator="cyber_pca", path=tmp_path / "u.gpkg"
    )
    assert (
        dict(read_sql(unknown, "SELECT cle, valeur FROM metadonnees"))["donnees_synthetiques"]
        == "non précisé"
    )


# ---------------------------------------------------------------- standard GeoPackage


def test_standard_metadata_tables(gpkg):
    """gpkg_metadata / _reference as the specification defines them, one document a table."""
    assert [r[1] for r in read_sql(gpkg, "PRAGMA table_info(gpkg_metadata)")] == [
        "id", "md_scope", "md_standard_uri", "mime_type", "metadata",
    ]  # fmt: skip
    assert [r[1] for r in read_sql(gpkg, "PRAGMA table_info(gpkg_metadata_reference)")] == [
        "reference_scope", "table_name", "column_name", "row_id_value", "timestamp",
        "md_file_id", "md_parent_id",
    ]  # fmt: skip
    ext = read_sql(
        gpkg,
        "SELECT table_name, scope FROM gpkg_extensions WHERE extension_name = 'gpkg_metadata'",
    )
    assert sorted(ext) == [
        ("gpkg_metadata", "read-write"),
        ("gpkg_metadata_reference", "read-write"),
    ]
    docs = read_sql(
        gpkg,
        "SELECT r.reference_scope, r.table_name, m.md_scope, m.md_standard_uri, m.mime_type, "
        "m.metadata, r.timestamp FROM gpkg_metadata_reference r "
        "JOIN gpkg_metadata m ON m.id = r.md_file_id",
    )
    layers = set(dict(pyogrio.list_layers(gpkg))) - {"layer_styles"}
    assert {d[1] for d in docs} == layers | {None}  # every table, and the file itself
    contents = dict(read_sql(gpkg, "SELECT table_name, identifier FROM gpkg_contents"))
    for scope, table, md_scope, uri, mime, xml, stamp in docs:
        assert scope == ("geopackage" if table is None else "table")
        assert (md_scope, uri, mime) == ("dataset", "http://mrcc.com/qgis.dtd", "text/xml")
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", stamp)
        root = ET.fromstring(xml)
        assert root.tag == "qgis" and root.findtext("language") == "fra"
        if table is not None:
            assert root.findtext("title") == contents[table]
        abstract = root.findtext("abstract")
        assert "Question : " in abstract and "en %, de 0 à 100" in abstract
        assert "aucune valeur sous 10 réponses" in abstract  # cyber_pca is sensitive
        period = root.find("extent/temporal/period")
        assert period.findtext("start").startswith("2023-11-01")
    dep = ET.fromstring(next(d[5] for d in docs if d[1] == "departement"))
    assert dep.findtext("crs/spatialrefsys/authid") == "EPSG:2154"
    spatial = dep.find("extent/spatial")
    assert spatial.get("crs") == "EPSG:2154" and 5e4 < float(spatial.get("minx")) < 2e5


def test_geopackage_version_and_style_dates(gpkg):
    # GeoPackage 1.2: read without warning by GDAL 3.6 / QGIS 3.22 (Debian 12)
    assert read_sql(gpkg, "PRAGMA application_id") == [(0x47504B47,)]
    assert read_sql(gpkg, "PRAGMA user_version") == [(10200,)]
    for (when,) in read_sql(gpkg, "SELECT update_time FROM layer_styles"):
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", when)
    assert read_sql(gpkg, "PRAGMA page_size") == [(512,)]


@pytest.fixture(scope="module")
def epci_files(territories, tmp_path_factory):
    out = tmp_path_factory.mktemp("epci")
    table = make_table(
        territories, indicator="inclusion_cnfs", levels=("epci", "departement", "region"), seed=7
    )
    light = write_indicator_gpkg(table, territories, indicator="inclusion_cnfs", out_dir=out)
    full = write_indicator_gpkg(
        table, territories, indicator="inclusion_cnfs", path=out / "full.gpkg", simplify=False
    )
    return light, full


def test_generalised_geometry_is_light(epci_files):
    light, full = epci_files
    # one headline indicator at EPCI, département and région level: about 2 MB (1.98 MB
    # before the textured « pas de réponse » QGIS style, 1.6 kB more in each of 18 QML)
    assert light.stat().st_size <= 2_100_000
    assert full.stat().st_size > 3 * light.stat().st_size
    meta = dict(read_sql(light, "SELECT cle, valeur FROM metadonnees"))
    assert "EPCI : simplifiés à 1,2 km" in meta["geometrie"]
    assert (
        "contours du référentiel"
        in dict(read_sql(full, "SELECT cle, valeur FROM metadonnees"))["geometrie"]
    )


def test_generalised_geometry_keeps_shared_borders(epci_files, territories):
    light, _ = epci_files
    epci = pyogrio.read_dataframe(light, layer="epci")
    assert len(epci) == int((territories.epci["zone"] == "metropole").sum())
    assert shapely.is_valid(epci.geometry.values).all()
    assert shapely.coverage_is_valid(epci.geometry.values)  # no gap between neighbours, no overlap
    dep = pyogrio.read_dataframe(light, layer="departement")
    reg = pyogrio.read_dataframe(light, layer="region").set_index("code")
    assert shapely.coverage_is_valid(dep.geometry.values)
    for code, group in dep.groupby("region"):  # régions are their départements, exactly
        union = shapely.union_all(group.geometry.values)
        assert shapely.symmetric_difference(union, reg.loc[code, "geometry"]).area < 1.0
    ref = territories.epci.set_index("code")["area_km2"]
    area = shapely.area(epci.geometry.values) / 1e6
    np.testing.assert_allclose(area.sum(), ref.loc[epci["code"]].sum(), rtol=0.005)


def test_extra_columns_are_carried_in_the_value_unit(territories, tmp_path):
    table = make_table(territories, levels=("region",), seed=8)
    table["value_model"] = table["value"] * 0.9  # e.g. a small-area estimate
    table["estimator"] = np.where(table["suppressed"], "fay_herriot", "direct")
    out = write_indicator_gpkg(
        table, territories, indicator="cyber_pca", out_dir=tmp_path, extra_columns=["estimator"]
    )
    df = pyogrio.read_dataframe(out, layer="region", read_geometry=False)
    rows = table[(table["level"] == "region") & (table["by"] == "total")]
    rows = rows.set_index(rows["code"].astype(str)).loc[df["code"]]
    np.testing.assert_allclose(df["value_model"], 100 * rows["value_model"])
    assert df["estimator"].tolist() == rows["estimator"].tolist()
    meta = dict(read_sql(out, "SELECT cle, valeur FROM metadonnees"))
    assert meta["colonne:value_model"] == "colonne du tableau des indicateurs (en %, de 0 à 100)"
    nat = pyogrio.read_dataframe(out, layer="france")
    assert nat["value_model"].max() > 1


# ---------------------------------------------------------------- writing


def test_written_atomically_and_replaced(table, territories, tmp_path, monkeypatch):
    out = write_indicator_gpkg(table, territories, indicator="cyber_pca", out_dir=tmp_path)
    before = out.read_bytes()
    real = pyogrio.write_dataframe

    def failing(df, path, layer=None, **kw):
        if layer == "metadonnees":
            raise OSError("disk full")
        return real(df, path, layer=layer, **kw)

    monkeypatch.setattr(pyogrio, "write_dataframe", failing)
    with pytest.raises(OSError, match="disk full"):
        write_indicator_gpkg(table, territories, indicator="cyber_pca", out_dir=tmp_path)
    assert out.read_bytes() == before  # the old file is intact
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cyber_pca.gpkg"]  # no temp file
    monkeypatch.setattr(pyogrio, "write_dataframe", real)
    write_indicator_gpkg(
        table, territories, indicator="cyber_pca", levels=["region"], out_dir=tmp_path
    )
    assert "departement" not in dict(pyogrio.list_layers(out))  # replaced, not appended


def test_levels_default_to_published_ones(territories, tmp_path):
    table = make_table(
        territories, indicator="inclusion_cnfs", levels=("commune", "region"), seed=6
    )
    out = write_indicator_gpkg(table, territories, indicator="inclusion_cnfs", out_dir=tmp_path)
    layers = dict(pyogrio.list_layers(out))
    assert "commune" in layers and "region" in layers and "departement" not in layers
    assert pyogrio.read_info(out, layer="commune")["features"] == int(
        (territories.communes["zone"] == "metropole").sum()
    )
    (qml,) = qml_of(out, "commune")
    fill = ET.fromstring(qml).find("renderer-v2/symbols/symbol/layer")
    assert fill.find("prop[@k='outline_style']").get("v") == "no"  # no border on 35,000 communes


# ---------------------------------------------------------------- errors


def test_errors(table, territories, tmp_path):
    ok = {"indicator": "cyber_pca", "out_dir": tmp_path}
    with pytest.raises(
        UnknownValueError,
        match=r"'site' has no row.*Valid indicators: cyber_pca"
        r".*aggregate\(responses, indicators",
    ):
        write_indicator_gpkg(table, territories, indicator="site", out_dir=tmp_path)
    odd = table.assign(indicator=table["indicator"].astype(str).replace("cyber_pca", "cyber_pcx"))
    with pytest.raises(UnknownValueError, match=r"cyber_pcx.*cyber_pca"):
        write_indicator_gpkg(odd, territories, indicator="cyber_pcx", out_dir=tmp_path)
    with pytest.raises(UnknownValueError, match=r"Unknown level 'canton'.*Valid levels"):
        write_indicator_gpkg(table, territories, levels=["canton"], **ok)
    with pytest.raises(
        UnknownValueError,
        match=r"not published at level 'commune' \(sensitive"
        r".*Valid levels for it: departement, region",
    ):
        write_indicator_gpkg(table, territories, levels=["commune"], **ok)
    regions = table[table["level"] != "departement"]
    with pytest.raises(
        SchemaError,
        match=r"no row of 'cyber_pca' at level 'departement'.*"
        r"aggregate\(responses, level=",
    ):
        write_indicator_gpkg(regions, territories, levels=["departement"], **ok)
    national = table[table["level"].astype(str).str.startswith(("france", "outre"))]
    with pytest.raises(
        SchemaError,
        match=r"no row at any level where it is published.*"
        r"Aggregate it at those levels",
    ):
        write_indicator_gpkg(national, territories, **ok)
    with pytest.raises(SchemaError, match=r"exactly one of out_dir= .* or path="):
        write_indicator_gpkg(table, territories, indicator="cyber_pca")
    with pytest.raises(SchemaError, match=r"exactly one of out_dir="):
        write_indicator_gpkg(table, territories, path=tmp_path / "a.gpkg", **ok)
    with pytest.raises(InputFileError, match=r"must end in \.gpkg"):
        write_indicator_gpkg(table, territories, indicator="cyber_pca", path=tmp_path / "a.shp")
    with pytest.raises(InputFileError, match=r"no such folder.*mkdir -p"):
        write_indicator_gpkg(
            table, territories, indicator="cyber_pca", path=tmp_path / "nope" / "a.gpkg"
        )
    with pytest.raises(SchemaError, match=r"needs the Territories.*load_territories\(\)"):
        write_indicator_gpkg(table, territories.regions, **ok)
    with pytest.raises(
        SchemaError, match=r"expected the aggregates table.*barometre_geo.aggregate"
    ):
        write_indicator_gpkg(table.to_dict(), territories, **ok)
    with pytest.raises(SchemaError, match=r"lacks column\(s\) participation.*aggregate\(\)"):
        write_indicator_gpkg(table.drop(columns="participation"), territories, **ok)
    bad = table.assign(code=table["code"].astype(str).replace("01", "99"))
    with pytest.raises(SchemaError, match=r"not in the territories.*same COG year"):
        write_indicator_gpkg(bad, territories, **ok)
    twice = pd.concat([table, table[(table["level"] == "region") & (table["by"] == "total")]])
    with pytest.raises(SchemaError, match=r"appear twice.*Keep one row per territory"):
        write_indicator_gpkg(twice, territories, **ok)
    assert list(tmp_path.iterdir()) == []  # nothing written by failed calls


def test_with_the_real_aggregate(territories, tmp_path):
    agg = pytest.importorskip("barometre_geo.indicators.aggregate")
    from barometre_geo.testing import random_responses

    table = agg.aggregate(
        random_responses(600, seed=3),
        level=["departement", "france"],
        indicators=["cyber_pca"],
        weights=None,
    )
    out = write_indicator_gpkg(table, territories, indicator="cyber_pca", out_dir=tmp_path)
    df = pyogrio.read_dataframe(out, layer="departement", read_geometry=False)
    rows = table[(table["level"] == "departement") & (table["by"] == "total")]
    assert int(df["suppressed"].sum()) + sum(
        int(
            pyogrio.read_dataframe(out, layer=f"departement_{z}", read_geometry=False)[
                "suppressed"
            ].sum()
        )
        for z in ZONES
    ) == int(rows["suppressed"].sum())
    assert df.loc[df["suppressed"], "value"].isna().all()
    assert df["value"].notna().any()


# ---------------------------------------------------------------- QGIS itself

QGIS_SCRIPT = r"""
out["ranges"] = [[g.lowerValue(), g.upperValue(), g.label(), g.symbol().color().name(),
                  [s.layerType() for s in g.symbol().symbolLayers()]] for g in r.ranges()]
out["alias_value"] = lyr.attributeAlias(lyr.fields().indexOf("value"))
md = lyr.metadata()
out["md"] = {"title": md.title(), "abstract": md.abstract(), "keywords": md.keywords(),
             "crs": md.crs().authid(), "history": md.history(), "licenses": md.licenses()}
"""


@pytest.mark.slow
def test_qgis_applies_the_style_when_opening_the_layer(gpkg, tmp_path):
    """QGIS (system python3-qgis) opens the layer with our style and classes."""
    exe = system_qgis()
    if exe is None:
        pytest.skip("QGIS Python bindings not installed (apt-get install python3-qgis)")
    for layer, crs in (("departement", "EPSG:2154"), ("departement_974", "EPSG:2975")):
        got = run_qgis(exe, QGIS_SCRIPT, gpkg, layer, tmp_path)
        assert got["valid"] and got["crs"] == crs and got["renderer"] == "graduatedSymbol"
        assert "may only be partially supported" not in got["stderr"]  # GeoPackage 1.2
        # the Metadata tab shows our gpkg_metadata document
        md = got["md"]
        assert md["title"].startswith("Plan de continuité d’activité (PCA) — départements")
        assert "Question : " in md["abstract"] and "Secret statistique" in md["abstract"]
        assert md["keywords"]["thème"] == ["Cybersécurité"] and md["crs"] == crs
        assert any("Licence Ouverte 2.0" in x for x in md["licenses"])
        assert got["alias_value"] == "Valeur"
        (qml,) = qml_of(gpkg, layer)
        expected = [[lo, hi, label, (sym.find("layer/prop[@k='color']").get("v"))]
                    for lo, hi, label, sym in ranges(qml)[1]]  # fmt: skip
        assert [g[:3] for g in got["ranges"]] == [e[:3] for e in expected]
        assert [g[3] for g in got["ranges"][:5]] == list(get_palette("Blues").for_k(5))
        assert got["ranges"][6][4] == ["SimpleFill", "LinePatternFill"]
        # QGIS puts every feature in the range of its class column
        df = pyogrio.read_dataframe(gpkg, layer=layer, read_geometry=False)
        want = df["classe"].fillna(0).astype(int) - 1
        want = want.where(want >= 0, np.where(df["suppressed"], 6, 5)).astype(str)
        assert got["keys"] == want.value_counts().to_dict()
