"""Generation and the other endpoints against the simulator: results, keep-alive, multipart."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from novelai_core.contract.constants import PATH_ENCODE_VIBE, PATH_GENERATE, PATH_SUBSCRIPTION
from novelai_core.errors import InputError
from novelai_core.metadata.reader import read_text_chunks
from novelai_core.models.user import (
    Character,
    GenerationSettings,
    Img2ImgSource,
    InpaintSource,
    Vibe,
)
from novelai_core.simulator import Simulator
from tests.client_helpers import V5, client_for, requests_to, small_request


def _png(size: tuple[int, int], colour: tuple[int, int, int] = (30, 120, 200)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, "PNG")
    return buffer.getvalue()


def test_generate_returns_original_pngs_with_seed_plus_index_and_metadata(
    simulator: Simulator,
) -> None:
    result = client_for(simulator).generate(small_request(samples=3, seed=500))
    assert [(i.index, i.seed) for i in result.images] == [(0, 500), (1, 501), (2, 502)]
    first = result.images[0]
    assert first.png.startswith(b"\x89PNG") and first.format == "png"
    assert read_text_chunks(first.png)["Software"] == "NovelAI"  # bytes untouched
    assert first.metadata is not None and first.metadata.seed == 500
    assert first.image.size == (256, 384)
    assert result.seed == 500 and result.estimate is not None


@pytest.mark.parametrize("stream", [False, True])
def test_a_webp_answer_is_in_data_and_png_is_only_its_old_name(
    simulator: Simulator, stream: bool
) -> None:
    settings = GenerationSettings(width=256, height=384, steps=6, seed=9, image_format="webp")
    request = small_request().model_copy(update={"settings": settings})
    (image,) = client_for(simulator).generate(request, stream=stream).images
    assert image.format == "webp" and image.data.startswith(b"RIFF")
    assert image.png is image.data
    assert Image.open(io.BytesIO(image.data)).format == "WEBP"


def test_a_missing_seed_is_drawn_and_reported(simulator: Simulator) -> None:
    result = client_for(simulator).generate(small_request(seed=None))
    assert result.seed is not None
    assert result.request is not None and result.request.settings.seed == result.seed
    assert simulator.requests_seen(PATH_GENERATE)[-1]["parameters"]["seed"] == result.seed


def test_ten_sequential_generations_use_one_connection(simulator: Simulator) -> None:
    client = client_for(simulator)
    for _ in range(10):
        client.generate(small_request())
    assert simulator.stats()["connections"] == 1


def test_streamed_generations_also_reuse_the_connection(simulator: Simulator) -> None:
    client = client_for(simulator)
    for _ in range(3):
        client.generate(small_request(), stream=True)
    assert simulator.stats()["connections"] == 1


def test_v5_img2img_goes_as_json_with_the_image_inline_and_is_accepted(
    simulator: Simulator,
) -> None:
    # R9 d: one request format, the schema's JSON with base64, for every model and action.
    source = Img2ImgSource(image=_png((256, 384)), strength=0.5)
    result = client_for(simulator).generate(small_request(V5, source=source))
    assert len(result.images) == 1
    sent = simulator.requests_seen(PATH_GENERATE)[-1]
    assert sent["action"] == "img2img"
    assert "_parts" not in sent
    assert sent["parameters"]["image"].startswith("<image sha256=")  # inline base64, elided


def test_v5_inpaint_sends_image_and_mask_inline(simulator: Simulator) -> None:
    mask = Image.new("L", (256, 384), 0)
    mask.paste(255, (64, 64, 192, 192))
    source = InpaintSource(image=_png((256, 384)), mask=mask)
    result = client_for(simulator).generate(small_request(V5, source=source))
    assert len(result.images) == 1
    sent = simulator.requests_seen(PATH_GENERATE)[-1]["parameters"]
    assert sent["mask"].startswith("<image sha256=")
    assert sent["extra_noise_seed"] == sent["seed"] - 1


def test_characters_on_v45_are_generated(simulator: Simulator) -> None:
    chars = (
        Character(prompt="girl, red hair", position="B3"),
        Character(prompt="boy", position="D3"),
    )
    result = client_for(simulator).generate(small_request(characters=chars))
    assert len(result.images) == 1
    captions = simulator.requests_seen(PATH_GENERATE)[-1]["parameters"]["v4_prompt"]["caption"]
    assert len(captions["char_captions"]) == 2


class _MemoryStore:
    def __init__(self) -> None:
        self.data: dict[tuple[bytes, str, float], bytes] = {}

    def get(self, image: bytes, model: str, information_extracted: float) -> bytes | None:
        return self.data.get((image, model, information_extracted))

    def put(self, image: bytes, model: str, information_extracted: float, data: bytes) -> None:
        self.data[(image, model, information_extracted)] = data


def test_v4_vibes_are_encoded_once_then_taken_from_the_store(simulator: Simulator) -> None:
    store = _MemoryStore()
    client = client_for(simulator, vibe_store=store)
    request = small_request(vibes=(Vibe(image=_png((64, 64)), information_extracted=0.7),))
    assert client.estimate(request, tier=0).extras == 2  # one encode to pay for
    client.generate(request)
    client.generate(request)
    assert requests_to(simulator, PATH_ENCODE_VIBE) == 1
    assert client.estimate(request, tier=0).extras == 0
    assert len(store.data) == 1


def test_an_encoding_that_does_not_name_its_model_is_refused_before_any_request(
    simulator: Simulator,
) -> None:
    vibe = Vibe(image=_png((64, 64)), encoding=b"made for some model")
    with pytest.raises(InputError, match=r"vibes\[0\]\.encoding_model"):
        client_for(simulator).generate(small_request(vibes=(vibe,)))
    assert simulator.stats()["requests"] == {}


def test_estimate_fetches_the_tier_once_and_caches_it(simulator: Simulator) -> None:
    client = client_for(simulator)
    request = small_request(samples=1, steps=28)
    assert client.estimate(request).total == 0  # Opus, small image: free
    assert client.estimate(request).total == 0
    assert requests_to(simulator, PATH_SUBSCRIPTION) == 1
    assert client.estimate(request, tier=0).total > 0


def test_subscription_reports_tier_anlas_and_usage(simulator: Simulator) -> None:
    simulator.set_balance(None, 1234)
    info = client_for(simulator).subscription()
    assert (info.tier, info.tier_name, info.active) == (3, "Opus", True)
    assert info.anlas == info.fixed_anlas + info.purchased_anlas == 1234
    assert info.v5_usage_percent is not None


def test_encode_vibe_returns_the_opaque_bytes(simulator: Simulator) -> None:
    data = client_for(simulator).encode_vibe(
        _png((64, 64)), model="nai-diffusion-4-5-full", information_extracted=1.0
    )
    assert isinstance(data, bytes) and len(data) > 16


def test_augment_and_upscale_return_images(simulator: Simulator) -> None:
    client = client_for(simulator)
    lineart = client.augment("lineart", _png((256, 256)))
    assert [i.image.size for i in lineart.images] == [(256, 256)]
    assert len(client.augment("bg-removal", _png((256, 256))).images) == 3
    upscaled = client.upscale(_png((128, 192)))
    assert upscaled.images[0].image.size == (256, 384)


def test_suggest_tags_returns_typed_suggestions(simulator: Simulator) -> None:
    tags = client_for(simulator).suggest_tags("cat e", model="nai-diffusion-4-5-full")
    assert tags and all(t.tag and t.confidence >= 0 for t in tags)


def test_the_client_takes_the_schemas_201_answers_as_success(simulator: Simulator) -> None:
    # R14 a: the schema documents 201 for encode-vibe and augment-image (live NovelAI answers
    # 200); one old client broke on a 201, so any 2xx must do.
    simulator.use_schema_statuses()
    client = client_for(simulator)
    assert client.encode_vibe(
        _png((64, 64)), model="nai-diffusion-4-5-full", information_extracted=1
    )
    assert len(client.augment("lineart", _png((64, 64))).images) == 1
