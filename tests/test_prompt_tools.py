"""Prompt tools: weight conversion per model, token counts that say whether they are exact,
and tag suggestions against the simulator."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from novelai_core.contract.capabilities import get_capability
from novelai_core.contract.constants import PATH_SUGGEST_TAGS
from novelai_core.errors import InputError
from novelai_core.prompts.conversion import convert_for_model, convert_prompt
from novelai_core.prompts.tokens import count_prompt_tokens, estimate_tokens, find_tokenizer_dir
from tests.comfy_harness import call_node, pack_module

prompt_tools = pack_module("nodes.text_tools")
tags = pack_module("nodes.tags")
user = pack_module("novelai_core.models.user")
V45, V3, V5 = "nai-diffusion-4-5-full", "nai-diffusion-3", "nai-diffusion-5-full"


@pytest.mark.parametrize(
    ("a1111", "v45", "v3"),
    [
        ("(tag:1.2)", "1.2::tag::", "{{{{tag}}}}"),
        ("((tag))", "1.21::tag::", "{{{{tag}}}}"),
        ("[tag]", "[tag]", "[tag]"),  # NovelAI syntax too: left alone
        ("((a)), [[b]]", "1.21::a::, [[b]]", "{{{{a}}}}, [[b]]"),
        ("(a (b:1.5) c)", "1.1::a:: 1.65::b:: 1.1::c::", "{{a}} {{{{{{{{{{b}}}}}}}}}} {{c}}"),
        (r"\(bracket\) (x:0.5)", "(bracket) 0.5::x::", "(bracket) " + "[" * 14 + "x" + "]" * 14),
        ("(1girl:1.3), 2boys", "1.3::1girl::, 2boys", "{{{{{1girl}}}}}, 2boys"),
        ("(tag:.5)", "0.5::tag::", "[" * 14 + "tag" + "]" * 14),
        ("plain, tags", "plain, tags", "plain, tags"),
    ],
)
def test_weights_convert_to_the_chosen_models_syntax(a1111: str, v45: str, v3: str) -> None:
    assert convert_for_model(a1111, V45) == v45
    assert convert_for_model(a1111, V5) == v45  # V5 reads numeric weights too
    assert convert_for_model(a1111, V3) == v3


@pytest.mark.parametrize(
    "novelai",
    ["[abstract]", "{smile}, [[hat]]", "1.2::red hair::, -0.5::feet::", "{a, 0::b::, c}"],
)
def test_converting_to_novelai_leaves_novelai_syntax_alone(novelai: str) -> None:
    for model in (V45, V5, V3):
        assert convert_for_model(novelai, model) == novelai


def test_novelai_and_a1111_syntax_mixed_convert_only_the_a1111_part() -> None:
    assert convert_for_model("[abstract], (sky:1.2), {sun}", V45) == "[abstract], 1.2::sky::, {sun}"
    assert convert_for_model("[abstract], ((sky)), {sun}", V3) == "[abstract], {{{{sky}}}}, {sun}"


def test_lora_tags_are_removed_with_a_warning() -> None:
    done = convert_prompt("1girl, <lora:add_detail:0.8>, (smile:1.2), <LyCO:x>", V45)
    assert done.text == "1girl, 1.2::smile::"
    assert done.warnings == ("removed <lora:add_detail:0.8>, <LyCO:x>: NovelAI has no LoRA",)
    assert convert_prompt("<lora:a:1> cat", V45).text == "cat"
    assert convert_prompt("1.2::cat::", V45, to="a1111").warnings == ()


def test_the_cli_warns_on_stderr_and_prints_the_prompt(capsys: pytest.CaptureFixture[str]) -> None:
    from novelai_core.cli import main

    assert main(["prompt", "convert", "<lora:x:1>, [abstract], (a:1.5)"]) == 0
    out, err = capsys.readouterr()
    assert out == "[abstract], 1.5::a::\n"
    assert err == "warning: removed <lora:x:1>: NovelAI has no LoRA\n"


def test_novelai_weights_convert_back_to_a1111_with_literal_brackets_escaped() -> None:
    text = "1.2::red hair::, {blue eyes}, [hat], (x)"
    assert convert_for_model(text, V45, to="a1111") == (
        r"(red hair:1.2), (blue eyes:1.05), (hat:0.952), \(x\)"
    )


def test_a_negative_weight_for_v3_is_an_input_error_naming_braces() -> None:
    assert convert_for_model("(tag:-1)", V45) == "-1::tag::"
    with pytest.raises(InputError, match="braces"):
        convert_for_model("(tag:-1)", V3)


def test_the_convert_node_follows_its_direction_widget() -> None:
    node = prompt_tools.NovelAIConvertWeights()
    assert node.convert(text="(a:1.5)", model=V45, direction=prompt_tools.TO_NOVELAI) == (
        "1.5::a::",
    )
    assert node.convert(text="1.5::a::", model=V45, direction=prompt_tools.TO_A1111) == ("(a:1.5)",)


def test_without_tokenizer_files_the_count_is_an_estimate_and_labelled_as_one() -> None:
    result = count_prompt_tokens(["1.5::long hair::, {smile}"], V45)
    assert not result.exact
    assert result.count == estimate_tokens("long hair, smile")  # weights stripped first
    assert result.label.startswith("≈") and "estimate" in result.label
    assert (result.limit, result.tokenizer) == (512, "t5")
    v3 = count_prompt_tokens(["cat"], V3)
    assert (v3.limit, v3.tokenizer) == (get_capability(V3).prompt_token_limit, "clip")


def test_the_estimate_grows_with_long_words_and_counts_punctuation() -> None:
    assert estimate_tokens("cat, dog") == 3
    assert estimate_tokens("supercalifragilistic") == 4
    assert estimate_tokens("") == 0


def test_the_label_names_how_far_over_the_limit_a_prompt_is() -> None:
    result = count_prompt_tokens(["tag, " * 300], V3)
    assert result.over_limit and f"{result.count - 225} over the limit" in result.label


def _t5_like(root: Path) -> Path:
    tk = pytest.importorskip("tokenizers")
    vocab = {"[UNK]": 0, "red": 1, "hair": 2, ",": 3, "girl": 4}
    tokenizer = tk.Tokenizer(tk.models.WordLevel(vocab, unk_token="[UNK]"))
    tokenizer.pre_tokenizer = tk.pre_tokenizers.Whitespace()
    folder = root / "text_encoders" / "t5_tokenizer"
    folder.mkdir(parents=True)
    tokenizer.save(str(folder / "tokenizer.json"))
    return folder


def test_with_a_tokenizer_json_on_disk_the_count_is_exact(tmp_path: Path) -> None:
    folder = _t5_like(tmp_path)
    assert find_tokenizer_dir("t5", [tmp_path]) == folder
    result = count_prompt_tokens(["1.2::red hair::, girl", "girl"], V45, roots=[tmp_path])
    assert result.exact and result.count == 5  # red hair , girl + girl
    assert result.label == "5 / 512 T5 tokens"


def _clip_like(root: Path, words: list[str]) -> None:
    """vocab.json + merges.txt in CLIP's layout, merging each word letter by letter."""
    vocab: dict[str, int] = {}
    merges: list[str] = []
    for word in words:
        pieces = [*word[:-1], word[-1] + "</w>"]
        for piece in pieces:
            vocab.setdefault(piece, len(vocab))
        while len(pieces) > 1:
            merges.append(f"{pieces[0]} {pieces[1]}")
            pieces = [pieces[0] + pieces[1], *pieces[2:]]
            vocab.setdefault(pieces[0], len(vocab))
    vocab.setdefault("<|endoftext|>", len(vocab))
    folder = root / "sd1_tokenizer"
    folder.mkdir(parents=True)
    (folder / "vocab.json").write_text(json.dumps(vocab), encoding="utf-8")
    (folder / "merges.txt").write_text("#version: 0.2\n" + "\n".join(merges) + "\n")


