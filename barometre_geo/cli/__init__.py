"""Command line: ``barometre-geo COMMAND`` (also ``python -m barometre_geo``).

``main`` parses the command and dispatches to one module per command
(``build``, ``validate``, ``indicators``, ``coverage``, ``compare``,
``demo``, ``territories``), each with ``add_parser`` and ``run``. To add a
command: a module here and a line in ``main.COMMANDS``.
"""

from .main import COMMANDS, main

__all__ = ["COMMANDS", "main"]
