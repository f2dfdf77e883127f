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
    "message",
]


class BarometreGeoError(Exception):
    """Base class of every error raised by barometre-geo.

    ``str(exc)`` is the English message (what Python code and notebooks see);
    ``fr`` is the same message in French where it exists: the command line
    prints it by default (see :func:`message`).

    Parameters
    ----------
    *args
        The English message, as for any exception.
    fr : str, optional
        The French message (file, line, value and what to do, as the English one).
    """

    def __init__(self, *args, fr: str | None = None):
        super().__init__(*args)
        self.fr = fr

    def __reduce__(self):  # keep the French text through pickling (worker processes)
        return (_rebuild, (type(self), self.args, self.fr))


def _rebuild(cls, args, fr):
    return cls(*args, fr=fr)


def message(exc: BaseException, lang: str = "fr") -> str:
    """Return the message of ``exc`` in ``lang`` (``"fr"`` or ``"en"``).

    The French text of a :class:`BarometreGeoError` when asked and given,
    else ``str(exc)``.

    Examples
    --------
    >>> e = InputFileError("v1.csv: file not found.", fr="v1.csv : fichier introuvable.")
    >>> message(e), message(e, "en")
    ('v1.csv : fichier introuvable.', 'v1.csv: file not found.')
    """
    fr = getattr(exc, "fr", None)
    if lang == "fr" and fr:
        return str(fr)
    return str(exc)


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
    """Base class of the warnings emitted by barometre-geo.

    Like the errors, a warning may carry its French text (``fr``), which the
    build's summary and manifest show.
    """

    def __init__(self, *args, fr: str | None = None):
        super().__init__(*args)
        self.fr = fr

    def __reduce__(self):
        return (_rebuild, (type(self), self.args, self.fr))


class DataQualityWarning(BarometreGeoWarning):
    """Input data were repaired or partially rejected; details are in a report."""
