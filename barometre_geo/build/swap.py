"""Atomic replacement of a build's output folder.

A build writes everything into a staging folder next to the target
(``.maps.tmp-XXXX`` for ``maps/``), then swaps it in: the old folder is
renamed aside (``.maps.old-XXXX``), the new one renamed to the target, the
old one deleted. An interrupted build therefore never leaves a half-written
map or GeoPackage in the target, and files that no longer belong to the run
disappear with the old folder.

A folder is replaced only if it looks like a previous build output (a
``manifest.json`` written by barometre-geo), is empty, or ``force`` is given;
never a folder holding the inputs or the current directory.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path

from ..errors import InputFileError

__all__ = ["GENERATOR", "check_target", "discard", "staging_folder", "swap_in"]

#: ``generator`` field of the manifest: marks a folder written by ``build``.
GENERATOR = "barometre-geo build"


def _is_previous_build(folder: Path) -> bool:
    manifest = folder / "manifest.json"
    if not manifest.is_file():
        return False
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return False
    return isinstance(data, dict) and data.get("generator") == GENERATOR


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def check_target(
    target: str | os.PathLike, *, force: bool, inputs: Iterable[str] = (), config=None
) -> Path:
    """Check that the output folder may be (re)placed; return its absolute path.

    ``config`` (the settings file, read before anything is written) may lie
    inside a previous build output: ``parametres.toml`` replays a run.

    Raises
    ------
    InputFileError
        The target is a file; it holds an input file, the current directory
        or the home folder (refused even with ``force``); or it is a folder
        that is neither empty nor a previous build output and ``force`` is
        not given.
    """
    target = Path(os.path.abspath(target))
    if target.exists() and not target.is_dir():
        raise InputFileError(
            f"{target} exists and is not a folder. Choose another output folder with --out."
        )
    if target.parent == target:
        raise InputFileError(f"Refusing to write the build into the root folder {target}.")
    protected = [Path.cwd(), Path.home()]
    for path in protected:
        if _inside(Path(os.path.abspath(path)), target):
            raise InputFileError(
                f"Refusing to replace {target}: it holds the current directory or your home "
                f"folder ({path}). Choose a dedicated output folder, e.g. --out maps."
            )
    inputs = list(inputs)
    if config is not None and not _is_previous_build(target):
        inputs.append(os.fspath(config))
    for item in inputs:
        if item and _inside(Path(os.path.abspath(item)), target):
            raise InputFileError(
                f"Refusing to replace {target}: it holds the input file {item}, which the "
                "swap would delete. Move the input out of it or choose another --out."
            )
    if not target.exists() or force or _is_previous_build(target):
        return target
    content = sorted(p.name for p in target.iterdir())
    if not content:
        return target
    shown = ", ".join(content[:5]) + (" …" if len(content) > 5 else "")
    raise InputFileError(
        f"{target} exists and does not look like a barometre-geo build output (no manifest.json "
        f"written by `barometre-geo build`); it holds {len(content)} item(s): {shown}. "
        "Nothing was deleted. Choose another folder with --out, empty it, or pass --force to "
        "replace it (its contents will be deleted)."
    )


def staging_folder(target: Path) -> Path:
    """Create the empty staging folder ``.<name>.tmp-XXXX`` next to ``target``."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp creates 0700: give the usual mode
    return tmp


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def discard(folder: Path) -> None:
    """Delete a staging folder (after an error); never raises."""
    shutil.rmtree(folder, ignore_errors=True)


def swap_in(staging: Path, target: Path) -> None:
    """Replace ``target`` by ``staging``: rename the old one aside, rename in, delete the old.

    If the second rename fails the old folder is renamed back.
    """
    if hasattr(os, "sync"):
        os.sync()  # files were written without fsync: flush them before they become visible
    if not target.exists():
        os.rename(staging, target)
        return
    old = target.with_name(f".{target.name}.old-{secrets.token_hex(4)}")
    os.rename(target, old)
    try:
        os.rename(staging, target)
    except BaseException:
        os.rename(old, target)
        raise
    shutil.rmtree(old, ignore_errors=True)
