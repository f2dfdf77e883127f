"""Synthetic demo edition of the barometer, calibrated on the published figures.

:func:`write_demo_exports` writes a **synthetic** first edition in the
barometer's raw export format (one file per wave, ``demo-synthetique-vague-N``)
so that a demo runs the real reader end to end; :func:`load_demo` writes them
to the cache once and reads them back with :func:`barometre_geo.read_responses`.

What it reproduces, by construction (see :mod:`barometre_geo.demo.sample` and
:mod:`barometre_geo.demo.answers`):

* 2,174 / 629 / 587 accepted responses, 3,117 distinct collectivities of the
  real COG 2025, 88 % communes (60 % under 1,000 inhabitants, 25 % of
  1,000–5,000), 76 % agents / 24 % élus, over-represented Nouvelle-Aquitaine,
  Auvergne-Rhône-Alpes and Occitanie, higher participation where an
  (illustrative) mutualisation structure serves the commune;
* every national figure of the first edition (catalogue ``published``) on the
  accepted rows, with the statistics' definitions: answers are cut from
  latent scores (size, maturity, a smooth spatial field, coverage) with exact
  counts, i.e. a logistic model whose intercepts are calibrated on the
  realised sample;
* a handful of real-life defects for the ingest report (superseded answers,
  test rows, SIRET and codes without their leading zero, unknown labels, a
  percentage of 140, Windows-1252 and Excel files, multi-line free text).

It is **not** the barometer: every file, row, README and the edition label say so.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["DEMO_EDITION", "DEMO_SEED", "demo_files", "load_demo", "write_demo_exports"]

#: Edition label of the demo responses (shown in reports and maps).
DEMO_EDITION = "Démo synthétique (calibrée sur la 1re édition)"
#: Default seed.
DEMO_SEED = 2025
README = "LISEZMOI.txt"
_FORMAT = 1  # bump when the generated files change for the same seed
_STEM = "demo-synthetique-vague-{wave}"
_SOURCES = ("edition.py", "sample.py", "answers.py", "targets.py", "people.py", "write.py",
            "../_xlsx.py")  # fmt: skip
_DATA = ("catalogue.yaml", "mapping.yaml", "structures-illustratives.json")
_LOADED: dict = {}


def _check_seed(seed) -> int:
    from ..errors import UnknownValueError

    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or not 0 <= seed < 2**63:
        raise UnknownValueError(
            f"seed={seed!r}: give a whole number >= 0 (the same seed always gives the same "
            f"files; the default is {DEMO_SEED}).",
            fr=f"seed={seed!r} : donnez un entier >= 0 (la même graine donne toujours les "
            f"mêmes fichiers ; {DEMO_SEED} par défaut).",
        )
    return int(seed)


def _check_folder(out_dir) -> Path:
    from ..errors import InputFileError

    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise InputFileError(
            f"{out}: this path is a file, not a folder. Give the folder where the demo "
            f"exports go, e.g. --out {out.with_suffix('')}-demo (it is created if missing).",
            fr=f"{out} : ce chemin est un fichier, pas un dossier. Donnez le dossier où écrire "
            f"les exports de démonstration, par exemple --out {out.with_suffix('')}-demo (il "
            "est créé s’il n’existe pas).",
        )
    return out


def demo_files(out_dir) -> list[Path]:
    """Paths of the three wave files written by :func:`write_demo_exports` in ``out_dir``."""
    from .write import FILE_FORMATS

    return [Path(out_dir) / (_STEM.format(wave=w) + FILE_FORMATS[w][0]) for w in (1, 2, 3)]


def default_inputs(territories=None, catalogue=None, structures=None) -> tuple:
    """Fill in the embedded reference, catalogue and illustrative structures where not given."""
    if territories is None:
        from ..territories.load import load_territories

        territories = load_territories()
    if catalogue is None:
        from ..survey.catalogue import load_catalogue

        catalogue = load_catalogue()
    if structures is None:
        from ..coverage.structures import load_demo_structures

        structures = load_demo_structures(territories)
    return territories, catalogue, structures


def _plan_defects(rng, resp: pd.DataFrame, units: pd.DataFrame, territories) -> dict:
    """Which rows and cells carry which defect (decided before the answers)."""
    from ..territories.resolve import resolve
    from .write import unique_postal_codes

    wave = resp["wave"].to_numpy()
    stop = resp["stop"].to_numpy()
    kind = resp["kind"].to_numpy(dtype=object)
    code = units["code"].to_numpy(dtype=object)[resp["unit"].to_numpy()]
    commune = kind == "commune"

    def pick(mask, n):
        idx = np.flatnonzero(mask)
        return [int(i) for i in np.sort(rng.choice(idx, size=n, replace=False))]

    identity: dict[int, str] = {}
    postal = unique_postal_codes(territories)
    has_postal = np.array([c in postal for c in code], dtype=bool)
    for w, n in ((1, 2), (3, 1)):
        for i in pick(commune & has_postal & (wave == w), n):
            identity[i] = "postal_code"
    candidates = pick(commune & (wave == 1) & ~has_postal, 40)
    noms = [f"Mairie de {units.loc[resp['unit'].iat[i], 'nom']}" for i in candidates]
    deps = [units.loc[resp["unit"].iat[i], "departement"] for i in candidates]
    found = resolve(territories, noms, departement=deps)
    ok = [i for i, c in zip(candidates, found["code"], strict=True) if c == code[i]]
    for i in ok[:2]:
        identity[i] = "name_only"
    free = np.ones(len(resp), dtype=bool)
    free[list(identity)] = False
    for i in pick(free & (wave == 3), 1):
        identity[i] = "siret"
    free[list(identity)] = False
    cells = {}
    (i,) = pick(free & (wave == 1) & (stop >= 2), 1)
    cells[(i, "cyber_pra")] = "Oui en partie"
    (i,) = pick(free & (wave == 3) & (stop >= 3), 1)
    cells[(i, "strategie_elu_numerique")] = "Peut-être"
    a, b = pick(free & (wave == 2) & (stop >= 2) & commune, 2)
    cells[(a, "outils_materiel_reconditionne")] = "140"
    cells[(b, "outils_materiel_reconditionne")] = "env. 10"
    taken = {r for r, _ in cells} | set(identity)
    free[list(taken)] = False
    superseded = {w: pick(free & (wave == w), n) for w, n in ((1, 9), (2, 3), (3, 2))}
    return {
        "postal": postal,
        "identity": identity,
        "cells": cells,
        "superseded": superseded,
        "rejected": {
            1: [
                ("TEST - ne pas tenir compte", "Commune"),
                ("Mairie de Saint-Éloi-des-Brumes", "Commune"),  # no such commune, no code
            ],
            2: [("Association Numérique Rurale", "Association")],
            3: [("essai questionnaire", "Commune")],
        },
        "comment_email": pick(free & (wave == 1), 1)[0],
    }


def _structures_of(units: pd.DataFrame, territories, structures) -> dict[int, str]:
    """Map units to the name of a structure serving them (their commune or seat)."""
    names = structures.data.set_index("id")["nom"]
    first = structures.members.drop_duplicates("commune").set_index("commune")["structure"]
    seats = dict(zip(territories.epci["code"], territories.epci["siege"], strict=True))
    anchor = units["code"].where(units["kind"] == "commune")
    anchor = anchor.fillna(units["code"].map(seats))
    if "seat" in units:
        anchor = anchor.fillna(units["seat"])
    out = {}
    for u, c in anchor.items():
        s = first.get(c) if isinstance(c, str) else None
        if s is not None and units.at[u, "served"]:
            out[u] = str(names[s])
    return out


def _generate(seed: int, territories, catalogue, structures):
    from .answers import covariates, draw_answers, draw_profiles
    from .sample import draw_respondents
    from .write import build_rows

    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(5)]
    served = set(structures.members["commune"])
    units, resp = draw_respondents(streams[0], territories, served)
    for col in ("kind", "region", "departement", "served"):
        resp[col] = units[col].to_numpy()[resp["unit"].to_numpy()]
    cov = covariates(streams[1], units)
    resp["profile"] = draw_profiles(streams[1], units, resp, cov)
    r = streams[2].random(len(resp))
    resp["stop"] = np.where(r < 0.04, 1, np.where(r < 0.08, 2, 3))
    plan = _plan_defects(streams[2], resp, units, territories)
    answers = draw_answers(streams[3], catalogue, resp, cov, set(plan["cells"]))
    tables = build_rows(streams[4], catalogue, territories, units, resp, answers, plan,
                        _structures_of(units, territories, structures))  # fmt: skip
    return tables, plan


def _readme(seed: int, files: list[Path], catalogue) -> str:
    ed = catalogue.edition
    waves = ", ".join(
        f"vague {w.number} : {w.responses:,}".replace(",", "\u202f") for w in ed.waves
    )
    names = "\n".join(f"  - {f.name}" for f in files)
    return f"""DONNÉES SYNTHÉTIQUES — CE NE SONT PAS LES RÉPONSES DU BAROMÈTRE
