"""Command-line interface: ``barometre-geo`` (also ``python -m barometre_geo``).

Each command lives in its own ``_cmd_<name>.py`` module exposing
``add_parser(subparsers)`` and ``run(args) -> int``; this module only wires
them and turns errors into one clear message (a traceback only with ``--debug``).

Exit codes
----------
0  success
1  finished, but with problems the user must look at (see the command's help)
2  usage error or unusable input (bad file, unknown option value): nothing produced
3  unexpected internal error (a bug: rerun with --debug and report it)
130 interrupted (Ctrl-C)
143 stopped by SIGTERM (``timeout``, systemd, ``docker stop``): cleaned up as Ctrl-C

Language
--------
Error messages are in French by default, like every summary and report; in
English with ``--lang en`` or when the locale asks for it (the first set of
``LC_ALL``, ``LC_MESSAGES``, ``LANG`` starts with ``en``).
"""

from __future__ import annotations

import argparse
import errno
import importlib
import os
import signal
import sys

__all__ = ["COMMANDS", "Terminated", "language", "main"]

#: (command name, module implementing it), in the order shown by --help.
COMMANDS: list[tuple[str, str]] = [
    ("build", "barometre_geo.cli.build"),
    ("territories", "barometre_geo.cli.territories"),
    ("coverage", "barometre_geo.cli.coverage"),
    ("validate", "barometre_geo.cli.validate"),
    ("demo-data", "barometre_geo.cli.demo"),
    ("indicators", "barometre_geo.cli.indicators"),
    ("compare", "barometre_geo.cli.compare"),
]

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, EXIT_INTERNAL, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
EXIT_TERMINATED = 128 + signal.SIGTERM


class Terminated(KeyboardInterrupt):
    """SIGTERM received: unwinds like Ctrl-C, so that every cleanup of Ctrl-C runs."""


def language(choice: str | None = None) -> str:
    """Return ``"fr"`` or ``"en"``: ``choice``, else the locale, else French.

    Examples
    --------
    >>> language("en"), language("fr")
    ('en', 'fr')
    """
    if choice in ("fr", "en"):
        return choice
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(var, "")
        if value:
            return "en" if value.lower().startswith("en") else "fr"
    return "fr"


#: French wording of the system errors a user meets (errno -> what happened, what to do).
_OS_FR = {
    errno.EACCES: ("accès refusé", "vérifiez les droits du fichier ou du dossier"),
    errno.EPERM: ("opération non permise", "vérifiez les droits du fichier ou du dossier"),
    errno.EROFS: ("système de fichiers en lecture seule", "choisissez un autre dossier"),
    errno.ENOSPC: (
        "plus de place sur le disque",
        "libérez de la place, ou choisissez un autre dossier",
    ),
    errno.ENOENT: ("fichier ou dossier introuvable", "vérifiez le chemin"),
    errno.ENOTDIR: ("un élément du chemin n’est pas un dossier", "vérifiez le chemin"),
    errno.EISDIR: ("c’est un dossier", "donnez un fichier"),
    errno.EEXIST: ("existe déjà", "choisissez un autre nom"),
    errno.EDQUOT: ("quota disque dépassé", "libérez de la place"),
    errno.EMFILE: ("trop de fichiers ouverts", "relancez la commande"),
}


def _os_message(exc: OSError, lang: str) -> str:
    name = exc.filename if exc.filename is not None else ""
    if lang == "en":
        return f"{name}: {exc.strerror or exc}" if name else str(exc)
    what, fix = _OS_FR.get(exc.errno, (exc.strerror or str(exc), "vérifiez le fichier"))
    return f"{name} : {what} ({exc.strerror}) ; {fix}." if name else f"{what} ; {fix}."


def _on_sigterm(signum, frame):
    raise Terminated()


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser with every registered command."""
    from .._version import __version__

    parser = argparse.ArgumentParser(
        prog="barometre-geo",
        description=(
            "Géographie du Baromètre Collectivités & Numérique : référentiel territorial, "
            "indicateurs, couverture des OPSN et cartes."
        ),
        epilog="Exit codes: 0 ok, 1 finished with problems, 2 bad input or usage, "
        "3 internal error (rerun with --debug), 130 interrupted, 143 stopped (SIGTERM). "
        "Messages in French; in English with --lang en or LANG=en_….",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--debug", action="store_true", help="show the full traceback on errors")
    parser.add_argument(
        "--lang",
        choices=["fr", "en"],
        default=None,
        help="language of the messages (default: French; English when LANG=en…)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module in COMMANDS:
        mod = importlib.import_module(module)
        p = mod.add_parser(sub)
        p.set_defaults(_run=mod.run, _name=name)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the CLI and return its exit code.

    SIGTERM is handled like Ctrl-C while the command runs (the build deletes
    its staging folder and leaves the previous output intact), then exit 143.
    """
    from ..errors import BarometreGeoError, message

    parser = build_parser()
    args = parser.parse_args(argv)
    lang = language(args.lang)
    if not getattr(args, "_run", None):
        parser.print_help()
        return EXIT_USAGE
    name = args._name
    previous = None
    if hasattr(signal, "SIGTERM") and _main_thread():
        previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        return int(args._run(args) or 0)
    except KeyboardInterrupt as exc:  # Ctrl-C, or SIGTERM (Terminated)
        print(_stopped(name, exc, lang), file=sys.stderr)
        return EXIT_TERMINATED if isinstance(exc, Terminated) else EXIT_INTERRUPTED
    except BarometreGeoError as exc:
        if args.debug:
            raise
        sep = ":" if lang == "en" else " :"
        print(
            f"barometre-geo {name}{sep} {_error_word(lang)}{sep} {message(exc, lang)}",
            file=sys.stderr,
        )
        return EXIT_USAGE
    except OSError as exc:
        if args.debug:
            raise
        sep = ":" if lang == "en" else " :"
        print(
            f"barometre-geo {name}{sep} {_error_word(lang)}{sep} {_os_message(exc, lang)}",
            file=sys.stderr,
        )
        return EXIT_USAGE
    except Exception as exc:  # a bug: one clear line, traceback on --debug
        if args.debug:
            raise
        if lang == "en":
            text = (
                f"barometre-geo {name}: internal error: {type(exc).__name__}: {exc}\n"
                "This is a bug. Rerun with --debug for the traceback and report it."
            )
        else:
            text = (
                f"barometre-geo {name} : erreur interne : {type(exc).__name__} : {exc}\n"
                "C’est un bogue : relancez avec --debug pour voir la trace complète, et "
                "signalez-le."
            )
        print(text, file=sys.stderr)
        return EXIT_INTERNAL
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _stopped(name: str, exc: KeyboardInterrupt, lang: str) -> str:
    """Return what an interrupted command says: what stopped it, what was left in place."""
    term = isinstance(exc, Terminated)
    done = getattr(exc, "completed", False)  # the build's swap had just finished
    if lang == "en":
        what = "stopped (SIGTERM)" if term else "interrupted"
        left = "the new output was already in place" if done else "nothing was replaced"
        return f"barometre-geo {name}: {what}; {left}."
    what = "arrêté (SIGTERM)" if term else "interrompu"
    left = "la nouvelle sortie était déjà en place" if done else "rien n’a été remplacé"
    return f"barometre-geo {name} : {what} ; {left}."


def _error_word(lang: str) -> str:
    return "error" if lang == "en" else "erreur"


def _main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()
