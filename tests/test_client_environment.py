"""The client's own session reads the proxy and CA-bundle environment once, at construction,
and never lets ~/.netrc replace the Bearer token."""

from __future__ import annotations

from pathlib import Path

import pytest

from novelai_core.client import NovelAIClient
from novelai_core.simulator import Simulator

PROXY = "http://proxy.example:3128"


@pytest.fixture(autouse=True)
def _clean_proxy_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "NO_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
        "no_proxy",
        "REQUESTS_CA_BUNDLE",
        "CURL_CA_BUNDLE",
    ):
        monkeypatch.delenv(name, raising=False)  # fmt: skip


def test_an_https_proxy_from_the_environment_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", PROXY)
    client = NovelAIClient("pst-x", base_url="https://image.novelai.net")
    assert client.session.proxies.get("https") == PROXY
    assert client.session.trust_env is False  # read once above, not per request


def test_no_proxy_for_the_host_means_a_direct_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", PROXY)
    monkeypatch.setenv("NO_PROXY", "image.novelai.net")
    client = NovelAIClient("pst-x", base_url="https://image.novelai.net")
    assert "https" not in client.session.proxies


def test_a_ca_bundle_from_the_environment_is_used(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tmp_path / "corporate.pem"))
    client = NovelAIClient("pst-x", base_url="https://image.novelai.net")
    assert client.session.verify == str(tmp_path / "corporate.pem")


def test_a_netrc_entry_for_the_host_does_not_replace_the_bearer_token(
    simulator: Simulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    netrc = tmp_path / "netrc"
    netrc.write_text(f"machine {simulator.host} login someone password something\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    with NovelAIClient(simulator.token, base_url=simulator.url) as client:
        assert client.subscription().tier == 3