=================================================================

{DEMO_EDITION}, graine {seed}, générée par barometre-geo (format {_FORMAT}).

Ces fichiers imitent les exports bruts du Baromètre Collectivités & Numérique
({ed.title}) pour faire tourner les démonstrations hors ligne. Aucune ligne n'est
une réponse réelle : les collectivités existent (COG 2025) mais leurs réponses,
les répondants, leurs noms, courriels (@example.invalid) et téléphones (01 99…,
plage réservée à la fiction) sont inventés. Chaque ligne porte la colonne
« Données synthétiques = oui » et read_responses() renvoie synthetic=True.
Ne publiez aucun chiffre tiré de ces fichiers comme un résultat du baromètre.

Fichiers :
{names}
  (vague 1 : CSV « ; » UTF-8 ; vague 2 : CSV « ; » Windows-1252 réenregistré par
  Excel ; vague 3 : classeur .xlsx)

Calage : {waves} réponses acceptées, {ed.total_responses:,} collectivités distinctes ;
88 % de communes (60 % de moins de 1 000 habitants, 25 % de 1 000 à 5 000) ;
76 % d'agents, 24 % d'élus ; chaque chiffre national publié de la 1re édition
(catalogue des indicateurs, champ « published ») est reproduit exactement sur les
réponses acceptées, avec des écarts réalistes entre tailles de collectivités,
régions et territoires couverts par une structure de mutualisation (illustrative).

