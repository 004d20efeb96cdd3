"""Glue the node classes share (no node classes here): ComfyUI access, widget specs, tensors,
progress, the shared client and the paid-run flow."""
