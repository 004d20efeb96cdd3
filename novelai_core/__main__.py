"""``python -m novelai_core``: the command line (see cli.py)."""

from __future__ import annotations

from .cli.parser import main

raise SystemExit(main())
