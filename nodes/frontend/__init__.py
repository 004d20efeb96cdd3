"""What the pack's frontend extension (``web/``) asks the server: ``handlers`` (pure: parsed input
in, status and JSON out) and ``routes`` (their aiohttp routes on ComfyUI's PromptServer)."""
