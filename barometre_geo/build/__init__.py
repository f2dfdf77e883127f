"""The main job (``barometre-geo build``): every output of an edition in one folder.

Takes
    Settings (arguments, a ``run.toml``), the territorial reference, the survey
    exports (default: the synthetic demo edition), the structures file.
Gives
    :class:`BuildResult`: the output folder (maps, GeoPackages, tables,
    reports, ``manifest.json``) swapped in atomically.

Modules
-------
``job``        :func:`build`; ``settings`` settings and ``run.toml``;
``indicator``  per-indicator pages and GeoPackages; ``extras`` participation,
               coverage, ingest report, checksums; ``text`` summaries;
``swap``       the staging folder and its swap.

Data contract: ``docs/contracts/build.md``.
"""

from .job import BuildResult, OutputFile, build

__all__ = ["BuildResult", "OutputFile", "build"]
