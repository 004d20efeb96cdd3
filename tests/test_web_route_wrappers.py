"""The aiohttp wrappers of the frontend routes, served by aiohttp as ComfyUI's PromptServer serves
them: JSON answers with a status, never a traceback page, and no route reads a URL or path given."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

aiohttp = pytest.importorskip("aiohttp")
from aiohttp import web  # noqa: E402
from aiohttp.test_utils import TestClient, TestServer  # noqa: E402

from tests.comfy_harness import pack_module  # noqa: E402

wrappers = pack_module("nodes.frontend.routes")


def _serve(check: Callable[[TestClient[Any, Any]], Awaitable[None]]) -> None:
    async def run() -> None:
        routes = web.RouteTableDef()
        wrappers.add_routes(routes)
        app = web.Application()
        app.add_routes(routes)
        async with TestClient(TestServer(app)) as client:
            await check(client)

    asyncio.run(run())


def test_the_capabilities_route_answers_json_for_every_model() -> None:
    async def check(client: TestClient[Any, Any]) -> None:
        answer = await client.get("/novelai/capabilities")
        assert answer.status == 200
        body = await answer.json()
        assert "nai-diffusion-4-5-full" in str(body)

    _serve(check)


def test_an_estimate_of_a_body_that_is_not_json_is_a_400_json_answer(sim: Any) -> None:
    async def check(client: TestClient[Any, Any]) -> None:
        answer = await client.post("/novelai/estimate", data=b"{not json")
        assert answer.status == 400
        assert answer.content_type == "application/json"
        assert "error" in await answer.json()

    _serve(check)


def test_a_dropped_file_that_is_not_an_image_is_refused_as_json(sim: Any) -> None:
    async def check(client: TestClient[Any, Any]) -> None:
        answer = await client.post("/novelai/image-graph", data=b"/etc/passwd")
        assert 400 <= answer.status < 500
        assert answer.content_type == "application/json"

    _serve(check)


def test_tag_suggestions_without_a_prompt_are_a_400_json_answer(sim: Any) -> None:
    async def check(client: TestClient[Any, Any]) -> None:
        answer = await client.get("/novelai/suggest-tags")
        assert answer.status == 400
        assert answer.content_type == "application/json"

    _serve(check)
