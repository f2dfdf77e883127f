"""Texts and progress display of ``barometre-geo build``: summary, LISEZMOI, index header.

All user-facing text is French (the analysts' and préfectures' language).
"""

from __future__ import annotations

import os
import time

from ..protection.rules import T_SENSITIVE

__all__ = ["Steps", "index_description", "readme", "summary"]


def _fmt_int(n) -> str:
    return f"{int(n):,}".replace(",", "\u202f")


def summary(r, *, folder: str | None = None) -> str:
    """Return the French summary of a :class:`~barometre_geo.build.BuildResult`.

    ``folder`` names the output folder, for a text written into it
    (``LISEZMOI.txt``: the folder by its name alone, files relative to it — no
    folder of the machine in an output). Default (the terminal): relative to
    the working folder, or absolute when outside it.
    """
    out = r.out_dir
    if folder is not None:
        shown, here = folder, ""
    else:
        try:
            shown = os.path.relpath(out)
        except ValueError:  # another drive (Windows)
            shown = str(out)
        shown = shown if not shown.startswith("..") else str(out)
        here = f"{shown}/"
    lines = [f"Construction terminée en {r.elapsed:.0f} s — dossier {shown}/"]
    if r.synthetic:
        lines.append(
            "DONNÉES SYNTHÉTIQUES de démonstration (édition « "
            f"{r.edition} ») : ne publiez pas ces chiffres."
        )
    ing = r.ingest
    lines.append(
        f"Réponses : {_fmt_int(ing.get('rows', 0))} lignes lues, "
        f"{_fmt_int(ing.get('accepted', 0))} acceptées ({_fmt_int(ing.get('collectivities', 0))} "
        f"collectivités), {_fmt_int(ing.get('superseded', 0))} remplacées par une réponse plus "
        f"complète, {_fmt_int(ing.get('rejected', 0))} rejetées."
    )
    if r.rejected:
        why = ", ".join(f"{label} : {_fmt_int(n)}" for label, n in r.rejected.items())
        lines.append(
            f"  Rejetées — {why} (comptes : {here}rapports/import.txt ; détail ligne par "
            "ligne, privé : barometre-geo validate, ou build --rapport-detaille DOSSIER)."
        )
    if ing.get("conflicts"):
        lines.append(
            f"  {_fmt_int(ing['conflicts'])} réponse(s) contredisant une autre réponse de la même "
            f"collectivité à la même vague (autre fichier ou doublon) : comptes par fichier dans "
            f"{here}rapports/import.txt."
        )
    if ing.get("unknown_values"):
        lines.append(
            f"  {_fmt_int(ing['unknown_values'])} valeur(s) de réponse inconnue(s) laissée(s) "
            "vide(s) : complétez le fichier de correspondance (mapping) si besoin."
        )
    n_maps, n_gpkg = r._count("carte"), r._count("geopackage")
    missing = getattr(r, "not_published", 0)
    lines.append(
        f"Produit : {len(r.indicators)} indicateurs, {_fmt_int(n_maps)} cartes HTML"
        + (
            f" ({_fmt_int(missing)} niveau{'x' if missing > 1 else ''} sans valeur publiable : "
            f"pas de page, signalé{'s' if missing > 1 else ''} dans l’index)"
            if missing
            else ""
        )
        + (
            f", {_fmt_int(r._count('territoire'))} pages par territoire"
            if r._count("territoire")
            else ""
        )
        + f", {_fmt_int(n_gpkg)} GeoPackages"
        + (
            f", {_fmt_int(r._count('carte_statique'))} cartes statiques"
            if r.settings.static
            else ""
        )
        + ", tableau des résultats (donnees/), rapports (rapports/)."
    )
    s = r.settings
    lines.append(
        f"Secret statistique : mode {s.mode}, seuil {s.k} réponses ({s.k_sensitive} pour les "
        f"indicateurs sensibles, dont au moins {T_SENSITIVE} de chaque côté) ; "
        f"{_fmt_int(r.masked)} cases masquées."
    )
    if r.coverage:
        c = r.coverage
        lines.append(
            f"Couverture : {_fmt_int(c['n_covered'])} communes sur {_fmt_int(c['n_communes'])} "
            f"couvertes par une structure de mutualisation"
            + (
                " (structures illustratives, pas la liste réelle des OPSN)"
                if not s.structures
                else ""
            )
            + " ; une vue par structure (couverture.html?structure=<SIREN>) et ses "
            "communes à prospecter en CSV et XLSX (couverture/prospects/)."
        )
    for line in r.skipped:  # absent indicators among them
        lines.append(f"Sauté : {line}")
    for w in r.warnings[:5]:
        lines.append(f"Attention : {w}")
    if len(r.warnings) > 5:
        lines.append(f"… et {len(r.warnings) - 5} autre(s) avertissement(s) : voir manifest.json.")
    for p in r.problems:
        lines.append(f"À vérifier : {p}")
    for c in getattr(r, "cleaned", ()):
        lines.append(f"Rangement : {c}.")
    kept = getattr(r, "kept", ())
    if kept:
        shown_kept = ", ".join(kept[:5]) + (" …" if len(kept) > 5 else "")
        lines.append(
            f"{_fmt_int(len(kept))} fichier(s) du dossier qui ne viennent pas de la construction "
            f"précédente, conservé(s) : {shown_kept}."
        )
    replaced = getattr(r, "replaced", ())
    if replaced:
        lines.append(
            f"Remplacé(s) par la construction (--force) : {', '.join(replaced[:5])}"
            + (" …" if len(replaced) > 5 else "")
            + "."
        )
    lines.append(_embedding(s))
    lines.append(f"Ouvrez {here}index.html")
    return "\n".join(lines)


