"""``python -m barometre_geo`` runs the command-line interface."""

from .cli.main import main

raise SystemExit(main())
