"""novelai_core.cli."""
