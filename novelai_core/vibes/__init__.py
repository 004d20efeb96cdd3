"""novelai_core.vibes."""
