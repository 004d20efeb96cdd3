"""Token resolution order, the token file, masking, base URL, and the lazy MissingTokenError."""

from __future__ import annotations

from pathlib import Path

import pytest

from novelai_core.auth import (
    ENV_ACCESS_TOKEN,
    ENV_API_KEY,
    ENV_IMAGE_BASE_URL,
    ENV_TOKEN_FILE,
    default_token_file,
    mask_token,
    resolve_base_url,
    resolve_token,
)
from novelai_core.client import USER_AGENT, NovelAIClient
from novelai_core.contract.constants import IMAGE_BASE_URL
from novelai_core.errors import MissingTokenError
from novelai_core.simulator import Simulator

ARG = "pst-argument-token-aaaa1111"
ENV1 = "pst-access-token-bbbb2222"
ENV2 = "pst-api-key-token-cccc3333"
FILE = "pst-file-token-dddd4444"


@pytest.fixture
def token_file(tmp_path: Path) -> Path:
    path = tmp_path / "token"
    path.write_text(f"# my NovelAI token\n  {FILE}  \n", encoding="utf-8")
    return path


def test_the_argument_wins_over_environment_and_file(token_file: Path) -> None:
    env = {ENV_ACCESS_TOKEN: ENV1, ENV_API_KEY: ENV2, ENV_TOKEN_FILE: str(token_file)}
    resolved = resolve_token(ARG, env)
    assert (resolved.value, resolved.source) == (ARG, "argument")


def test_nai_access_token_wins_over_novelai_api_key_and_file(token_file: Path) -> None:
    env = {ENV_ACCESS_TOKEN: ENV1, ENV_API_KEY: ENV2, ENV_TOKEN_FILE: str(token_file)}
    resolved = resolve_token(None, env)
    assert (resolved.value, resolved.source) == (ENV1, f"env {ENV_ACCESS_TOKEN}")


def test_novelai_api_key_is_used_when_nai_access_token_is_unset(token_file: Path) -> None:
    env = {ENV_ACCESS_TOKEN: "  ", ENV_API_KEY: ENV2, ENV_TOKEN_FILE: str(token_file)}
    assert resolve_token(None, env).value == ENV2


def test_the_token_file_skips_comments_and_whitespace(token_file: Path) -> None:
    resolved = resolve_token(None, {ENV_TOKEN_FILE: str(token_file)})
    assert resolved.value == FILE
    assert resolved.source == f"file {token_file}"


def test_a_pasted_bearer_prefix_and_quotes_are_stripped() -> None:
    assert resolve_token(f'"Bearer {ARG}"', {}).value == ARG


def test_the_default_token_file_follows_xdg_and_appdata(tmp_path: Path) -> None:
    xdg = {"XDG_CONFIG_HOME": str(tmp_path)}
    assert default_token_file(xdg, platform="linux") == tmp_path / "novelai" / "token"
    appdata = {"APPDATA": str(tmp_path / "Roaming")}
    assert default_token_file(appdata, platform="win32") == tmp_path / "Roaming/novelai/token"
    assert default_token_file({}, platform="linux") == Path.home() / ".config/novelai/token"
    explicit = {ENV_TOKEN_FILE: str(tmp_path / "x"), **xdg}
    assert default_token_file(explicit) == tmp_path / "x"


def test_no_token_anywhere_is_reported_with_every_place_searched(tmp_path: Path) -> None:
    resolved = resolve_token(None, {ENV_TOKEN_FILE: str(tmp_path / "missing")})
    assert resolved.value is None
    with pytest.raises(MissingTokenError) as info:
        resolved.require()
    text = str(info.value)
    for place in (ENV_ACCESS_TOKEN, ENV_API_KEY, str(tmp_path / "missing")):
        assert place in text


def test_masking_keeps_only_the_pst_prefix_and_last_four() -> None:
    assert mask_token("pst-abcdefghijklmnopqrstuvwxyz1234") == "pst-…1234"
    assert mask_token("eyJhbGciOiJIUzI1NiJ9.payload.sig9") == "…sig9"
    assert mask_token("pst-short") == "pst-…"
    assert mask_token(None) == "(none)"


def test_base_url_argument_beats_environment_which_beats_the_default() -> None:
    env = {ENV_IMAGE_BASE_URL: "http://127.0.0.1:9/"}
    assert resolve_base_url("http://example.test/", env) == "http://example.test"
    assert resolve_base_url(None, env) == "http://127.0.0.1:9"
    assert resolve_base_url(None, {}) == IMAGE_BASE_URL


def test_constructing_a_client_without_a_token_never_fails_and_the_first_request_does(
    simulator: Simulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name in (ENV_ACCESS_TOKEN, ENV_API_KEY):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv(ENV_TOKEN_FILE, str(tmp_path / "absent"))
    client = NovelAIClient(base_url=simulator.url)
    assert client.token_source == "none"
    assert not client.has_token
    with pytest.raises(MissingTokenError, match="no API token found"):
        client.subscription()
    assert simulator.stats()["requests"] == {}  # refused before anything was sent


def test_the_client_shows_where_its_token_came_from_masked(
    simulator: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV_ACCESS_TOKEN, ENV1)
    client = NovelAIClient(base_url=simulator.url)
    assert client.token_source == f"env {ENV_ACCESS_TOKEN}"
    assert client.masked_token == "pst-…2222"
    assert ENV1 not in repr(client)
    assert "pst-…2222" in repr(client)


def test_the_user_agent_names_the_project_and_version() -> None:
    from novelai_core import __version__

    assert f"comfyui-novelai-nodes/{__version__} (+python-requests)" == USER_AGENT
