"""Pixtral image preprocessing, driven by `preprocessor_config.json`.

RGB uint8 -> shrink so the longest side fits (min of the config's longest_edge and the
`max_image_edge` latency limit) -> round each side up to a multiple of patch * merge (28) ->
bicubic resize -> scale 1/255 -> normalise with mean/std -> float32 NCHW [1, 3, H, W].
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PIL import Image

from ministral_node.engine.model_files import ModelError

_RESAMPLE = {0: Image.NEAREST, 1: Image.LANCZOS, 2: Image.BILINEAR, 3: Image.BICUBIC,
             4: Image.BOX, 5: Image.HAMMING}


@dataclass(frozen=True)
class ImageConfig:
    """What preprocessing needs from `preprocessor_config.json` and `config.json`."""

    patch_size: int = 14
    merge_size: int = 2
    longest_edge: int = 1540
    mean: tuple[float, float, float] = (0.48145466, 0.4578275, 0.40821073)
    std: tuple[float, float, float] = (0.26862954, 0.26130258, 0.27577711)
    rescale: float = 1 / 255
    resample: int = 3

    @property
    def block(self) -> int:
        """Pixels per image token along one side (patch * merge = 28)."""
        return self.patch_size * self.merge_size

    @classmethod
    def from_json(cls, preprocessor: dict, config: dict | None = None) -> ImageConfig:
        try:
            patch = preprocessor.get('patch_size', 14)
            if isinstance(patch, dict):
                patch = patch['height']
            merge = (config or {}).get('spatial_merge_size',
                                       preprocessor.get('spatial_merge_size', 2))
            size = preprocessor.get('size', {})
            longest = size.get('longest_edge', 1540) if isinstance(size, dict) else int(size)
            mean = tuple(float(v) for v in preprocessor.get('image_mean', cls.mean))
            std = tuple(float(v) for v in preprocessor.get('image_std', cls.std))
            if len(mean) != 3 or len(std) != 3:
                raise ValueError('image_mean and image_std need three values')
            return cls(int(patch), int(merge), int(longest), mean, std,
                       float(preprocessor.get('rescale_factor', 1 / 255)),
                       int(preprocessor.get('resample', 3)))
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelError(f'preprocessor_config.json is not a Pixtral config: {exc}') from exc


@dataclass(frozen=True)
class PreparedImage:
    """Pixel values for the vision encoder and the image-token grid they produce."""

    pixel_values: np.ndarray  # float32 [1, 3, H, W]
    rows: int
    cols: int

    @property
    def num_tokens(self) -> int:
        return self.rows * self.cols


def target_size(height: int, width: int, config: ImageConfig,
                max_edge: int | None = None) -> tuple[int, int]:
    """(height, width) after shrinking to the edge limit and rounding up to whole blocks."""
    limit = config.longest_edge if not max_edge else min(config.longest_edge, max_edge)
    ratio = max(height / limit, width / limit)
    if ratio > 1:
        height, width = int(math.floor(height / ratio)), int(math.floor(width / ratio))
    block = config.block
    return (max(1, math.ceil(height / block)) * block, max(1, math.ceil(width / block)) * block)


def preprocess(image: np.ndarray, config: ImageConfig, max_edge: int | None = None
               ) -> PreparedImage:
    """Pixel values for an RGB uint8 image of shape (H, W, 3)."""
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f'expected an RGB uint8 image (H, W, 3), got {image.dtype} '
                         f'{tuple(image.shape)}')
    height, width = target_size(image.shape[0], image.shape[1], config, max_edge)
    resized = np.asarray(Image.fromarray(image).resize(
        (width, height), _RESAMPLE.get(config.resample, Image.BICUBIC)), dtype=np.float32)
    mean = np.asarray(config.mean, np.float32)
    std = np.asarray(config.std, np.float32)
    normalised = (resized * np.float32(config.rescale) - mean) / std
    pixels = np.ascontiguousarray(normalised.transpose(2, 0, 1)[None], dtype=np.float32)
    return PreparedImage(pixels, height // config.block, width // config.block)
