"""The pure converter: user models → the exact request bodies NovelAI takes (no I/O)."""
