"""Builds the pack's locale files (ComfyUI's `locales/<lang>/`) from the nodes themselves.

`locales/en/nodeDefs.json` is made from the nodes' own names, descriptions and tooltips. The other
languages are made from it and one catalog per language, `i18n/<lang>.json`: an object mapping each
English text (as it appears in `locales/en`) to its translation. A text used by several nodes (the
spend guard's tooltip, "The image; of a batch, ...") is translated once. When a node, input,
output or tooltip is added or its English changes, the catalog lacks that text and the locale test
names it; when a text is no longer used, the test names that too.

    python tests/locale_support.py      # add the missing texts (empty) to every catalog and
                                        # drop the ones no node uses any more; then translate them
    UPDATE_NODE_SNAPSHOT=1 python -m pytest tests/test_locales.py   # rewrite locales/<lang>/
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

PACK_DIR = Path(__file__).resolve().parent.parent
LOCALES_DIR = PACK_DIR / "locales"
CATALOG_DIR = PACK_DIR / "i18n"
# The ComfyUI frontend's languages (src/locales/localeConfig.ts) that this pack translates to.
TRANSLATED_LANGUAGES = ("ja", "ko", "zh", "zh-TW")
# Category segments kept as they are in every language (the frontend translates each segment of
# a category through main.json's nodeCategories).
UNTRANSLATED_CATEGORY_SEGMENTS = frozenset({"NovelAI"})


def build_node_defs(pack: Any) -> dict[str, Any]:
    """The frontend's nodeDefs format: display name, description, inputs and outputs per node."""
    defs: dict[str, Any] = {}
    for node_id, node_class in sorted(pack.NODE_CLASS_MAPPINGS.items()):
        spec = node_class.INPUT_TYPES()
        inputs = {
            name: {"name": name.replace("_", " "), "tooltip": entry[1]["tooltip"]}
            for section in ("required", "optional")
            for name, entry in spec.get(section, {}).items()
        }
        tooltips = getattr(node_class, "OUTPUT_TOOLTIPS", ())
        outputs = {
            str(index): {"name": name, **({"tooltip": tooltips[index]} if tooltips else {})}
            for index, name in enumerate(node_class.RETURN_NAMES)
        }
        defs[node_id] = {
            "display_name": pack.NODE_DISPLAY_NAME_MAPPINGS[node_id],
            "description": node_class.DESCRIPTION,
            "inputs": inputs,
            "outputs": outputs,
        }
    return defs


def build_main(pack: Any) -> dict[str, Any]:
    """main.json: the node library's category names, one entry per category segment."""
    segments = {
        segment
        for node_class in pack.NODE_CLASS_MAPPINGS.values()
        for segment in node_class.CATEGORY.split("/")
        if segment not in UNTRANSLATED_CATEGORY_SEGMENTS
    }
    return {"nodeCategories": {segment: segment for segment in sorted(segments)}}


def english_texts(tree: Any, path: str = "") -> dict[str, str]:
    """Every text of a locale tree by its dotted key, e.g. 'NovelAI_Vibe.inputs.strength.name'."""
    if isinstance(tree, str):
        return {path: tree}
    texts: dict[str, str] = {}
    for key, value in tree.items():
        texts.update(english_texts(value, f"{path}.{key}" if path else key))
    return texts


def translate(tree: Any, catalog: dict[str, str]) -> Any:
    """The tree with every text replaced by its translation (KeyError names a missing one)."""
    if isinstance(tree, str):
        return catalog[tree]
    return {key: translate(value, catalog) for key, value in tree.items()}


def load_catalog(language: str) -> dict[str, str]:
    path = CATALOG_DIR / f"{language}.json"
    if not path.exists():
        return {}
    catalog: dict[str, str] = json.loads(path.read_text(encoding="utf-8"))
    return catalog


def write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def missing_translations(english: dict[str, str], catalog: dict[str, str]) -> dict[str, str]:
    """Dotted key -> English text, for every text the catalog has no (non-empty) translation of."""
    return {key: text for key, text in english.items() if not catalog.get(text, "").strip()}


def stale_entries(english: dict[str, str], catalog: dict[str, str]) -> list[str]:
    """Catalog entries whose English text no node uses any more."""
    used = set(english.values())
    return sorted(text for text in catalog if text not in used)


def sync_catalogs(pack: Any) -> dict[str, tuple[int, int]]:
    """Adds every missing English text (with an empty translation) to each catalog and removes
    the texts no node uses any more. Returns language -> (added, removed)."""
    english = english_texts({"nodeDefs": build_node_defs(pack), "main": build_main(pack)})
    used = set(english.values())
    report: dict[str, tuple[int, int]] = {}
    for language in TRANSLATED_LANGUAGES:
        catalog = load_catalog(language)
        kept = {text: catalog[text] for text in catalog if text in used}
        added = sorted(used - set(kept))
        kept.update(dict.fromkeys(added, ""))
        write_json(CATALOG_DIR / f"{language}.json", dict(sorted(kept.items())))
        report[language] = (len(added), len(catalog) - (len(kept) - len(added)))
    return report


if __name__ == "__main__":
    sys.path.insert(0, str(PACK_DIR))
    from tests.comfy_harness import load_pack

    for language, (added, removed) in sync_catalogs(load_pack()).items():
        print(f"i18n/{language}.json: {added} texts to translate added, {removed} unused removed")
