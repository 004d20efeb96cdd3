"""The CLI's network commands (generate, balance, demo), called through their handlers."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

from novelai_core.cli import main
from novelai_core.cli.exits import EXIT_FAILURE, EXIT_INPUT, EXIT_OK
from novelai_core.metadata.reader import read_text_chunks
from novelai_core.simulator import Simulator
from novelai_core.text import chat_client
from novelai_core.transport.http_transport import RetryPolicy
from tests.simulator_support import SIM_TOKEN


def _run(argv: Sequence[str]) -> int:
    """Through ``main``: the real parser and the CLI's one exit-code policy."""
    return main(list(argv))


@pytest.fixture
def no_token(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("NAI_ACCESS_TOKEN", "NOVELAI_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NAI_TOKEN_FILE", str(tmp_path / "no-token-here"))


SMALL = ["--prompt", "1girl", "--width", "256", "--height", "384", "--steps", "6"]


def test_generate_writes_the_original_pngs_and_prints_their_paths(
    simulator: Simulator,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("NAI_ACCESS_TOKEN", SIM_TOKEN)
    argv = ["generate", *SMALL, "--samples", "2", "--seed", "77", "--out", str(tmp_path)]
    assert _run([*argv, "--base-url", simulator.url]) == EXIT_OK
    printed = capsys.readouterr().out.split()
    assert len(printed) == 2
    paths = [Path(p) for p in printed]
    assert [p.name.split("_")[1:] for p in paths] == [["77", "0.png"], ["78", "1.png"]]
    for path in paths:
        assert path.parent == tmp_path
        assert read_text_chunks(path.read_bytes())["Software"] == "NovelAI"


def test_generate_with_stream_and_the_base_url_from_the_environment(
    simulator: Simulator,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("NAI_ACCESS_TOKEN", SIM_TOKEN)
    monkeypatch.setenv("NAI_IMAGE_BASE_URL", simulator.url)
    assert _run(["generate", *SMALL, "--stream", "--out", str(tmp_path)]) == EXIT_OK
    captured = capsys.readouterr()
    assert len(captured.out.split()) == 1
    assert captured.err.splitlines()[-1] == "NovelAI: step 6/6"  # progress, not a terminal
    # One free account lookup for the estimate printed before sending, then the generation.
    assert simulator.stats()["requests"] == {
        "/user/subscription": 1,
        "/ai/generate-image-stream": 1,
    }


def test_generate_without_a_token_fails_in_one_line_and_sends_nothing(
    simulator: Simulator, no_token: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = _run(["generate", *SMALL, "--out", str(tmp_path), "--base-url", simulator.url])
    err = capsys.readouterr().err
    assert code == EXIT_FAILURE
    assert err.count("\n") == 1 and "no API token found" in err and "Traceback" not in err
    assert simulator.stats()["requests"] == {}
    assert list(tmp_path.iterdir()) == []


def test_generate_with_a_wrong_token_fails_without_printing_it(
    simulator: Simulator, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    secret = "pst-cli-canary-token-5e6f7a8b9c0d-XYZW"
    monkeypatch.setenv("NAI_ACCESS_TOKEN", secret)
    assert _run(["generate", *SMALL, "--base-url", simulator.url]) == EXIT_FAILURE
    captured = capsys.readouterr()
    assert "HTTP 401" in captured.err and "pst-…XYZW" in captured.err
    assert secret not in captured.err + captured.out


def test_bad_input_exits_with_2_before_any_request(
    simulator: Simulator, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("NAI_ACCESS_TOKEN", SIM_TOKEN)
    argv = ["generate", "--prompt", "x", "--width", "250", "--base-url", simulator.url]
    assert _run(argv) == EXIT_INPUT
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1
    assert simulator.stats()["requests"] == {}


def test_balance_prints_tier_and_anlas(
    simulator: Simulator, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("NAI_ACCESS_TOKEN", SIM_TOKEN)
    simulator.set_balance(None, 4321)
    assert _run(["balance", "--base-url", simulator.url]) == EXIT_OK
    out = capsys.readouterr().out
    assert "tier: Opus" in out and "anlas: 4321" in out
    assert SIM_TOKEN not in out


def test_demo_works_with_no_account_no_token_and_a_foreign_base_url(
    no_token: None,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("NAI_IMAGE_BASE_URL", "http://127.0.0.1:9")  # must not be used
    monkeypatch.chdir(tmp_path)
    assert _run(["demo"]) == EXIT_OK
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("Wrote 4 images to novelai_demo")
    written = [tmp_path / line for line in lines[1:]]
    assert [p.name.split("_")[1] for p in written] == [
        "txt2img",
        "characters",
        "img2img",
        "img2img",
    ]
    assert all(p.is_file() and p.parent.parent == tmp_path / "novelai_demo" for p in written)


def test_demo_writes_into_the_given_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run(["demo", "--out", str(tmp_path / "here")]) == EXIT_OK
    assert len(list((tmp_path / "here").glob("*.png"))) == 4


def test_generate_prints_the_estimate_for_the_account_before_sending(
    simulator: Simulator,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("NAI_ACCESS_TOKEN", SIM_TOKEN)
    simulator.set_tier(1)
    argv = ["generate", "--prompt", "1girl", "--steps", "28", "--out", str(tmp_path)]
    assert main([*argv, "--base-url", simulator.url]) == EXIT_OK
    err = capsys.readouterr().err
    assert "estimated cost 20 Anlas (Tablet)" in err
    assert simulator.spent() == 20


def test_max_anlas_refuses_before_sending_when_the_estimate_is_above_it(
    simulator: Simulator,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("NAI_ACCESS_TOKEN", SIM_TOKEN)
    argv = ["generate", "--prompt", "1girl", "--steps", "28", "--samples", "2",
            "--out", str(tmp_path), "--base-url", simulator.url]  # fmt: skip
    assert main([*argv, "--max-anlas", "19"]) == EXIT_FAILURE  # Opus: one of two is free
    err = capsys.readouterr().err
    assert "estimated cost 20 Anlas (Opus)" in err and "nothing was sent" in err
    assert "/ai/generate-image" not in simulator.stats()["requests"]
    assert list(tmp_path.iterdir()) == []
    assert main([*argv, "--max-anlas", "20"]) == EXIT_OK
    assert simulator.spent() == 20


def test_stream_progress_counts_the_models_default_steps(
    simulator: Simulator,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("NAI_ACCESS_TOKEN", SIM_TOKEN)
    argv = ["generate", "--prompt", "1girl", "--width", "256", "--height", "384", "--stream",
            "--model", "nai-diffusion-5-full-medium", "--out", str(tmp_path)]  # fmt: skip
    assert main([*argv, "--base-url", simulator.url]) == EXIT_OK
    assert capsys.readouterr().err.splitlines()[-1] == "NovelAI: step 14/14"  # not of 28


def test_a_missing_dependency_is_one_line_not_a_traceback(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The demo's simulator needs numpy; import it afresh with numpy unavailable.
    for name in [n for n in sys.modules if n.startswith("novelai_core.simulator")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "numpy", None)
    assert main(["demo", "--out", str(tmp_path)]) == EXIT_FAILURE
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "numpy" in err and err.count("\n") == 1


def test_text_chat_prints_the_answer_and_text_models_the_ids(
    simulator: Simulator, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("NAI_ACCESS_TOKEN", SIM_TOKEN)
    monkeypatch.setenv("NAI_TEXT_BASE_URL", simulator.url)
    assert _run(["text", "chat", "a cat on a roof"]) == EXIT_OK
    assert capsys.readouterr().out == "Simulated glm-4-6 answer to: a cat on a roof\n"
    assert _run(["text", "models"]) == EXIT_OK
    assert capsys.readouterr().out.split() == ["glm-4-6", "xialong-v1"]


@pytest.mark.parametrize(
    ("setup", "expected"),
    [
        ("tier", "not available on your subscription tier"),
        ("token", "rejected the API token"),
        ("lock", "another generation is running"),
    ],
)
def test_text_errors_are_one_line_each(
    simulator: Simulator,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    setup: str,
    expected: str,
) -> None:
    monkeypatch.setenv(
        "NAI_ACCESS_TOKEN", "pst-wrong-cli-token-1" if setup == "token" else SIM_TOKEN
    )
    monkeypatch.setenv("NAI_TEXT_BASE_URL", simulator.url)
    if setup == "tier":
        simulator.set_tier(1)
    if setup == "lock":  # the account's lock stays taken: waited out briefly, then one line
        simulator.set_fault("concurrent_429", count=None)
        fast = RetryPolicy(max_attempts=3, max_total_seconds=1, initial_delay=0.02)
        monkeypatch.setattr(chat_client, "RetryPolicy", lambda: fast)
    model = ["--model", "xialong-v1"] if setup == "tier" else []
    assert _run(["text", "chat", "hello", *model]) == EXIT_FAILURE
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and expected in err and err.startswith("error: ")
