"""Upper bounds on what an image costs in prompt tokens, from the providers' published
formulas; an image whose size is unknown (a URL, unreadable data) costs the worst case.

OpenAI (platform.openai.com/docs/guides/images-vision, "Calculating costs"):
- tile models: the image is fitted into 2048 x 2048, then its shortest side scaled to 768;
  each 512-px tile costs `tile` tokens, plus `base` (detail "low": `base` only). At most 8.
- patch models: 32-px patches, at most 1,536, times a per-model multiplier.
Anthropic (docs.anthropic.com, Vision, "Evaluate image size"): width x height / 750 tokens;
larger images are scaled down first, so never more than about 1,600.
"""

from __future__ import annotations

import io
import math
import warnings
from dataclasses import dataclass

from hub.model import ImagePart

MAX_TILES = 8  # 768 x 2048 after the two resizes: 2 x 4 tiles
MAX_PATCHES = 1_536
ANTHROPIC_MAX_IMAGE_TOKENS = 1_600
ANTHROPIC_PIXELS_PER_TOKEN = 750


@dataclass(frozen=True, slots=True)
class Tiles:
    base: int
    tile: int


@dataclass(frozen=True, slots=True)
class Patches:
    multiplier: float


# Longest prefix wins; dated names ("gpt-4o-2024-08-06") and routed ones ("openai/gpt-4o")
# match their family.
OPENAI_FORMULAS: tuple[tuple[str, Tiles | Patches], ...] = (
    ("gpt-4.1-mini", Patches(1.62)),
    ("gpt-4.1-nano", Patches(2.46)),
    ("gpt-5-mini", Patches(1.62)),
    ("gpt-5-nano", Patches(2.46)),
    ("o4-mini", Patches(1.72)),
    ("gpt-4o-mini", Tiles(2_833, 5_667)),
    ("computer-use-preview", Tiles(65, 129)),
    ("chatgpt-4o", Tiles(85, 170)),
    ("gpt-4o", Tiles(85, 170)),
    ("gpt-4.1", Tiles(85, 170)),
    ("gpt-4.5", Tiles(85, 170)),
    ("gpt-5", Tiles(70, 140)),
    ("o1", Tiles(75, 150)),
    ("o3", Tiles(75, 150)),
)
# A model the table does not know (another OpenAI-compatible server): the dearest formula.
UNKNOWN_OPENAI = Tiles(2_833, 5_667)


def image_size(image: ImagePart) -> tuple[int, int] | None:
    """Width and height read from the image's header (nothing is decoded); None if unknown."""
    if image.data is None:
        return None
    from PIL import Image  # imported on use: most requests carry no image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a huge image is only measured, never decoded
            with Image.open(io.BytesIO(image.data)) as opened:
                width, height = opened.size
    except (OSError, ValueError, Image.DecompressionBombError, SyntaxError):
        return None
    if width < 1 or height < 1:
        return None
    return int(width), int(height)


def openai_formula(model: str) -> Tiles | Patches:
    name = model.rsplit("/", 1)[-1].lower()
    for prefix, formula in OPENAI_FORMULAS:
        if name.startswith(prefix):
            return formula
    return UNKNOWN_OPENAI


def openai_image_tokens(image: ImagePart, *, model: str) -> int:
    formula = openai_formula(model)
    size = image_size(image)
    if isinstance(formula, Patches):
        patches = MAX_PATCHES
        if size is not None:
            patches = min(MAX_PATCHES, math.ceil(size[0] / 32) * math.ceil(size[1] / 32))
        return math.ceil(patches * formula.multiplier)
    if image.detail == "low":
        return formula.base
    tiles = MAX_TILES if size is None else _tiles(*size)
    return formula.base + formula.tile * tiles


def _tiles(pixels_wide: int, pixels_high: int) -> int:
    scale = min(1.0, 2048 / max(pixels_wide, pixels_high))
    width, height = pixels_wide * scale, pixels_high * scale
    # Scaled to a 768-px shortest side, up or down (the guide's wording allows either; an
    # upper bound must assume the dearer).
    scale = 768 / min(width, height)
    width, height = width * scale, height * scale
    return min(MAX_TILES, math.ceil(width / 512) * math.ceil(height / 512))


def anthropic_image_tokens(image: ImagePart) -> int:
    size = image_size(image)
    if size is None:
        return ANTHROPIC_MAX_IMAGE_TOKENS
    return min(
        ANTHROPIC_MAX_IMAGE_TOKENS, math.ceil(size[0] * size[1] / ANTHROPIC_PIXELS_PER_TOKEN)
    )


def image_tokens(image: ImagePart, *, provider_type: str | None, model: str) -> int:
    """The bound for one image sent to a provider of `provider_type` serving `model`; with
    neither known, the largest any formula gives."""
    if provider_type == "anthropic":
        return anthropic_image_tokens(image)
    if provider_type == "openai":
        return openai_image_tokens(image, model=model)
    return max(anthropic_image_tokens(image), openai_image_tokens(image, model=""))
