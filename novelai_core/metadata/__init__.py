"""novelai_core.metadata."""
