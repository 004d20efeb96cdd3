"""Registers the frontend's routes on ComfyUI's PromptServer (only inside a running ComfyUI).

Thin aiohttp wrappers around ``handlers``: blocking work (a free account lookup, a tag
request, reading an image) runs in a worker thread so ComfyUI's event loop never waits on it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

from . import handlers

if TYPE_CHECKING:  # aiohttp comes with ComfyUI; it is imported only when the routes are added
    from aiohttp import web

_log = logging.getLogger(__name__)
PREFIX: Final = "/novelai"
_registered: list[Any] = []


def _client() -> Any:
    from ..runtime.session import get_client

    return get_client()


def _reply(answer: handlers.Answer) -> web.Response:
    from aiohttp import web

    status, body = answer
    return web.json_response(body, status=status)


async def _json(request: web.Request) -> Any:
    try:
        return await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError, ValueError):
        return None


async def _in_thread(handler: Callable[..., handlers.Answer], *args: Any) -> web.Response:
    try:
        return _reply(await asyncio.to_thread(handler, *args))
    except Exception as exc:  # an answer, never a traceback page; the log names the cause
        _log.warning("NovelAI route %s failed: %s", handler.__name__, type(exc).__name__)
        return _reply(handlers.error(500, f"internal error: {type(exc).__name__}"))


def add_routes(routes: web.RouteTableDef) -> None:
    """Add the routes to an aiohttp RouteTableDef (ComfyUI's ``PromptServer.instance.routes``)."""

    @routes.get(f"{PREFIX}/capabilities")
    async def capabilities(_request: web.Request) -> web.Response:
        return _reply(handlers.capabilities())

    @routes.post(f"{PREFIX}/estimate")
    async def estimate(request: web.Request) -> web.Response:
        return await _in_thread(handlers.estimate, await _json(request), _client)

    @routes.post(f"{PREFIX}/image-graph")
    async def image_graph(request: web.Request) -> web.Response:
        if (request.content_length or 0) > handlers.MAX_IMAGE_BYTES:
            return _reply(handlers.error(413, "the image is too large"))
        return await _in_thread(handlers.image_graph, await request.read())

    @routes.get(f"{PREFIX}/suggest-tags")
    async def suggest_tags(request: web.Request) -> web.Response:
        return await _in_thread(handlers.suggest_tags, dict(request.query), _client)


def register() -> bool:
    """Add the routes to ComfyUI's running PromptServer, once; False outside ComfyUI.

    Never imports ``server``: it is looked up only when ComfyUI has already loaded it.
    """
    if _registered:
        return True
    server = sys.modules.get("server")
    instance = getattr(getattr(server, "PromptServer", None), "instance", None)
    routes = getattr(instance, "routes", None)
    if routes is None:
        return False
    try:
        add_routes(routes)
    except Exception as exc:  # an old or odd server: the nodes work without the extension
        _log.warning("NovelAI nodes: frontend routes not registered (%s)", exc)
        return False
    _registered.append(routes)
    return True
