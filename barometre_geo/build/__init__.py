"""The main job: every map, GeoPackage, table and report of an edition, in one folder.

Takes
    Survey exports (default: the synthetic demo edition), a mapping file, a
    structures file, the territorial reference and the settings (``run.toml``).
Gives
    :class:`BuildResult` and the output folder (``maps/``), swapped in atomically.

Modules
-------
``settings``    :class:`BuildSettings`, ``run.toml``; ``job`` :func:`build`;
``indicator``   per-indicator pages, GeoPackages, static maps; ``extras`` the
                other outputs; ``text`` summaries; ``swap`` the staging folder

Data contract: ``docs/contracts/build.md``.
"""

from .job import BuildResult, OutputFile, build
from .settings import BuildSettings

__all__ = ["BuildResult", "BuildSettings", "OutputFile", "build"]
