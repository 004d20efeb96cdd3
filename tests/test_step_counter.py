"""One step counter for streamed progress (the CLI's and the nodes'): samples stream interleaved,
so the steps done are the sum over samples of the highest step seen, never more than the total."""

from __future__ import annotations

import io

from novelai_core.cli.generate_command import _Progress
from novelai_core.results import Preview, StepCounter
from tests.comfy_harness import pack_module


def test_interleaved_samples_add_up_their_highest_steps() -> None:
    counter = StepCounter(steps=4, samples=2)
    assert counter.total == 8 and counter.done == 0
    assert counter.see(sample=0, step=0) == 1
    assert counter.see(sample=1, step=0) == 2
    assert counter.see(sample=0, step=1) == 3
    assert counter.see(sample=1, step=2) == 5  # a skipped step still counts as done


def test_a_repeated_or_late_step_never_moves_the_count_back() -> None:
    counter = StepCounter(steps=10, samples=1)
    counter.see(sample=0, step=5)
    assert counter.see(sample=0, step=5) == 6
    assert counter.see(sample=0, step=2) == 6


def test_steps_past_the_end_and_unexpected_samples_stay_within_the_total() -> None:
    counter = StepCounter(steps=3, samples=2)
    assert counter.see(sample=0, step=9) == 3  # a sample never counts more than its steps
    counter.see(sample=1, step=2)
    assert counter.see(sample=5, step=2) == counter.total == 6


def test_a_counter_for_nothing_still_has_a_total_of_one() -> None:
    counter = StepCounter(steps=0, samples=1)
    assert counter.total == 1 and counter.done == 0


def _preview(sample: int, step: int) -> Preview:
    return Preview(sample=sample, step=step, sigma=None, jpeg=b"")


def test_the_cli_progress_lines_count_with_the_shared_counter() -> None:
    out = io.StringIO()
    progress = _Progress(StepCounter(steps=2, samples=2), out)
    for event in (_preview(0, 0), _preview(1, 0), _preview(0, 1), _preview(0, 1), _preview(1, 1)):
        progress.preview(event)
    assert out.getvalue().splitlines() == [
        "NovelAI: step 1/4",
        "NovelAI: step 2/4",
        "NovelAI: step 3/4",
        "NovelAI: step 4/4",
    ]


def test_the_nodes_progress_bar_counts_with_the_shared_counter() -> None:
    progress = pack_module("nodes.runtime.progress").GenerationProgress(
        steps=3, samples=2, node_id=None, cost_text="0 Anlas"
    )
    assert isinstance(progress.counter, pack_module("novelai_core.results").StepCounter)
    for sample, step in ((0, 0), (1, 0), (0, 5)):
        progress.on_preview(_preview(sample, step))
    assert (progress.value, progress.total) == (4, 6)
