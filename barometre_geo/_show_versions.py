"""Report the versions of barometre-geo, its dependencies and GDAL/GEOS/PROJ."""

from __future__ import annotations

import importlib.metadata
import platform
import sys

__all__ = ["show_versions"]

_PACKAGES = (
    "numpy",
    "pandas",
    "pyarrow",
    "shapely",
    "geopandas",
    "pyogrio",
    "pyproj",
    "folium",
    "mapclassify",
    "xyzservices",
    "contextily",
    "matplotlib",
    "esda",
    "libpysal",
    "openpyxl",
    "pyyaml",
    "platformdirs",
    "playwright",
)


def _portable(path: str) -> str:
    """``path`` with the installation prefix written ``<prefix>`` (no folder of the machine)."""
    import os

    for prefix in (sys.prefix, sys.base_prefix):
        if path == prefix or path.startswith(prefix + os.sep):
            return "<prefix>" + path[len(prefix) :].replace(os.sep, "/")
    return os.path.basename(path)


def _versions(portable: bool = False) -> dict[str, dict[str, str | None]]:
    from ._version import __version__

    system = {
        "python": sys.version.replace("\n", " "),
        "executable": _portable(sys.executable) if portable else sys.executable,
        "machine": platform.platform(),
    }
    libs: dict[str, str | None] = {}
    try:
        import shapely

        libs["GEOS"] = shapely.geos_version_string
    except ImportError:  # pragma: no cover
        libs["GEOS"] = None
    try:
        import pyproj

        libs["PROJ"] = pyproj.proj_version_str
        datadir = pyproj.datadir.get_data_dir()
        libs["PROJ data dir"] = _portable(datadir) if portable else datadir
    except ImportError:  # pragma: no cover
        libs["PROJ"] = None
    try:
        import pyogrio

        libs["GDAL"] = pyogrio.__gdal_version_string__
    except ImportError:  # pragma: no cover
        libs["GDAL"] = None
    deps: dict[str, str | None] = {"barometre-geo": __version__}
    for name in _PACKAGES:
        try:
            deps[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            deps[name] = None
    return {"system": system, "libraries": libs, "packages": deps}


def show_versions(*, as_dict: bool = False, portable: bool = False):
    """Print (or return) versions useful in a bug report.

    Parameters
    ----------
    as_dict : bool, default False
        Return the information as a dict instead of printing it.
    portable : bool, default False
        Write the paths (Python executable, PROJ data) relative to the
        installation prefix (``<prefix>/bin/python3``), as the build's manifest
        does: no folder of the machine in a published file.

    Examples
    --------
    >>> import barometre_geo as bg
    >>> info = bg.show_versions(as_dict=True)
    >>> sorted(info)
    ['libraries', 'packages', 'system']
    >>> bg.show_versions(as_dict=True, portable=True)["system"]["executable"].startswith("<")
    True
    """
    info = _versions(portable)
    if as_dict:
        return info
    for section, values in info.items():
        print(f"\n{section.upper()}\n{'-' * len(section)}")
        for key, value in values.items():
            print(f"{key:>16}: {value if value is not None else 'not installed'}")
    return None
