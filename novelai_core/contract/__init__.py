"""novelai_core.contract."""
