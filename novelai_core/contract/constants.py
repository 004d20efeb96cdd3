"""Names NovelAI uses on the wire: samplers, noise schedules, actions, tools and limits."""

from __future__ import annotations

from typing import Final, Literal, get_args

Sampler = Literal[
    "k_euler_ancestral",
    "k_euler",
    "k_dpmpp_2s_ancestral",
    "k_dpmpp_2m",
    "k_dpmpp_2m_sde",
    "k_dpmpp_sde",
    "ddim_v3",
]
K_EULER_ANCESTRAL: Final = "k_euler_ancestral"
K_EULER: Final = "k_euler"
K_DPMPP_2S_ANCESTRAL: Final = "k_dpmpp_2s_ancestral"
K_DPMPP_2M: Final = "k_dpmpp_2m"
K_DPMPP_2M_SDE: Final = "k_dpmpp_2m_sde"
K_DPMPP_SDE: Final = "k_dpmpp_sde"
DDIM_V3: Final = "ddim_v3"
SAMPLERS: Final[tuple[str, ...]] = get_args(Sampler)

NoiseSchedule = Literal["native", "karras", "exponential", "polyexponential"]
NATIVE: Final = "native"
KARRAS: Final = "karras"
EXPONENTIAL: Final = "exponential"
POLYEXPONENTIAL: Final = "polyexponential"
NOISE_SCHEDULES: Final[tuple[str, ...]] = get_args(NoiseSchedule)

Action = Literal["generate", "img2img", "infill"]

AugmentTool = Literal[
    "bg-removal",
    "lineart",
    "sketch",
    "colorize",
    "emotion",
    "declutter",
    "declutter-keep-bubbles",
]
AUGMENT_TOOLS: Final[tuple[str, ...]] = get_args(AugmentTool)

Emotion = Literal[
    "neutral", "happy", "sad", "angry", "scared", "surprised", "tired", "excited",
    "nervous", "thinking", "confused", "shy", "disgusted", "smug", "bored", "laughing",
    "irritated", "aroused", "embarrassed", "worried", "love", "determined", "hurt", "playful",
]  # fmt: skip
EMOTIONS: Final[tuple[str, ...]] = get_args(Emotion)

ReferenceMode = Literal["character", "style", "character&style"]
REFERENCE_MODES: Final[tuple[str, ...]] = get_args(ReferenceMode)

# Hosts (contract §1). The image host serves everything this SDK calls (api.novelai.net only
# login and legacy endpoints this SDK does not use).
IMAGE_BASE_URL: Final = "https://image.novelai.net"
TEXT_BASE_URL: Final = "https://text.novelai.net"  # the web app's TextBackendUrl

# Paths on the image host.
PATH_GENERATE: Final = "/ai/generate-image"
PATH_GENERATE_STREAM: Final = "/ai/generate-image-stream"
PATH_ENCODE_VIBE: Final = "/ai/encode-vibe"
PATH_AUGMENT: Final = "/ai/augment-image"
PATH_UPSCALE: Final = "/ai/upscale"
PATH_SUGGEST_TAGS: Final = "/ai/generate-image/suggest-tags"
PATH_SUBSCRIPTION: Final = "/user/subscription"

# Limits (contract §3).
# R12: seeds are unsigned; the web draws over the full 32-bit range (captures up to 3.6e9).
MAX_SEED: Final = 4_294_967_295
MAX_PIXELS: Final = 3_145_728  # 3 MiP
MAX_SIDE: Final = 2048
SIZE_STEP: Final = 64
MIN_STEPS: Final = 1
MAX_STEPS: Final = 50
MAX_SCALE: Final = 10.0
MAX_VIBES: Final = 16
MAX_CHARACTER_REFERENCES: Final = 16
FREE_VIBES: Final = 4  # vibes beyond this cost extra per generation

# n_samples allowed by image area: (max pixels, max samples), first match wins.
SAMPLES_BY_AREA: Final[tuple[tuple[int, int], ...]] = (
    (360_448, 8),
    (409_600, 6),
    (MAX_PIXELS, 4),
)


def max_samples_for_area(width: int, height: int) -> int:
    """How many samples NovelAI accepts in one request at this size (0 if the size is too big)."""
    area = width * height
    for limit, samples in SAMPLES_BY_AREA:
        if area <= limit:
            return samples
    return 0


# Character positions: the web app's 5x5 grid, columns A-E left to right, rows 1-5 top to bottom.
GRID_COLUMNS: Final = "ABCDE"
GRID_ROWS: Final = "12345"
GRID_VALUES: Final[tuple[float, ...]] = (0.1, 0.3, 0.5, 0.7, 0.9)
GRID_CELLS: Final[tuple[str, ...]] = tuple(c + r for r in GRID_ROWS for c in GRID_COLUMNS)


def grid_center(cell: str) -> tuple[float, float]:
    """Centre (x, y) of a grid cell such as "C3"; raises ValueError for anything else."""
    name = cell.strip().upper()
    if len(name) != 2 or name[0] not in GRID_COLUMNS or name[1] not in GRID_ROWS:
        raise ValueError(f"position {cell!r} is not a grid cell A1..E5")
    return GRID_VALUES[GRID_COLUMNS.index(name[0])], GRID_VALUES[GRID_ROWS.index(name[1])]


def snap_to_grid(value: float) -> float:
    """The nearest grid value (0.1, 0.3, 0.5, 0.7, 0.9), as V4/V4.5 require."""
    return min(GRID_VALUES, key=lambda g: (abs(g - value), g))


# Subscription tiers (contract §9).
TIER_NAMES: Final[dict[int, str]] = {0: "Paper", 1: "Tablet", 2: "Scroll", 3: "Opus"}
OPUS_TIER: Final = 3

# Director tools output sizes are the image's own, limits as for generation; upscale source limit.
UPSCALE_MAX_WIDTH: Final = 1536
UPSCALE_MAX_HEIGHT: Final = 2048
UPSCALE_MODEL: Final = "nai-diffusion-5-curated"

# Enhance levels 1-5 → (strength, noise) (contract §9).
ENHANCE_LEVELS: Final[dict[int, tuple[float, float]]] = {
    1: (0.2, 0.0),
    2: (0.4, 0.0),
    3: (0.5, 0.0),
    4: (0.6, 0.0),
    5: (0.7, 0.1),
}

# Character-reference letterbox canvases by orientation (contract §8).
REFERENCE_CANVAS_PORTRAIT: Final = (1024, 1536)
REFERENCE_CANVAS_LANDSCAPE: Final = (1536, 1024)
REFERENCE_CANVAS_SQUARE: Final = (1472, 1472)
V3_VIBE_CANVAS: Final = (448, 448)

# Web-app size presets (name → (width, height)), offered by nodes and the CLI.
SIZE_PRESETS: Final[dict[str, tuple[int, int]]] = {
    "Normal Portrait 832x1216": (832, 1216),
    "Normal Landscape 1216x832": (1216, 832),
    "Normal Square 1024x1024": (1024, 1024),
    "Large Portrait 1024x1536": (1024, 1536),
    "Large Landscape 1536x1024": (1536, 1024),
    "Large Square 1472x1472": (1472, 1472),
    "Wallpaper Portrait 1088x1920": (1088, 1920),
    "Wallpaper Landscape 1920x1088": (1920, 1088),
    "Small Portrait 512x768": (512, 768),
    "Small Landscape 768x512": (768, 512),
    "Small Square 640x640": (640, 640),
}
