"""``maps/index.html``: a navigable index of the maps, by theme, with a search box.

The page a préfecture's web team opens first (:func:`write_index`):

* a skip link, a search box and a table of contents (one link per theme, one to
  the territories): any theme is a few tab stops away, whatever the number of maps;
* one **entry per indicator** (:class:`MapRecord` rows sharing an ``entry``): its
  question, its national value (with a small bar), and one link per level —
  per answer option for multiple-choice questions. A level where nothing is
  publishable has no page: it is listed as « non publié à ce niveau » with the
  reason (:attr:`MapRecord.reason`);
* the **territories** (:class:`TerritoryLink`): a page per région and
  département, grouped by région;
* how to embed the maps: the host script, the ``frame-src`` to allow, and —
  when the build does not know the public address of the folder — how to give it.

The search box filters the entries and the territories as one types (accents and
case ignored). Its script is inline and allowed by its sha256 in the page's own
Content-Security-Policy (no ``'unsafe-inline'``); without script every entry
stays listed and the box is not shown.
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from ..errors import SchemaError
from ._files import atomic_write, map_path
from ._render import render_template

__all__ = ["MapRecord", "TerritoryLink", "search_text", "write_index"]


@dataclass(frozen=True)
class MapRecord:
    """One map of the index — or one level where an indicator has none.

    Attributes
    ----------
    file : str
        File name of the page inside the output folder (as returned by
        :func:`map_path`; a plain name, no folder). Empty when the level is not
        published (``reason`` says why): no link, no page.
    title : str
        Title of the page.
    theme : str
        Theme label under which the map is listed.
    level : str
        Level label ("Départements"…).
    national : str
        National figure, formatted ("52,3 %"), or empty.
    description : str
        The question, or what the map shows.
    entry : str
        Groups the records of one indicator in one entry (its id); default: the file.
    entry_title : str
        Title of the entry (the indicator's label); default: ``title``.
    option : str
        Label of the answer option the page maps (multiple-choice questions).
    reason : str
        Why the level is not published (with an empty ``file``).
    keywords : str
        More words for the search box (the indicator's id…).
    share : float or None
        National value as a share 0–1 (draws the small bar), if any.
    """

    file: str
    title: str
    theme: str = "Autres cartes"
    level: str = ""
    national: str = ""
    description: str = ""
    entry: str = ""
    entry_title: str = ""
    option: str = ""
    reason: str = ""
    keywords: str = ""
    share: float | None = None


@dataclass(frozen=True)
class TerritoryLink:
    """The page of one territory (a région or a département), for the index.

    ``region`` is the code of the région a département belongs to (empty for a
    région, or an overseas département, which is its own région).
    """

    file: str
    name: str
    code: str
    kind: str  # "region" | "departement"
    region: str = ""


def search_text(*parts: str) -> str:
    """Normalise text for the search box: lower case, no accents, single spaces.

    Examples
    --------
    >>> search_text("Cybersécurité", "Plan de continuité d’activité")
    "cybersecurite plan de continuite d'activite"
    """
    text = " ".join(p for p in parts if p)
    text = unicodedata.normalize("NFKD", text.replace("’", "'"))
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    return re.sub(r"\s+", " ", text).strip()


def _check_file(root: Path, file: str) -> None:
    path = map_path(root, file)
    if path.name != file:
        raise SchemaError(
            f"write_index: record file {file!r} is not a safe file name "
            f"(expected {path.name!r}). Use the name returned by map_path()."
        )


def _anchor(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", search_text(text)).strip("-") or "x"


def _entries(records: Sequence[MapRecord], root: Path, base_url: str) -> list[dict]:
    """Group the records: themes (in order of appearance) → entries → rows of levels."""
    themes: dict[str, dict] = {}
    for rec in records:
        if rec.file:
            _check_file(root, rec.file)
        theme = themes.setdefault(rec.theme, {"label": rec.theme, "entries": {}})
        key = rec.entry or rec.file or rec.title
        entry = theme["entries"].setdefault(
            key,
            {
                "id": "ind-" + _anchor(key),
                "title": rec.entry_title or rec.title,
                "description": rec.description,
                "national": "",
                "share": None,
                "rows": {},
                "words": [rec.entry_title or rec.title, rec.description, rec.keywords],
                "n_pages": 0,
            },
        )
        if rec.national and not entry["national"] and not rec.option:
            entry["national"], entry["share"] = rec.national, rec.share
        row = entry["rows"].setdefault(rec.option, {"option": rec.option, "levels": []})
        url = (base_url.rstrip("/") + "/" if base_url else "") + quote(rec.file) if rec.file else ""
        row["levels"].append({"label": rec.level or rec.title, "url": url, "reason": rec.reason})
        entry["words"] += [rec.option, rec.level]
        entry["n_pages"] += bool(rec.file)
    out = []
    for theme in themes.values():
        entries = []
        for entry in theme["entries"].values():
            entry["rows"] = [_split(row) for row in entry["rows"].values()]
            entry["search"] = search_text(*entry.pop("words"))
            if entry["share"] is not None:
                entry["bar"] = round(max(0.0, min(1.0, float(entry["share"]))) * 60, 1)
            entries.append(entry)
        out.append({"label": theme["label"], "id": "theme-" + _anchor(theme["label"]),
                    "entries": entries})  # fmt: skip
    return out


def _lower_first(text: str) -> str:
    """« Départements » → « départements », « EPCI à fiscalité propre » unchanged."""
    return text[:1].lower() + text[1:] if text[1:2].islower() else text


def _join(items: list[str]) -> str:
    return " et ".join([", ".join(items[:-1]), items[-1]]) if len(items) > 1 else "".join(items)


def _split(row: dict) -> dict:
    """Links of a row, and its levels not published grouped by reason."""
    missing: dict[str, list[str]] = {}
    for lv in row["levels"]:
        if not lv["url"]:
            missing.setdefault(lv["reason"], []).append(lv["label"])
    row["links"] = [lv for lv in row["levels"] if lv["url"]]
    row["missing"] = [
        {"levels": _join([_lower_first(x) for x in labels]), "reason": reason}
        for reason, labels in missing.items()
    ]
    return row


def _territories(links: Sequence[TerritoryLink], root: Path, base_url: str) -> list[dict]:
    regions: dict[str, dict] = {}
    for link in links:
        _check_file(root, link.file)
        url = (base_url.rstrip("/") + "/" if base_url else "") + quote(link.file)
        item = {
            "name": link.name,
            "code": link.code,
            "url": url,
            "search": search_text(link.name, link.code, link.kind),
        }
        if link.kind == "region" or not link.region:
            regions.setdefault(link.code, {"departements": []}).update(item)
        else:
            regions.setdefault(link.region, {"departements": []})["departements"].append(item)
    return [r for r in regions.values() if "name" in r]


def iframe_snippet(file: str, title: str, base_url: str = "") -> str:
    r"""Return the code embedding a page: its ``<iframe>`` and the host script.

    No inline style or script (a strict CSP accepts it): the host script
    (:data:`~._embed.EMBED_SCRIPT`) sets the frame's height
    (:func:`~._embed.embed_snippet`).

    Examples
    --------
    >>> print(iframe_snippet("carte.html", "Carte").replace(" width", "\n width"))
    <iframe src="carte.html" title="Carte"
     width="100%" height="900" loading="lazy" data-barometre-geo></iframe>
    <script src="assets/barometre-geo-integration.js" defer></script>
    """
    from ._embed import embed_snippet

    return embed_snippet(file, title, base_url=base_url).html


def _example_snippet(rec: MapRecord, base_url: str) -> str:
    """Return the code embedding the first map (an example: each page shows its own)."""
    return iframe_snippet(rec.file, rec.title, base_url)


def write_index(
    records: Sequence[MapRecord],
    out_dir: str | os.PathLike,
    *,
    title: str = "Cartes du Baromètre Collectivités & Numérique",
    description: str = "",
    base_url: str = "",
    territories: Sequence[TerritoryLink] = (),
    embed_script: str = "",
) -> Path:
    """Write ``index.html``: the maps by theme, one entry per indicator (atomically).

    Parameters
    ----------
    records : sequence of MapRecord
        The maps produced, and the levels not published (empty ``file``), in
        the order wanted within each theme; records sharing ``entry`` form one
        entry.
    out_dir : path-like
        The output folder holding the maps; ``index.html`` is written there.
    title, description : str
        Heading and paragraph under it.
    base_url : str
        Public URL of the folder (e.g. ``"https://example.org/barometre/cartes/"``):
        links and the embedding example are absolute. Without it the index says
        how to give it (``--base-url``).
    territories : sequence of TerritoryLink
        Pages per région and département, listed after the themes.
    embed_script : str
        Path, in the folder, of the host script that sizes embedded maps
        (``assets/barometre-geo-integration.js``), if the build wrote it.

    Raises
    ------
    SchemaError
        A record's file is not a plain name inside ``out_dir``.

    Examples
    --------
    >>> import tempfile
    >>> recs = [MapRecord("site.region.html", "Site internet — régions", "Services", "Régions",
    ...                   "52\u202f%", entry="site", entry_title="Site internet", share=0.52),
    ...         MapRecord("", "Site internet — communes", "Services", "Communes",
    ...                   entry="site", reason="moins de 5 réponses par commune")]
    >>> out = write_index(recs, tempfile.mkdtemp())
    >>> html = out.read_text(encoding="utf-8")
    >>> html.count('href="site.region.html"'), "non publié à ce niveau" in html
    (1, True)
    """
    root = Path(out_dir)
    themes = _entries(records, root, base_url)
    places = _territories(territories, root, base_url)
    first = next((r for r in records if r.file), None)
    example = _example_snippet(first, base_url) if first else ""
    n_maps = sum(e["n_pages"] for t in themes for e in t["entries"])
    n_entries = sum(len(t["entries"]) for t in themes)
    html = render_template(
        "index.html",
        title=title,
        description=description,
        themes=themes,
        regions=places,
        n_maps=n_maps,
        n_entries=n_entries,
        base_url=base_url.rstrip("/") + "/" if base_url else "",
        embed_script=embed_script,
        example=example,
    )
    return atomic_write(root / "index.html", html)
