"""Vibe transfer: encoding before a generation, the on-disk store, and the web app's vibe files."""
