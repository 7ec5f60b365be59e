"""Pixtral preprocessing: sizes, values against a reference computation, config parsing."""

import numpy as np
import pytest
from PIL import Image

from ministral_node.engine.model_files import ModelError
from ministral_node.engine.preprocess import ImageConfig, preprocess, target_size

CONFIG = ImageConfig()


@pytest.mark.parametrize('size, max_edge, expected', [
    ((100, 150), None, (112, 168)),        # rounded up to whole 28-pixel blocks
    ((28, 28), None, (28, 28)),
    ((1, 1), None, (28, 28)),
    ((1080, 1920), None, (868, 1540)),     # longest side to 1540: 866 rounds up to 868
    ((1080, 1920), 448, (252, 448)),       # the latency limit shrinks first
    ((4000, 3000), 448, (448, 336)),
    ((300, 200), 448, (308, 224)),         # small frames are not enlarged
    ((1080, 1920), 5000, (868, 1540)),     # the model's own limit still applies
])
def test_target_size(size, max_edge, expected):
    assert target_size(*size, CONFIG, max_edge) == expected


def _reference(image: np.ndarray, height: int, width: int) -> np.ndarray:
    resized = np.asarray(Image.fromarray(image).resize((width, height), Image.BICUBIC),
                         dtype=np.float64)
    mean = np.array([0.48145466, 0.4578275, 0.40821073])
    std = np.array([0.26862954, 0.26130258, 0.27577711])
    out = np.empty((1, 3, height, width))
    for c in range(3):
        out[0, c] = (resized[:, :, c] / 255.0 - mean[c]) / std[c]
    return out


def test_values_match_a_reference_computation():
    rng = np.random.default_rng(3)
    image = rng.integers(0, 256, size=(90, 130, 3), dtype=np.uint8)
    prepared = preprocess(image, CONFIG)
    assert prepared.pixel_values.dtype == np.float32
    assert prepared.pixel_values.shape == (1, 3, 112, 140)
    assert (prepared.rows, prepared.cols, prepared.num_tokens) == (4, 5, 20)
    np.testing.assert_allclose(prepared.pixel_values, _reference(image, 112, 140), atol=1e-5)


def test_a_flat_colour_normalises_exactly():
    image = np.zeros((56, 56, 3), np.uint8)
    image[...] = (255, 0, 128)
    pixels = preprocess(image, CONFIG).pixel_values
    expected = [(1 - 0.48145466) / 0.26862954, (0 - 0.4578275) / 0.26130258,
                (128 / 255 - 0.40821073) / 0.27577711]
    for channel, value in enumerate(expected):
        np.testing.assert_allclose(pixels[0, channel], value, atol=1e-5)


def test_channels_stay_in_rgb_order():
    image = np.zeros((28, 28, 3), np.uint8)
    image[..., 0] = 255
    pixels = preprocess(image, CONFIG).pixel_values[0]
    assert pixels[0].mean() > 1.5 and pixels[1].mean() < 0 and pixels[2].mean() < 0


@pytest.mark.parametrize('bad', [np.zeros((10, 10), np.uint8), np.zeros((10, 10, 4), np.uint8),
                                 np.zeros((10, 10, 3), np.float32)])
def test_rejects_non_rgb_uint8(bad):
    with pytest.raises(ValueError, match='expected an RGB uint8 image'):
        preprocess(bad, CONFIG)


def test_config_from_the_published_files():
    config = ImageConfig.from_json(
        {'patch_size': {'height': 16, 'width': 16}, 'size': {'longest_edge': 1024},
         'image_mean': [0.5, 0.5, 0.5], 'image_std': [0.5, 0.5, 0.5], 'rescale_factor': 0.5},
        {'spatial_merge_size': 1})
    assert (config.block, config.longest_edge, config.mean, config.rescale) == \
        (16, 1024, (0.5, 0.5, 0.5), 0.5)
    assert ImageConfig.from_json({'patch_size': 14}).block == 28
    with pytest.raises(ModelError, match='not a Pixtral config'):
        ImageConfig.from_json({'image_mean': [0.5]})
