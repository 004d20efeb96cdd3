"""``python -m novelai_core``: the command line (see cli/)."""

from __future__ import annotations

from .cli import main

raise SystemExit(main())
