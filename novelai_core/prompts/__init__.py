"""Prompt text tools: weight syntax conversion and token counts."""
