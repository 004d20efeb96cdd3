"""Real files made by NovelAI, its web app and its users, read from ``../shared/real-samples``
beside the clone (CI lays it there). They are not copied into this repository: they belong to
the projects named in that folder's SOURCES.md. Tests that read them are skipped without it;
the fixtures made here from the same conventions always run."""

from __future__ import annotations

from pathlib import Path

import pytest

REAL = Path(__file__).resolve().parents[2] / "shared" / "real-samples"

requires_real_samples = pytest.mark.skipif(
    not REAL.is_dir(), reason="../shared/real-samples is not beside the clone"
)
