"""``python -m barometre_geo`` runs the command-line interface."""

from .cli import main

raise SystemExit(main())
