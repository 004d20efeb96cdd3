"""novelai_core.converter."""
