"""The README's first command: the offline demo and sending through the CLI, in a new process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from novelai_core.metadata.reader import read_metadata
from novelai_core.simulator import Simulator

REPO = Path(__file__).resolve().parents[1]


def _run(
    args: list[str], cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "PYTHONPATH": str(REPO), **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "novelai_core", *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_demo_writes_images_under_the_current_directory_without_an_account(
    tmp_path: Path,
) -> None:
    env = {"NAI_ACCESS_TOKEN": "", "NOVELAI_API_KEY": "", "NAI_TOKEN_FILE": str(tmp_path / "none")}
    done = _run(["demo"], cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    pngs = sorted((tmp_path / "novelai_demo").rglob("*.png"))
    assert len(pngs) >= 3
    kinds = {p.name.split("_")[1] for p in pngs}
    assert {"txt2img", "characters", "img2img"} <= kinds
    for png in pngs:
        assert str(png.relative_to(tmp_path)) in done.stdout
        metadata = read_metadata(png.read_bytes())
        assert metadata is not None and metadata.prompt


def test_generate_sends_to_the_base_url_and_writes_the_original_png(tmp_path: Path) -> None:
    with Simulator(token="cli-canary-token-123456") as sim:
        done = _run(
            [
                "generate",
                "--prompt",
                "1girl",
                "--seed",
                "5",
                "--out",
                str(tmp_path),
                "--base-url",
                sim.url,
            ],
            cwd=tmp_path,
            env={"NAI_ACCESS_TOKEN": "cli-canary-token-123456"},
        )
        assert sim.stats()["requests"].get("/ai/generate-image") == 1
    assert done.returncode == 0, done.stderr
    written = [Path(line) for line in done.stdout.split()]
    assert len(written) == 1 and written[0].exists()
    metadata = read_metadata(written[0].read_bytes())
    assert metadata is not None and metadata.seed == 5
    assert "cli-canary-token-123456" not in done.stdout + done.stderr


def test_a_wrong_token_ends_in_one_readable_line_without_the_token(tmp_path: Path) -> None:
    with Simulator(token="right-token") as sim:
        done = _run(
            ["generate", "--prompt", "1girl", "--base-url", sim.url, "--out", str(tmp_path)],
            cwd=tmp_path,
            env={"NAI_ACCESS_TOKEN": "wrong-canary-token-987654"},
        )
    assert done.returncode == 1
    assert len(done.stderr.strip().splitlines()) == 1
    assert "Traceback" not in done.stderr
    assert "wrong-canary-token-987654" not in done.stderr + done.stdout
