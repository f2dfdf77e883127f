"""The main job: every map, GeoPackage, table and report of an edition, in one folder.

Top of the pipeline with :mod:`barometre_geo.cli.main`: the only stages that may
import every other one.

Modules: ``job`` (:func:`build`, :class:`BuildResult`), ``settings`` (defaults
< ``run.toml`` < arguments), ``indicator`` (per-indicator pages, GeoPackage,
static maps, in worker processes), ``extras`` (participation, coverage, ingest
report, checksums), ``text`` (summary, LISEZMOI), ``swap`` (staging folder and
atomic replacement of the output).
Data contract: ``docs/contracts/build.md``.
"""

from .job import BuildResult, OutputFile, build

__all__ = ["BuildResult", "OutputFile", "build"]
