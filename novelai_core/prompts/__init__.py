"""novelai_core.prompts."""
