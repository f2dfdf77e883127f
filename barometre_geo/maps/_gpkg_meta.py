"""Standard metadata and finishing of the GeoPackages written by barometre-geo.

The GeoPackage *Metadata* extension (OGC 12-128r18, § F.8) stores metadata
documents in ``gpkg_metadata`` and links them to the file, a table or a
column in ``gpkg_metadata_reference``. QGIS reads, for a layer, the document
whose ``md_standard_uri`` is ``http://mrcc.com/qgis.dtd`` referenced with
``reference_scope = 'table'`` and the layer's ``table_name``
(``QgsOgrProvider::loadMetadata``) and shows it in Layer Properties ›
Metadata: title, abstract, keywords, rights, licence, encoding, CRS, spatial
and temporal extent, history. :func:`qgis_metadata_xml` writes that document
(the layout of ``QgsLayerMetadata::writeMetadataXml``), one per table plus
one for the whole file (``reference_scope = 'geopackage'``).

:func:`finish_gpkg` runs once the layers are written (GDAL closed the file):

* creates the two tables as the specification defines them and registers the
  extension in ``gpkg_extensions``, then inserts the documents;
* rewrites ``layer_styles.update_time`` in the GeoPackage ``DATETIME`` form
  ``YYYY-MM-DDTHH:MM:SS.SSSZ`` (older GDAL/QGIS warn about any other);
* sets 512-byte pages (SQLite's smallest) and vacuums the file: each
  polygon is a blob that overflows its page, and the unused tail of its
  last 4 KiB page was a fifth of the file.

The files are written as GeoPackage 1.2 (``VERSION=1.2`` when GDAL creates
them; :data:`GPKG_VERSION`): the version QGIS 3.22 / GDAL 3.6 — still the
long-term releases of Debian 12 — read without warning.
"""

from __future__ import annotations

import sqlite3
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "GPKG_VERSION",
    "QGIS_METADATA_URI",
    "LayerMetadata",
    "finish_gpkg",
    "qgis_metadata_xml",
]

#: ``VERSION`` dataset creation option given to GDAL's GPKG driver.
GPKG_VERSION = "1.2"
#: ``md_standard_uri`` of the QGIS layer metadata document.
QGIS_METADATA_URI = "http://mrcc.com/qgis.dtd"
_DOCTYPE = "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n"
_EXTENSION = "http://www.geopackage.org/spec120/#extension_metadata"
_DDL = (
    """CREATE TABLE IF NOT EXISTS gpkg_metadata (
  id INTEGER CONSTRAINT m_pk PRIMARY KEY ASC NOT NULL,
  md_scope TEXT NOT NULL DEFAULT 'dataset',
  md_standard_uri TEXT NOT NULL,
  mime_type TEXT NOT NULL DEFAULT 'text/xml',
  metadata TEXT NOT NULL DEFAULT ''
)""",
    """CREATE TABLE IF NOT EXISTS gpkg_metadata_reference (
  reference_scope TEXT NOT NULL,
  table_name TEXT,
  column_name TEXT,
  row_id_value INTEGER,
  timestamp DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
  md_file_id INTEGER NOT NULL,
  md_parent_id INTEGER,
  CONSTRAINT crmr_mfi_fk FOREIGN KEY (md_file_id) REFERENCES gpkg_metadata(id),
  CONSTRAINT crmr_mpi_fk FOREIGN KEY (md_parent_id) REFERENCES gpkg_metadata(id)
)""",
    """CREATE TABLE IF NOT EXISTS gpkg_extensions (
  table_name TEXT,
  column_name TEXT,
  extension_name TEXT NOT NULL,
  definition TEXT NOT NULL,
  scope TEXT NOT NULL,
  CONSTRAINT ge_tce UNIQUE (table_name, column_name, extension_name)
)""",
)


@dataclass(frozen=True)
class LayerMetadata:
    """What QGIS shows in a layer's Metadata tab (a subset of ``QgsLayerMetadata``).

    ``table`` is the GeoPackage table described, or ``None`` for the whole file.
    ``extent`` is ``(minx, miny, maxx, maxy)`` in ``crs`` (an ``EPSG:…`` code);
    ``period`` the ``(start, end)`` ISO dates of the data collection.
    """

    table: str | None
    identifier: str
    title: str
    abstract: str
    keywords: Mapping[str, Sequence[str]] = field(default_factory=dict)
    rights: Sequence[str] = ()
    licenses: Sequence[str] = ()
    history: Sequence[str] = ()
    links: Sequence[tuple[str, str]] = ()  # (name, url)
    crs: str | None = None
    extent: tuple[float, float, float, float] | None = None
    period: tuple[str, str] | None = None
    language: str = "fra"


