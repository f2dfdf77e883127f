"""The output folder is the user's: what a rebuild may replace, and how it swaps it in.

A build writes everything into a staging folder next to the target
(``.maps.tmp-XXXX`` for ``maps/``), then swaps it in: the files of the
folder that are not the previous build's (notes, images, a database the
user put there) are moved into the staging folder, the old folder is renamed
aside (``.maps.old-XXXX``), the new one renamed in, the old one deleted. An
interrupted build therefore never leaves a half-written map in the target,
the previous build's files that no longer belong to the run disappear, and
**nothing else is ever deleted**.

What counts as a previous build
-------------------------------
A folder is a previous build only if its ``manifest.json`` is one the build
itself could have written: ``generator`` ``"barometre-geo build"``, a
version, and a ``files`` list of relative paths with their size and sha256,
**every listed file present matching its checksum**. Only those files are
replaced or removed. Any other file of the folder is kept and the summary
says so. A listed file modified since (checksum differs) makes the folder not
a previous build any more: the build refuses it without ``--force`` (which
keeps the modified file unless the new build writes a file of the same path).
A folder that is neither empty nor a previous build is refused without
``--force``; with it, the build writes its files into it and keeps the others.
A file of the user's whose path the new build writes (``index.html``…)
makes the swap refuse without ``--force``: nothing is lost.

Staging folders and stale ones
------------------------------
The staging folder holds a lock file (``.barometre-geo-staging``, locked with
``flock`` while the build runs, deleted just before the swap). Before
working, a build removes (and reports) the staging folders of earlier builds
that died without cleaning up: locked ones belong to a build still running
(the new build refuses to run alongside it), unlocked ones are stale. A stale
staging folder that already holds its manifest may hold files of the user's
being moved: those are moved back. A ``.maps.old-XXXX`` folder without its
``maps/`` (a build killed between two renames) is renamed back first.

The swap itself runs with SIGINT and SIGTERM held back (a few milliseconds).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputFileError

__all__ = [
    "GENERATOR",
    "LOCK",
    "Staging",
    "Target",
    "check_target",
    "discard",
    "held_signals",
    "read_manifest",
    "staging_folder",
    "swap_in",
]

#: ``generator`` field of the manifest: marks a folder written by ``build``.
GENERATOR = "barometre-geo build"
#: Lock file of a staging folder (removed before the swap).
LOCK = ".barometre-geo-staging"
#: A staging folder without lock file younger than this may be a build about to swap.
_UNLOCKED_GRACE_S = 600
_SHA256 = re.compile(r"[0-9a-f]{64}")


# ------------------------------------------------------------------ manifest


def _safe_relative(path) -> bool:
    if not isinstance(path, str) or not path or "\\" in path or path.startswith("/"):
        return False
    parts = path.split("/")
    return all(p not in ("", ".", "..") for p in parts) and not re.match(r"^[A-Za-z]:", path)


def read_manifest(folder: Path) -> dict | None:
    """Return the manifest of ``folder`` if the build could have written it, else None.

    It must be JSON with ``generator`` = :data:`GENERATOR`, a
    ``barometre_geo_version`` and a non-empty ``files`` list whose entries
    have a relative ``path`` inside the folder, an integer ``size`` and a
    hexadecimal ``sha256``. The checksums themselves are checked by
    :func:`check_target`.
    """
    manifest = folder / "manifest.json"
    if not manifest.is_file():
        return None
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    if not isinstance(data, dict) or data.get("generator") != GENERATOR:
        return None
    if not isinstance(data.get("barometre_geo_version"), str):
        return None
    files = data.get("files")
    if not isinstance(files, list) or not files:
        return None
    for entry in files:
        if not (
            isinstance(entry, dict)
            and _safe_relative(entry.get("path"))
            and isinstance(entry.get("size"), int)
            and isinstance(entry.get("sha256"), str)
            and _SHA256.fullmatch(entry["sha256"])
        ):
            return None
    return data


def _sha256(path: Path) -> str:
    from .extras import sha256_file

    return sha256_file(path)


# ------------------------------------------------------------------- target


@dataclass(frozen=True)
class Target:
    """The output folder and what is in it before the build.

    Attributes
    ----------
    path : pathlib.Path
        Absolute path of the output folder.
    state : {"absent", "empty", "build", "foreign"}
        Nothing there; an empty folder; a previous build (valid manifest,
        checksums matching); anything else (replaced only with ``force``).
    listed : dict
        Files of the previous build (relative POSIX paths → size and
        modification time when checked), ``manifest.json`` included: the only
        ones the build removes (unless changed again before the swap).
    kept : tuple of str
        Other files (the user's): kept through the rebuild.
    modified : tuple of str
        Files of the previous manifest changed since (kept as the user's).
    force : bool
    cleaned : tuple of str
        French lines on what was tidied before the work (stale staging folders).
    """

    path: Path
    state: str
    listed: dict = field(default_factory=dict)
    kept: tuple[str, ...] = ()
    modified: tuple[str, ...] = ()
    force: bool = False
    cleaned: tuple[str, ...] = ()


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _entries(folder: Path) -> list[str]:
    """Files, symbolic links and empty folders under ``folder`` (relative POSIX paths)."""
    out = []
    for root, dirs, files in os.walk(folder):
        here = Path(root)
        for name in files:
            out.append((here / name).relative_to(folder).as_posix())
        for name in list(dirs):
            p = here / name
            if p.is_symlink():
                out.append(p.relative_to(folder).as_posix())
                dirs.remove(name)
            elif not any(p.iterdir()):
                out.append(p.relative_to(folder).as_posix() + "/")
    return sorted(out)


def _stamp(path: Path) -> tuple[int, int]:
    st = path.stat()
    return st.st_size, st.st_mtime_ns


def _inventory(folder: Path) -> tuple[str, dict, tuple, tuple]:
    """Return (state, listed files -> (size, mtime), other entries, modified listed files)."""
    if not folder.exists():
        return "absent", {}, (), ()
    entries = _entries(folder)
    if not entries:
        return "empty", {}, (), ()
    manifest = read_manifest(folder)
    if manifest is None:
        return "foreign", {}, tuple(entries), ()
    listed, modified = {"manifest.json": _stamp(folder / "manifest.json")}, []
    for entry in manifest["files"]:
        path = folder / entry["path"]
        if path.is_symlink() or not path.exists():
            continue
        if not path.is_file():
            modified.append(entry["path"])
            continue
        if path.stat().st_size != entry["size"] or _sha256(path) != entry["sha256"]:
            modified.append(entry["path"])
            continue
        listed[entry["path"]] = _stamp(path)
    others = tuple(e for e in entries if e not in listed and e not in modified)
    state = "foreign" if modified else "build"
    return state, listed, others, tuple(modified)


def _shown(names: Iterable[str], n: int = 5) -> str:
    names = list(names)
    return ", ".join(names[:n]) + (" …" if len(names) > n else "")


def check_target(
    target: str | os.PathLike, *, force: bool, inputs: Iterable[str] = (), config=None
) -> Target:
    """Check that the output folder may be (re)placed, before any work; tidy stale staging.

    ``config`` (the settings file, read before anything is written) may lie
    inside a previous build output: ``parametres.toml`` replays a run.

    Raises
    ------
    InputFileError
        The target is a file; it holds an input file, the current directory
        or the home folder (refused even with ``force``); it is neither
        empty nor a previous build and ``force`` is not given; its parent
        folder cannot be written; another build is writing into it.
    """
    path = Path(os.path.abspath(target))
    if path.exists() and not path.is_dir():
        raise InputFileError(
            f"{path} exists and is not a folder. Choose another output folder with --out.",
            fr=f"{path} existe et n’est pas un dossier. Choisissez un autre dossier de sortie "
            "avec --out.",
        )
    if path.parent == path:
        raise InputFileError(
            f"Refusing to write the build into the root folder {path}.",
            fr=f"Refus d’écrire la construction dans la racine {path}.",
        )
    for protected in (Path.cwd(), Path.home()):
        if _inside(Path(os.path.abspath(protected)), path):
            raise InputFileError(
                f"Refusing to replace {path}: it holds the current directory or your home "
                f"folder ({protected}). Choose a dedicated output folder, e.g. --out maps.",
                fr=f"Refus de remplacer {path} : il contient le dossier courant ou votre dossier "
                f"personnel ({protected}). Choisissez un dossier de sortie dédié, par exemple "
                "--out maps.",
            )
    inputs = list(inputs)
    if config is not None and read_manifest(path) is None:
        inputs.append(os.fspath(config))
    for item in inputs:
        if item and _inside(Path(os.path.abspath(item)), path):
            raise InputFileError(
                f"Refusing to replace {path}: it holds the input file {item}, which the "
                "swap would delete. Move the input out of it or choose another --out.",
                fr=f"Refus de remplacer {path} : il contient le fichier d’entrée {item}. "
                "Déplacez ce fichier hors du dossier, ou choisissez un autre --out.",
            )
    _check_writable(path)
    with held_signals():
        cleaned = _tidy(path)
    state, listed, others, modified = _inventory(path)
    if state == "foreign" and not force:
        if modified:
            raise InputFileError(
                f"{path}: file(s) of the previous build were modified since "
                f"({_shown(modified)}): the folder is no longer a build output as it was "
                "written. Nothing was deleted. Move the files you changed elsewhere, or pass "
                "--force (every file you added or changed is kept, unless the build writes a "
                "file of the same name).",
                fr=f"{path} : des fichiers de la construction précédente ont été modifiés depuis "
                f"({_shown(modified)}) : le dossier n’est plus tel que la construction l’a "
                "écrit. Rien n’a été supprimé. Déplacez ailleurs les fichiers modifiés, ou "
                "ajoutez --force (les fichiers ajoutés ou modifiés sont gardés, sauf si la "
                "construction écrit un fichier du même nom).",
            )
        raise InputFileError(
            f"{path} exists and does not look like a barometre-geo build output (no "
            f"manifest.json written by `barometre-geo build` with matching checksums); it "
            f"holds {len(others)} item(s): {_shown(others)}. Nothing was deleted. Choose "
            "another folder with --out, or pass --force to write the build into it (its "
            "files are kept, unless the build writes a file of the same name).",
            fr=f"{path} existe et ne ressemble pas à une sortie de barometre-geo (pas de "
            "manifest.json écrit par `barometre-geo build` aux sommes de contrôle exactes) ; "
            f"il contient {len(others)} élément(s) : {_shown(others)}. Rien n’a été supprimé. "
            "Choisissez un autre dossier avec --out, ou ajoutez --force pour y écrire la "
            "construction (ses fichiers sont gardés, sauf si la construction écrit un "
            "fichier du même nom).",
        )
    return Target(
        path=path,
        state=state,
        listed=dict(listed),
        kept=tuple(others),
        modified=modified,
        force=bool(force),
        cleaned=tuple(cleaned),
    )


def _check_writable(path: Path) -> None:
    """Create and delete a probe file where the build writes: the parent, and the target."""
    folder = path.parent
    while not folder.exists() and folder.parent != folder:
        folder = folder.parent
    for where in [folder, path] if path.exists() else [folder]:
        try:
            fd, probe = tempfile.mkstemp(prefix=".barometre-geo-probe-", dir=where)
            os.close(fd)
            os.unlink(probe)
        except OSError as exc:
            raise InputFileError(
                f"{path}: cannot write in {where} ({exc.strerror}). Nothing was done. Check "
                "the folder's permissions, or choose another output folder with --out.",
                fr=f"{path} : impossible d’écrire dans {where} ({exc.strerror}). Rien n’a été "
                "fait. Vérifiez les droits du dossier, ou choisissez un autre dossier de sortie "
                "avec --out.",
            ) from None


# ----------------------------------------------------------- staging folders


@dataclass
class Staging:
    """A staging folder being written, and the lock that says a build owns it."""

    path: Path
    lock_fd: int | None = None
    swapped: bool = field(default=False)

    def release(self) -> None:
        """Close the lock (after the swap or the discard)."""
        if self.lock_fd is not None:
            try:
                os.close(self.lock_fd)
            except OSError:
                pass
            self.lock_fd = None


def staging_folder(target: Target | Path) -> Staging:
    """Create the empty staging folder ``.<name>.tmp-XXXX`` next to the target, locked."""
    path = target.path if isinstance(target, Target) else Path(target)
    path.parent.mkdir(parents=True, exist_ok=True)
    with held_signals():  # never a staging folder without its lock
        tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.tmp-", dir=path.parent))
        os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp creates 0700: give the usual mode
        fd = os.open(tmp / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
        _lock(fd, blocking=True)
        os.write(fd, f"{os.getpid()}\n".encode())
        return Staging(tmp, fd)


def _lock(fd: int, *, blocking: bool) -> bool:
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: no lock, stale folders age out
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        return True
    except OSError:
        return False


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def discard(staging: Staging | Path) -> None:
    """Delete a staging folder (after an error); never raises."""
    if isinstance(staging, Staging):
        shutil.rmtree(staging.path, ignore_errors=True)
        staging.release()
    else:
        shutil.rmtree(staging, ignore_errors=True)


def _tidy(path: Path) -> list[str]:
    """Remove stale staging folders, restore a target lost between two renames (French report).

    Staging folders are looked at first: a locked one is a live build (refused);
    an unlocked young one may be a build in the middle of its swap, so the
    ``.old-`` folders are then left alone too.
    """
    parent, name = path.parent, path.name
    if not parent.is_dir():
        return []
    report, busy = [], False
    for tmp in sorted(parent.glob(f".{name}.tmp-*")):
        if not tmp.is_dir():
            continue
        state = _staging_state(tmp)
        if state == "running":
            raise InputFileError(
                f"Another build is writing into {path} (staging folder {tmp.name}). Wait for it "
                "to finish, or choose another --out.",
                fr=f"Une autre construction écrit déjà dans {path} (dossier temporaire "
                f"{tmp.name}). Attendez qu’elle se termine, ou choisissez un autre --out.",
            )
        if state == "recent":
            busy = True
            report.append(f"dossier temporaire récent {tmp.name} laissé en place")
            continue
        report.append(_remove_stale(tmp, path))
    olds = sorted(parent.glob(f".{name}.old-*"), key=lambda p: p.stat().st_mtime)
    if busy or not olds:
        return report
    if not path.exists():
        os.rename(olds[-1], path)
        report.append(
            f"dossier {name}/ restauré depuis {olds[-1].name} (construction interrompue "
            "pendant le remplacement)"
        )
        olds = olds[:-1]
    for old in olds:  # a previous build's files, the user's were moved out before
        shutil.rmtree(old, ignore_errors=True)
        report.append(f"dossier {old.name} d’une construction interrompue supprimé")
    return report


def _staging_state(tmp: Path) -> str:
    """Return ``running`` (locked by a live build), ``stale`` or ``recent`` (< 10 min)."""
    lock = tmp / LOCK
    if lock.is_file():
        fd = os.open(lock, os.O_RDWR)
        try:
            return "stale" if _lock(fd, blocking=False) else "running"
        finally:
            os.close(fd)
    age = time.time() - tmp.stat().st_mtime
    return "stale" if age > _UNLOCKED_GRACE_S else "recent"


def _remove_stale(tmp: Path, target: Path) -> str:
    """Remove a stale staging folder; files of the user's caught in it go back to the target."""
    manifest = read_manifest(tmp)
    if manifest is None:  # died before the user's files were moved in: all the build's
        shutil.rmtree(tmp, ignore_errors=True)
        return f"dossier temporaire {tmp.name} d’une construction interrompue supprimé"
    listed = {e["path"] for e in manifest["files"]} | {"manifest.json", LOCK}
    back, left = [], []
    for entry in _entries(tmp):
        if entry.rstrip("/") in listed:
            continue
        dest = target / entry
        if target.is_dir() and not dest.exists() and not dest.is_symlink():
            dest.parent.mkdir(parents=True, exist_ok=True)
            os.rename(tmp / entry.rstrip("/"), dest)
            back.append(entry)
        else:
            left.append(entry)
    if left:
        return (
            f"dossier temporaire {tmp.name} d’une construction interrompue gardé : il contient "
            f"{len(left)} fichier(s) qui ne sont pas de la construction ({_shown(left)}) ; "
            "récupérez-les puis supprimez-le"
        )
    shutil.rmtree(tmp, ignore_errors=True)
    return f"dossier temporaire {tmp.name} d’une construction interrompue supprimé" + (
        f" ({len(back)} fichier(s) remis dans {target.name}/ : {_shown(back)})" if back else ""
    )


# --------------------------------------------------------------------- swap


@dataclass(frozen=True)
class Swapped:
    """What the swap did with the files that were not the previous build's."""

    kept: tuple[str, ...] = ()
    replaced: tuple[str, ...] = ()


def swap_in(staging: Staging, target: Target) -> Swapped:
    """Put the staging folder in place of the target, keeping the user's files.

    The user's files are those of the target that its previous manifest does
    not list (looked at again now: files added during the build count). One
    whose path the new build writes is replaced only with ``force``; without
    it the swap raises and nothing changes.

    Raises
    ------
    InputFileError
        A file of the user's sits where the build writes, without ``force``.
    """
    path = target.path
    if hasattr(os, "sync"):
        os.sync()  # files were written without fsync: flush them before they become visible
    held = _hold_signals()
    moved: list[str] = []
    try:
        (staging.path / LOCK).unlink(missing_ok=True)
        if not path.exists():
            os.rename(staging.path, path)
            staging.swapped = True
            return Swapped()
        # the previous build's files, unless changed since they were checked
        ours = {f for f, stamp in target.listed.items() if _same(path / f, stamp)}
        users = [e for e in _entries(path) if e not in ours]
        clash = [e for e in users if (staging.path / e.rstrip("/")).exists()]
        if clash and not target.force:
            raise InputFileError(
                f"{path}: the build writes {_shown(clash)}, which the previous build did not "
                "write (a file of yours, or one changed since). Nothing was replaced. Move or "
                "rename it, or pass --force to let the build replace it.",
                fr=f"{path} : la construction écrit {_shown(clash)}, que la construction "
                "précédente n’avait pas écrit (un fichier à vous, ou modifié depuis). Rien n’a "
                "été remplacé. Déplacez-le ou renommez-le, ou ajoutez --force pour que la "
                "construction le remplace.",
            )
        for entry in users:
            if entry in clash:
                continue
            src, dst = path / entry.rstrip("/"), staging.path / entry.rstrip("/")
            dst.parent.mkdir(parents=True, exist_ok=True)
            os.rename(src, dst)
            moved.append(entry)
        old = path.with_name(f".{path.name}.old-{secrets.token_hex(4)}")
        os.rename(path, old)
        try:
            os.rename(staging.path, path)
        except BaseException:
            os.rename(old, path)
            raise
        staging.swapped = True
        shutil.rmtree(old, ignore_errors=True)
        return Swapped(kept=tuple(moved), replaced=tuple(clash))
    except BaseException:
        if not staging.swapped:  # put the user's files back where they were
            for entry in reversed(moved):
                src, dst = staging.path / entry.rstrip("/"), path / entry.rstrip("/")
                if src.exists() or src.is_symlink():
                    dst.parent.mkdir(parents=True, exist_ok=True)
                    os.rename(src, dst)
        raise
    finally:
        staging.release()
        try:
            _release_signals(held)
        except KeyboardInterrupt as exc:  # a signal held back: the swap is done, or not
            exc.completed = staging.swapped
            raise


def _same(path: Path, stamp: tuple[int, int]) -> bool:
    try:
        return not path.is_symlink() and _stamp(path) == tuple(stamp)
    except OSError:
        return False


def _hold_signals():
    """Hold SIGINT and SIGTERM back (delivered when released); return the previous mask."""
    if not hasattr(signal, "pthread_sigmask"):  # pragma: no cover - Windows
        return None
    import threading

    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})


def _release_signals(held) -> None:
    if held is not None:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)


@contextlib.contextmanager
def held_signals():
    """Run a block that Ctrl-C or SIGTERM must not cut in the middle.

    Python raises ``KeyboardInterrupt`` (and the CLI's ``Terminated``) at any
    point of the code running when the signal comes, including inside
    libraries that do not expect it (a process pool half started cannot be
    shut down). The signals are held back during the block and delivered
    right after it, where the build's cleanup handles them.
    """
    held = _hold_signals()
    try:
        yield
    finally:
        _release_signals(held)