class Steps:
    """Progress display: step lines and bars (tqdm), silent when disabled or not a TTY."""

    def __init__(self, enabled: bool):
        import sys

        self.enabled = bool(enabled) and sys.stderr.isatty()
        self.timings: dict[str, float] = {}
        self._current, self._since = None, time.perf_counter()

    def step(self, text: str | None) -> None:
        """Close the current step (its time goes to :attr:`timings`) and start ``text``."""
        now = time.perf_counter()
        if self._current:
            self.timings[self._current] = round(now - self._since, 2)
        self._current, self._since = text, now
        if self.enabled and text:
            from tqdm import tqdm

            tqdm.write(f"• {text}", file=__import__("sys").stderr)

    def bar(self, total: int, desc: str):
        """Return a progress bar of ``total`` items (silent when quiet)."""
        from tqdm import tqdm

        return tqdm(total=total, desc=desc, unit=" ind.", disable=not self.enabled, leave=False)


def _embedding(settings) -> str:
    """Return the summary's line on embedding the maps in a website (base URL or not)."""
    from ..maps._embed import EMBED_SCRIPT, frame_src

    if not settings.base_url:
        return (
            "Intégration : codes <iframe> relatifs (adresse de publication inconnue). Une fois "
            "le dossier publié, relancez avec --base-url https://…/cartes/ pour des codes "
            "absolus ; chaque page publiée donne aussi le sien (« Intégrer cette carte »)."
        )
    return (
        f"Intégration : codes <iframe> pour {settings.base_url} ; le site hôte autorise "
        f"frame-src {frame_src(settings.base_url)} et sert une copie de {EMBED_SCRIPT} "
        "(hauteur automatique, compatible script-src 'self')."
    )


def index_description(settings, responses, synthetic: bool) -> str:
    """Return the paragraph under the index title (synthetic warning, secrecy, data)."""
    text = (
        f"Édition {responses.edition}. Secret statistique : mode {settings.mode}, au moins "
        f"{settings.k} réponses par territoire ({settings.k_sensitive} pour les indicateurs "
        "sensibles). Données : donnees/indicateurs.csv ; GeoPackages : geopackages/."
    )
    if synthetic:
        text = (
            "DONNÉES SYNTHÉTIQUES de démonstration, calibrées sur les chiffres nationaux publiés "
            "de la 1re édition : elles montrent le fonctionnement de l’outil, pas les résultats "
            "de l’enquête. Ne les publiez pas. " + text
        )
    return text


def readme(result) -> str:
    """Return ``LISEZMOI.txt``: the summary and the layout of the folder."""
    return (
        "Sorties de `barometre-geo build`\n"
        "================================\n\n"
        + summary(result, folder=result.out_dir.name)
        + "\n\nContenu du dossier\n"
        "------------------\n"
        "index.html                  les cartes par thème (sommaire, recherche), les territoires\n"
        "assets/                     Leaflet ; barometre-geo-integration.js pour le site hôte\n"
        "<indicateur>.<niveau>.html  une carte par indicateur et niveau (et par modalité)\n"
        "territoire.<code>.html      une page par région et département (version imprimable)\n"
        "participation.*.html        communes ayant répondu ; participation par département\n"
        "couverture.html             couverture par les structures de mutualisation\n"
        "geopackages/                un GeoPackage par indicateur (styles QGIS), couverture.gpkg\n"
        "donnees/                    tableau des résultats (CSV, Parquet), dictionnaire\n"
        "rapports/                   rapport d’import, couverture\n"
        "parametres.toml             rejouer (depuis le dossier parent) : barometre-geo build "
        f"--config {result.out_dir.name}/parametres.toml\n"
        "manifest.json               chaque fichier, taille, sha256 ; versions ; entrées\n"
    )
