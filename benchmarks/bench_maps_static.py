"""Benchmark: static maps and GeoPackages of an indicator vs what a user would write.

Run:  .venv/bin/python benchmarks/bench_maps_static.py [--dpi 200]

On the same synthetic commune-level values (34,875 polygons, a fifth of them
suppressed), prints side by side, measured in this run (warm: the second call):

* ``static_map`` (PNG, metropole + 5 overseas insets + Île-de-France inset,
  legend, texts; no basemap) vs ``GeoDataFrame.plot`` of the same classes on
  the full-resolution communes in Lambert-93 (one figure, metropole only, no
  inset, no legend) — the few lines a GIS analyst would write;
* the drawing step alone: our PathCollections from the simplified coverage vs
  ``GeoDataFrame.plot`` of the same simplified polygons (same figure size);
* ``write_indicator_gpkg`` (every level, 6 CRS, styles, metadata) vs
  ``GeoDataFrame.to_file`` of the commune layer alone (EPSG:4326, no style).
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
from pathlib import Path

import numpy as np

import barometre_geo as bg
from barometre_geo.maps import MapStyle, static_map, write_indicator_gpkg
from barometre_geo.maps._geometry import simplify_coverage
from barometre_geo.maps._static_draw import draw_layer, paths_of

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from _agg_tables import make_table
from _timing import timed


def warm(fn, repeat: int = 2):
    """``(result, seconds)`` of the last of ``repeat`` runs (the first ones warm up)."""
    seconds, out = timed(fn, repeat, stat="last")
    return out, seconds


def geopandas_map(gdf, cls, colors, dpi, path):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 8), dpi=dpi)
    ax = fig.add_axes((0.165, 0.075, 0.565, 0.775))
    metro = gdf[gdf["zone"] == "metropole"].to_crs(2154)
    c = cls[(gdf["zone"] == "metropole").to_numpy()]
    metro.assign(c=c).plot(
        ax=ax,
        color=[colors[i] if i >= 0 else "#e6e6e6" for i in c],
        linewidth=0,
    )
    ax.set_axis_off()
    fig.savefig(path, dpi=dpi)


def draw_only(geoms, cls, colors, dpi, how):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 8), dpi=dpi)
    ax = fig.add_axes((0, 0, 1, 1))
    if how == "paths":
        draw_layer(ax, paths_of(geoms), cls, colors)
        ax.set_xlim(-5.5, 10)
        ax.set_ylim(41, 51.5)
    else:
        import geopandas as gpd

        face = [colors[i] if i >= 0 else "#e6e6e6" for i in cls]
        gpd.GeoSeries(geoms).plot(ax=ax, color=face, linewidth=0)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dpi", type=int, default=200)
    args = parser.parse_args()
    t = bg.load_territories()
    communes = t.communes
    table = make_table(t, indicator="inclusion_cnfs", levels=("commune", "departement"), seed=1)
    out = Path(tempfile.mkdtemp(prefix="bench-static-"))

    m, dt_ours = warm(lambda: static_map(table, t, indicator="inclusion_cnfs", level="commune",
                                          out_dir=out, basemap="none", dpi=args.dpi))  # fmt: skip
    cls = np.full(len(communes), -1)
    rows = table[(table["level"] == "commune") & (table["by"] == "total")]
    value = rows.set_index(rows["code"].astype(str))["value"].reindex(communes["code"])
    sup = rows.set_index(rows["code"].astype(str))["suppressed"].reindex(communes["code"])
    shown = value.where(~sup.fillna(False).astype(bool)).to_numpy()
    cls = m.classification.assign(shown).astype(int)
    colors = bg.maps.get_palette("Blues").for_k(5)
    _, dt_gpd = warm(lambda: geopandas_map(communes, cls, colors, args.dpi, out / "gpd.png"))
    print(f"Commune map, {len(communes):,} polygons, {args.dpi} dpi (warm, this machine)")
    print(f"  static_map (PNG, 6 insets, legend)   {dt_ours:6.2f} s  {m.size / 1e6:5.2f} MB")
    size_gpd = (out / "gpd.png").stat().st_size / 1e6
    print(f"  GeoDataFrame.plot (metropole only)   {dt_gpd:6.2f} s  {size_gpd:5.2f} MB")

    simplified = simplify_coverage(communes.geometry.values, MapStyle().tolerance(len(communes)))
    _, dt_paths = warm(lambda: draw_only(simplified, cls, colors, args.dpi, "paths"))
    _, dt_plot = warm(lambda: draw_only(simplified, cls, colors, args.dpi, "geopandas"))
    print("Drawing the simplified communes alone (same figure, PNG in memory)")
    print(f"  PathCollection per style (ours)      {dt_paths:6.2f} s")
    print(f"  GeoSeries.plot                       {dt_plot:6.2f} s")

    svg, dt_svg = warm(lambda: static_map(table, t, indicator="inclusion_cnfs", level="commune",
                                           out_dir=out, format="svg", basemap="none",
                                           dpi=args.dpi))  # fmt: skip
    print(f"  static_map (SVG, layers as images)   {dt_svg:6.2f} s  {svg.size / 1e6:5.2f} MB")

    gpkg, dt_gpkg = warm(
        lambda: write_indicator_gpkg(table, t, indicator="inclusion_cnfs", out_dir=out)
    )
    layer = communes.assign(value=value.to_numpy())
    _, dt_file = warm(lambda: layer.to_file(out / "plain.gpkg", driver="GPKG"))
    print("GeoPackage")
    size = gpkg.stat().st_size / 1e6
    print(f"  write_indicator_gpkg (2 levels x 6 CRS, styles, metadata) {dt_gpkg:6.2f} s "
          f"{size:6.1f} MB")  # fmt: skip
    size = (out / "plain.gpkg").stat().st_size / 1e6
    print(f"  GeoDataFrame.to_file (communes, 4326, no style)           {dt_file:6.2f} s "
          f"{size:6.1f} MB")  # fmt: skip


if __name__ == "__main__":
    main()