def test_clip_files_are_read_with_clips_lowercasing_and_word_splitting(tmp_path: Path) -> None:
    pytest.importorskip("tokenizers")
    _clip_like(tmp_path, ["cat", "ears", ","])
    result = count_prompt_tokens(["{Cat  EARS}, cat"], V3, roots=[tmp_path])
    assert result.exact and result.count == 4  # cat ears , cat
    assert result.label == "4 / 225 CLIP tokens"


def test_the_token_node_counts_characters_too_and_reports_in_the_ui() -> None:
    chars = (user.Character(prompt="girl, red hair"), user.Character(prompt="x", enabled=False))
    out = prompt_tools.NovelAITokenCount().count(text="1girl", model=V45, characters=chars)
    tokens, limit, exact, report = out["result"]
    expected = count_prompt_tokens(["1girl", "girl, red hair"], V45, roots=[])
    assert (tokens, limit) == (expected.count, 512)
    assert exact is False and out["ui"]["text"] == [report] and report.startswith("≈")


def test_suggest_tags_asks_the_simulator_and_lists_tags_best_first(sim: Any) -> None:
    out = call_node(tags.NovelAISuggestTags(), prompt="1girl, long h", model=V45, language="en")
    names, report = out["result"]
    assert names.split(", ")[0] == "long hair" and "posts" in report
    assert sim.stats()["requests"][PATH_SUGGEST_TAGS] == 1
