"""NovelAI image metadata: where it is stored (PNG text, stealth alpha) and what it records."""
