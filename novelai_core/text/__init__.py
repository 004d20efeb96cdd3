"""Text generation on NovelAI's text host (``/oa/v1``): the model table, the SSE text stream
reader and ``TextClient`` (``client.text`` on NovelAIClient). Facts: shared/novelai-text-api.md."""