def qgis_metadata_xml(md: LayerMetadata) -> str:
    """Return the QGIS layer metadata document of ``md`` (read by ``readMetadataXml``).

    Examples
    --------
    >>> xml = qgis_metadata_xml(LayerMetadata(None, "id", "Titre", "Résumé",
    ...                                       keywords={"thème": ["cyber"]}))
    >>> xml.startswith("<!DOCTYPE qgis") and "<title>Titre</title>" in xml
    True
    """
    root = ET.Element("qgis", version="3.22.0")
    ET.SubElement(root, "identifier").text = md.identifier
    ET.SubElement(root, "parentidentifier")
    ET.SubElement(root, "language").text = md.language
    ET.SubElement(root, "type").text = "dataset"
    ET.SubElement(root, "title").text = md.title
    ET.SubElement(root, "abstract").text = md.abstract
    for vocabulary, words in md.keywords.items():
        kw = ET.SubElement(root, "keywords", vocabulary=vocabulary)
        for word in words:
            ET.SubElement(kw, "keyword").text = word
    links = ET.SubElement(root, "links")
    for name, url in md.links:
        ET.SubElement(
            links,
            "link",
            name=name,
            type="WWW:LINK",
            url=url,
            description="",
            format="",
            mimeType="",
            size="",
        )
    ET.SubElement(root, "fees")
    for text in md.rights:
        ET.SubElement(root, "rights").text = text
    for text in md.licenses:
        ET.SubElement(root, "license").text = text
    ET.SubElement(root, "encoding").text = "UTF-8"
    if md.crs:
        srs = ET.SubElement(ET.SubElement(root, "crs"), "spatialrefsys")
        ET.SubElement(srs, "authid").text = md.crs
    extent = ET.SubElement(root, "extent")
    if md.extent is not None and md.crs:
        minx, miny, maxx, maxy = (f"{v:.0f}" for v in md.extent)
        ET.SubElement(
            extent,
            "spatial",
            minx=minx,
            miny=miny,
            maxx=maxx,
            maxy=maxy,
            minz="0",
            maxz="0",
            crs=md.crs,
            dimensions="2",
        )
    if md.period is not None:
        period = ET.SubElement(ET.SubElement(extent, "temporal"), "period")
        ET.SubElement(period, "start").text = f"{md.period[0]}T00:00:00"
        ET.SubElement(period, "end").text = f"{md.period[1]}T23:59:59"
    for text in md.history:
        ET.SubElement(root, "history").text = text
    ET.indent(root)
    return _DOCTYPE + ET.tostring(root, encoding="unicode") + "\n"


def finish_gpkg(path: str | Path, metadata: Sequence[LayerMetadata], *, when: str) -> None:
    """Add the standard metadata, fix ``layer_styles`` dates, compact the file (see module).

    Parameters
    ----------
    path : path-like
        A GeoPackage GDAL has finished writing (closed).
    metadata : sequence of LayerMetadata
        One per table described (``table=None``: the whole file).
    when : str
        ``YYYY-MM-DDTHH:MM:SS.SSSZ`` timestamp of the references.
    """
    con = sqlite3.connect(str(path), isolation_level=None)
    try:
        con.execute("BEGIN")
        for ddl in _DDL:
            con.execute(ddl)
        for table in ("gpkg_metadata", "gpkg_metadata_reference"):
            con.execute(
                "INSERT OR IGNORE INTO gpkg_extensions VALUES (?, NULL, 'gpkg_metadata', ?, "
                "'read-write')",
                (table, _EXTENSION),
            )
        for md in metadata:
            cur = con.execute(
                "INSERT INTO gpkg_metadata (md_scope, md_standard_uri, mime_type, metadata) "
                "VALUES ('dataset', ?, 'text/xml', ?)",
                (QGIS_METADATA_URI, qgis_metadata_xml(md)),
            )
            con.execute(
                "INSERT INTO gpkg_metadata_reference (reference_scope, table_name, column_name, "
                "row_id_value, timestamp, md_file_id, md_parent_id) "
                "VALUES (?, ?, NULL, NULL, ?, ?, NULL)",
                ("geopackage" if md.table is None else "table", md.table, when, cur.lastrowid),
            )
        has_styles = con.execute(
            "SELECT 1 FROM sqlite_master WHERE type='table' AND name='layer_styles'"
        ).fetchone()
        if has_styles:
            con.execute("UPDATE layer_styles SET update_time = ?", (when,))
        con.execute("COMMIT")
        con.execute("PRAGMA page_size = 512")
        con.execute("VACUUM")
    finally:
        con.close()
