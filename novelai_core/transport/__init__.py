"""novelai_core.transport."""
