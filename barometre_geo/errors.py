"""Errors and warnings raised by barometre-geo.

Every error derives from :class:`BarometreGeoError` and from the matching
built-in exception, so ``except ValueError`` keeps working for callers who do
not know this library (the pattern of shapely's ``errors.py`` and pyproj's
``CRSError``). Messages say what failed, why, and how to fix it.
"""

from __future__ import annotations

__all__ = [
    "BarometreGeoError",
    "BarometreGeoWarning",
    "DataQualityWarning",
    "DownloadError",
    "InputFileError",
    "OfflineError",
    "SchemaError",
    "SourceError",
    "UnknownValueError",
]


class BarometreGeoError(Exception):
    """Base class of every error raised by barometre-geo."""


class SchemaError(BarometreGeoError, ValueError):
    """A table, layer or file lacks a required column, layer or field."""


class UnknownValueError(BarometreGeoError, ValueError):
    """A parameter got a value outside its fixed list of choices.

    The message lists the valid values.
    """


class SourceError(BarometreGeoError, ValueError):
    """A territorial source (ADMIN EXPRESS, embedded reference) is unusable."""


class InputFileError(BarometreGeoError, ValueError):
    """An input file cannot be read: missing, unreadable, unknown encoding.

    The message names the file and, where known, the line, column and value.
    """


class DownloadError(BarometreGeoError, OSError):
    """A pinned download failed or its checksum did not match."""


class OfflineError(DownloadError):
    """A download was needed but the network is unreachable and nothing is cached."""


class BarometreGeoWarning(UserWarning):
    """Base class of the warnings emitted by barometre-geo."""


class DataQualityWarning(BarometreGeoWarning):
    """Input data were repaired or partially rejected; details are in a report."""
