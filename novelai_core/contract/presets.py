"""Quality-tag suffixes and UC preset texts the web app builds on the client (contract §5).

The server adds nothing: these strings go into ``input`` / ``negative_prompt`` verbatim.
"""

from __future__ import annotations

from typing import Final

_V5_HEAVY: Final = (
    "lowres, artistic error, film grain, scan artifacts, worst quality, bad quality, "
    "jpeg artifacts, very displeasing, chromatic aberration, dithering, halftone, screentone, "
    "multiple views, logo, too many watermarks, negative space, blank page"
)
_HUMAN_TAIL: Final = ", @_@, mismatched pupils, glowing eyes, bad anatomy"
_V45_FURRY: Final = (
    "{worst quality}, distracting watermark, unfinished, bad quality, {widescreen}, upscale, "
    "{sequence}, {{grandfathered content}}, blurred foreground, chromatic aberration, sketch, "
    "everyone, [sketch background], simple, [flat colors], ych (character), outline, "
    "multiple scenes, [[horror (theme)]], comic"
)
_V3_HEAVY: Final = (
    "lowres, {bad}, error, fewer, extra, missing, worst quality, jpeg artifacts, bad quality, "
    "watermark, unfinished, displeasing, chromatic aberration, signature, extra digits, "
    "artistic error, username, scan, [abstract]"
)

# The web app's preset ids and the one numeric table both tag hints use (R1 of
# shared/novelai-api-2026.md: bundle table, confirmed on the wire for none/standard/heavy/light).
TAG_HINTS: Final[dict[str, int]] = {
    "none": 0,
    "standard": 1,
    "heavy": 2,
    "light": 3,
    "humanFocus": 4,
    "furryFocus": 5,
    "lowQualityPlusBadAnatomy": 6,
    "lowQuality": 7,
    "badAnatomy": 8,
}
# Names this pack used before the web app's ids were known; saved workflows still carry them.
UC_PRESET_ALIASES: Final[dict[str, str]] = {"human": "humanFocus", "furry": "furryFocus"}


def canonical_uc_preset(name: str) -> str:
    """The web app's id for a UC preset name (old names ``human``/``furry`` map to the ids)."""
    return UC_PRESET_ALIASES.get(name, name)


# Quality presets per family key, web-app order: name → suffix appended as ", " + suffix.
QUALITY: Final[dict[str, dict[str, str]]] = {
    "v5": {
        "standard": "very aesthetic, masterpiece, no text",
        "light": "very aesthetic, amazing quality, no text",
    },
    # disputed: older bundles add "location, " in front
    "v4.5-full": {"standard": "very aesthetic, masterpiece, no text"},
    # disputed: variants with "location"
    "v4.5-curated": {
        "standard": "very aesthetic, masterpiece, no text, -0.8::feet::, rating:general"
    },
    "v4-full": {"standard": "no text, best quality, very aesthetic, absurdres"},
    "v4-curated": {"standard": "rating:general, best quality, very aesthetic, absurdres"},
    "v3": {"standard": "best quality, amazing quality, very aesthetic, absurdres"},
    "furry-v3": {"standard": "{best quality}, {amazing quality}"},
}

# UC preset texts per family key; the model's row in the capability table picks and orders them.
UC: Final[dict[str, dict[str, str]]] = {
    "v5": {
        "heavy": _V5_HEAVY,
        "light": (
            "lowres, bad hands, bad anatomy, artistic error, sepia, white haze, worst quality, "
            "very displeasing, jpeg artifacts, 0::ai-generated::"
        ),
        "furryFocus": _V45_FURRY,
        "humanFocus": _V5_HEAVY + _HUMAN_TAIL,
        "none": "",
    },
    "v4.5-full": {
        "heavy": _V5_HEAVY,
        "light": (
            "lowres, artistic error, scan artifacts, worst quality, bad quality, jpeg artifacts, "
            "multiple views, very displeasing, too many watermarks, negative space, blank page"
        ),
        "furryFocus": _V45_FURRY,
        "humanFocus": _V5_HEAVY + _HUMAN_TAIL,
        "none": "",
    },
    "v4.5-curated": {
        "heavy": (
            "blurry, lowres, upscaled, artistic error, film grain, scan artifacts, worst quality, "
            "bad quality, jpeg artifacts, very displeasing, chromatic aberration, halftone, "
            "multiple views, logo, too many watermarks, negative space, blank page"
        ),
        "light": (
            "blurry, lowres, upscaled, artistic error, scan artifacts, jpeg artifacts, logo, "
            "too many watermarks, negative space, blank page"
        ),
        "humanFocus": (
            "blurry, lowres, upscaled, artistic error, film grain, scan artifacts, bad anatomy, "
            "bad hands, worst quality, bad quality, jpeg artifacts, very displeasing, "
            "chromatic aberration, halftone, multiple views, logo, too many watermarks, @_@, "
            "mismatched pupils, glowing eyes, negative space, blank page"
        ),
        "none": "",
    },
    "v4-full": {
        "heavy": (
            "blurry, lowres, error, film grain, scan artifacts, worst quality, bad quality, "
            "jpeg artifacts, very displeasing, chromatic aberration, multiple views, logo, "
            "too many watermarks, white blank page, blank page"
        ),
        "light": (
            "blurry, lowres, error, worst quality, bad quality, jpeg artifacts, very displeasing, "
            "white blank page, blank page"
        ),
        "none": "",
    },
    "v4-curated": {
        "heavy": (
            "blurry, lowres, error, film grain, scan artifacts, worst quality, bad quality, "
            "jpeg artifacts, very displeasing, chromatic aberration, logo, dated, signature, "
            "multiple views, gigantic breasts, white blank page, blank page"
        ),
        "light": (
            "blurry, lowres, error, worst quality, bad quality, jpeg artifacts, very displeasing, "
            "logo, dated, signature, white blank page, blank page"
        ),
        "none": "",
    },
    "v3": {
        "heavy": _V3_HEAVY,
        "light": "lowres, jpeg artifacts, worst quality, watermark, blurry, very displeasing",
        "humanFocus": _V3_HEAVY
        + ", bad anatomy, bad hands, @_@, mismatched pupils, heart-shaped pupils, glowing eyes",
        "none": "lowres",
    },
    "furry-v3": {
        "heavy": (
            "{{worst quality}}, [displeasing], {unusual pupils}, guide lines, {{unfinished}}, "
            "{bad}, url, artist name, {{tall image}}, mosaic, {sketch page}, comic panel, "
            "impact (font), [dated], {logo}, ych, {what}, {where is your god now}, "
            "{distorted text}, repeated text, {floating head}, {1994}, {widescreen}, "
            "absolutely everyone, sequence, {compression artifacts}, hard translated, {cropped}, "
            "{commissioner name}, unknown text, high contrast"
        ),
        "light": (
            "{worst quality}, guide lines, unfinished, bad, url, tall image, widescreen, "
            "compression artifacts, unknown text"
        ),
        "none": "lowres",
    },
}
