"""ComfyUI glue: widgets, sockets, tensors <-> PIL, progress and interrupt. Nodes land here."""
