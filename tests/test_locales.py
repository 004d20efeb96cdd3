"""The Japanese, Korean and Chinese locales cover every text of the English one, and stay current.

The locale files are generated from `locales/en` and the catalogs in `i18n/` (see
tests/locale_support.py): a node, input, output or tooltip added without its translations, an
English text changed without its translations, or a translation of a text no node uses any more
fails here, by name.
"""

from __future__ import annotations

import json
import os
import re
from typing import Any

import pytest

from tests.comfy_harness import load_pack
from tests.locale_support import (
    CATALOG_DIR,
    LOCALES_DIR,
    TRANSLATED_LANGUAGES,
    build_main,
    build_node_defs,
    english_texts,
    load_catalog,
    missing_translations,
    stale_entries,
    translate,
    write_json,
)

PACK = load_pack()
SOURCE = {"nodeDefs": build_node_defs(PACK), "main": build_main(PACK)}
ENGLISH = english_texts(SOURCE)
HOW_TO_FIX = (
    "run `python tests/locale_support.py` (adds the missing texts to every i18n/<lang>.json with "
    "an empty translation and drops unused ones), translate them, then regenerate the locale "
    "files with UPDATE_NODE_SNAPSHOT=1 python -m pytest tests/test_locales.py"
)
# What stays as it is in every language: model and version names (V4.5, V4+), identifiers and
# sampler/tool names (ddim_v3, declutter-keep-bubbles), environment variables, file extensions,
# NovelAI prompt syntax ({tag}, [tag], 1.5::tag::, (tag:1.2)) and numbers.
KEPT_AS_IS = re.compile(
    r"(?<![A-Za-z0-9_])V\d(?:\.\d)?\+?"  # ASCII edges: Korean particles follow words directly
    r"|(?<![A-Za-z0-9_])[A-Za-z0-9]+(?:_[A-Za-z0-9]+)+(?![A-Za-z0-9_])"
    r"|(?<![a-z-])[a-z]+(?:-[a-z]+){2,}(?![a-z-])"
    r"|\.naiv4vibe(?:bundle)?"
    r"|\{[^{}\s]*\}|\[[^\[\]\s]*\]|\d*\.?\d*::\w*::|\(\w+:[\d.w]+\)"
    r"|(?<![A-Za-z\d])\d+(?:\.\d+)?"  # a number, not the digit of a name like img2img or T5
)


def _language_params() -> list[Any]:
    return [pytest.param(language, id=language) for language in TRANSLATED_LANGUAGES]


def _key_paths(tree: Any, path: str = "") -> set[str]:
    if not isinstance(tree, dict):
        return {path}
    return {p for key, value in tree.items() for p in _key_paths(value, f"{path}.{key}")}


def test_the_translated_languages_are_the_frontends_codes_and_each_has_its_folder() -> None:
    # ComfyUI loads every folder of locales/ as a language; the frontend knows these codes.
    folders = {path.name for path in LOCALES_DIR.iterdir() if path.is_dir()}
    assert folders == {"en", *TRANSLATED_LANGUAGES}
    catalogs = {path.stem for path in CATALOG_DIR.glob("*.json")}
    assert catalogs == set(TRANSLATED_LANGUAGES)


@pytest.mark.parametrize("language", _language_params())
def test_every_text_of_the_english_locale_has_a_translation(language: str) -> None:
    missing = missing_translations(ENGLISH, load_catalog(language))
    listing = "\n".join(f"  {key}: {text!r}" for key, text in sorted(missing.items()))
    assert not missing, f"i18n/{language}.json has no translation for:\n{listing}\n{HOW_TO_FIX}"


@pytest.mark.parametrize("language", _language_params())
def test_no_catalog_keeps_a_text_that_no_node_uses_any_more(language: str) -> None:
    stale = stale_entries(ENGLISH, load_catalog(language))
    listing = "\n".join(f"  {text!r}" for text in stale)
    assert not stale, (
        f"i18n/{language}.json translates texts no node uses:\n{listing}\n{HOW_TO_FIX}"
    )


@pytest.mark.parametrize("language", _language_params())
def test_the_locale_files_are_generated_from_the_english_texts_and_the_catalog(
    language: str,
) -> None:
    catalog = load_catalog(language)
    if missing_translations(ENGLISH, catalog):
        pytest.fail(f"i18n/{language}.json is incomplete (see the test above); {HOW_TO_FIX}")
    for name, tree in SOURCE.items():
        path = LOCALES_DIR / language / f"{name}.json"
        current = translate(tree, catalog)
        if os.environ.get("UPDATE_NODE_SNAPSHOT"):
            write_json(path, current)
        recorded = json.loads(path.read_text(encoding="utf-8")) if path.exists() else None
        assert recorded == current, f"locales/{language}/{name}.json is out of date; {HOW_TO_FIX}"


@pytest.mark.parametrize("language", _language_params())
def test_a_locale_file_names_only_the_nodes_inputs_and_outputs_that_exist(language: str) -> None:
    path = LOCALES_DIR / language / "nodeDefs.json"
    recorded = _key_paths(json.loads(path.read_text(encoding="utf-8")))
    expected = _key_paths(SOURCE["nodeDefs"])
    assert not recorded - expected, f"{path.name} of {language} names what no longer exists"
    assert not expected - recorded, f"{path.name} of {language} lacks keys of locales/en"


@pytest.mark.parametrize("language", _language_params())
def test_model_names_identifiers_numbers_and_prompt_syntax_stay_untranslated(
    language: str,
) -> None:
    catalog = load_catalog(language)
    changed = {
        text: sorted(set(KEPT_AS_IS.findall(text)) - set(KEPT_AS_IS.findall(catalog[text])))
        for text in set(ENGLISH.values())
        if catalog.get(text) and " " in text  # a label (an input's name) is translated whole
    }
    changed = {text: tokens for text, tokens in changed.items() if tokens}
    listing = "\n".join(f"  {tokens} dropped from {text!r}" for text, tokens in changed.items())
    assert not changed, f"i18n/{language}.json:\n{listing}"


def test_the_checks_name_a_new_input_without_translations_and_a_translation_of_a_removed_one() -> (
    None
):
    catalog = {text: f"<{text}>" for text in set(ENGLISH.values())}
    tree = json.loads(json.dumps(SOURCE["nodeDefs"]))
    tree["NovelAI_Generate"]["inputs"]["new_option"] = {"name": "new option", "tooltip": "New."}
    removed = tree["NovelAI_Vibe"]["inputs"].pop("strength")
    english = english_texts({"nodeDefs": tree, "main": SOURCE["main"]})

    missing = missing_translations(english, catalog)
    stale = stale_entries(english, catalog)

    assert missing == {
        "nodeDefs.NovelAI_Generate.inputs.new_option.name": "new option",
        "nodeDefs.NovelAI_Generate.inputs.new_option.tooltip": "New.",
    }
    assert stale == [removed["tooltip"]]
