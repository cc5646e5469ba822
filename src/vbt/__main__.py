"""``python -m vbt`` runs the command line."""

from vbt.cli import main

raise SystemExit(main())
