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
"""

from __future__ import annotations

import argparse
import importlib
import sys

__all__ = ["COMMANDS", "main"]

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
        "3 internal error (rerun with --debug), 130 interrupted.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--debug", action="store_true", help="show the full traceback on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module in COMMANDS:
        mod = importlib.import_module(module)
        p = mod.add_parser(sub)
        p.set_defaults(_run=mod.run, _name=name)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the CLI and return its exit code."""
    from ..errors import BarometreGeoError

    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "_run", None):
        if (argv is None and len(sys.argv) <= 1) or argv == []:
            parser.print_help()
            return EXIT_USAGE
        parser.print_help()
        return EXIT_USAGE
    try:
        return int(args._run(args) or 0)
    except KeyboardInterrupt:
        print("barometre-geo: interrompu.", file=sys.stderr)
        return EXIT_INTERRUPTED
    except (BarometreGeoError, OSError) as exc:
        if args.debug:
            raise
        print(f"barometre-geo {args._name}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as exc:  # a bug: one clear line, traceback on --debug
        if args.debug:
            raise
        print(
            f"barometre-geo {args._name}: internal error: {type(exc).__name__}: {exc}\n"
            "This is a bug. Rerun with --debug for the traceback and report it.",
            file=sys.stderr,
        )
        return EXIT_INTERNAL
