"""The main job: every map, GeoPackage, table and report of an edition, in one folder.

Takes
    The settings of a run (:mod:`.settings`: arguments, a ``run.toml``,
    defaults): exports or the synthetic demo, mapping, structures file,
    territorial source, indicators, levels, thresholds, assets.
Gives
    :class:`BuildResult` and the output folder (``maps/`` by default), swapped
    in atomically: pages, GeoPackages, tables, reports, ``index.html``,
    ``LISEZMOI.txt``, ``parametres.toml``, ``manifest.json``.

Modules
-------
``settings``    settings merged and checked in one place; ``job`` :func:`build`;
``indicator``   per-indicator pages and GeoPackage (worker processes);
``extras``      participation, tables, ingest report, coverage outputs;
``text``        the French summary and ``LISEZMOI.txt``; ``swap`` staging folder

Data contract: ``docs/contracts/build.md``.
"""

from .job import BuildResult, OutputFile, build

__all__ = ["BuildResult", "OutputFile", "build"]