Défauts volontaires, pour le rapport d'ingestion : réponses partielles antérieures
remplacées par la réponse complète, lignes de test, une association (hors
champ), une commune introuvable, SIREN avec espaces ou SIRET, codes sans leur zéro initial, code
postal dans la colonne INSEE, identification par le seul nom, libellés de réponse
inconnus, un pourcentage de 140, virgules décimales, textes libres sur plusieurs
lignes, colonnes de données personnelles (supprimées à la lecture).

Lire :  import barometre_geo as bg
        r = bg.read_responses(sorted(Path(dossier).glob("demo-synthetique-vague-*")),
                              edition="{DEMO_EDITION}")
""".replace(f"{ed.total_responses:,}", f"{ed.total_responses:,}".replace(",", "\u202f"))


def write_demo_exports(
    out_dir, *, seed: int = DEMO_SEED, territories=None, catalogue=None, structures=None
) -> list[Path]:
    """Write the synthetic demo edition as raw export files.

    Parameters
    ----------
    out_dir : path-like
        Folder (created). Writes ``demo-synthetique-vague-1.csv`` (``;`` UTF-8),
        ``-vague-2.csv`` (``;`` Windows-1252, as re-saved by Excel),
        ``-vague-3.xlsx`` and ``LISEZMOI.txt``; other files are left alone.
    seed : int, default 2025
        Same seed, byte-identical files.
    territories, catalogue, structures : optional
        Reference (default the embedded COG 2025), indicator catalogue (default
        :func:`~barometre_geo.load_catalogue`) and the structures whose coverage
        raises participation (default :func:`~barometre_geo.load_demo_structures`).

    Returns
    -------
    list of Path
        The three wave files, in wave order.

    Raises
    ------
    UnknownValueError
        ``seed`` is not a whole number >= 0.
    InputFileError
        ``out_dir`` is an existing file.

    Examples
    --------
    >>> import tempfile, barometre_geo as bg
    >>> with tempfile.TemporaryDirectory() as d:
    ...     files = bg.write_demo_exports(d)
    ...     [f.name for f in files]  # doctest: +NORMALIZE_WHITESPACE
    ['demo-synthetique-vague-1.csv', 'demo-synthetique-vague-2.csv',
     'demo-synthetique-vague-3.xlsx']
    """
    from .write import write_table

    seed = _check_seed(seed)
    out = _check_folder(out_dir)
    territories, catalogue, structures = default_inputs(territories, catalogue, structures)
    tables, _ = _generate(seed, territories, catalogue, structures)
    out.mkdir(parents=True, exist_ok=True)
    files = demo_files(out)
    for path, wave in zip(files, (1, 2, 3), strict=True):
        headers, rows, fmt = tables[wave]
        write_table(path, headers, rows, fmt)
    (out / README).write_text(_readme(seed, files, catalogue), encoding="utf-8")
    return files


def _fingerprint(seed: int) -> str:
    from .._paths import package_data
    from .._version import __version__

    h = hashlib.sha256(f"{__version__}|{_FORMAT}|{seed}".encode())
    here = Path(__file__).resolve().parent
    for name in _SOURCES:
        h.update((here / name).read_bytes())
    for name in _DATA:
        h.update(package_data(name).read_bytes())
    return h.hexdigest()[:16]


def load_demo(*, seed: int = DEMO_SEED, cache_dir=None, territories=None):
    """Read the synthetic demo edition through the real reader (the default demo data).

    The export files are written once per seed and package version into the
    cache (``<cache>/demo/``; see :func:`barometre_geo._paths.cache_dir`) and read
    with :func:`~barometre_geo.read_responses`; the result is also kept in memory,
    so later calls are instant. Each call returns its own copy of ``data``.

    Parameters
    ----------
    seed : int, default 2025
    cache_dir : path-like, optional
        Cache folder (default: ``BAROMETRE_GEO_CACHE`` or the OS cache folder).
    territories : Territories, optional
        Reference (default: the embedded COG 2025).

    Returns
    -------
    Responses
        ``synthetic`` is True and ``edition`` is :data:`DEMO_EDITION`.

    Examples
    --------
    >>> import barometre_geo as bg
    >>> r = bg.load_demo()
    >>> r.synthetic, r.edition, r.data.groupby("wave").size().tolist()
    (True, 'Démo synthétique (calibrée sur la 1re édition)', [2174, 629, 587])
    """
    from .._paths import cache_dir as resolve_cache
    from ..survey.responses import read_responses

    seed = _check_seed(seed)
    key = (seed, os.fspath(resolve_cache(cache_dir)))
    if territories is not None or key not in _LOADED:
        folder = resolve_cache(cache_dir, create=True) / "demo" / f"seed{seed}-{_fingerprint(seed)}"
        files = demo_files(folder)
        if not all(f.is_file() for f in files):
            folder.parent.mkdir(parents=True, exist_ok=True)
            tmp = Path(tempfile.mkdtemp(prefix=".part-", dir=folder.parent))
            try:
                write_demo_exports(tmp, seed=seed, territories=territories)
                if folder.exists():  # written meanwhile by another process
                    shutil.rmtree(tmp)
                else:
                    os.replace(tmp, folder)
            finally:
                if tmp.exists():
                    shutil.rmtree(tmp, ignore_errors=True)
        r = read_responses(files, edition=DEMO_EDITION, territories=territories)
        if territories is not None:
            return r
        _LOADED[key] = r
    r = _LOADED[key]
    return dataclasses.replace(r, data=r.data.copy())
