"""nodes.runtime."""
