"""Camera images (the fields of sensor_msgs/Image and CompressedImage) to RGB arrays.

No cv_bridge: numpy and OpenCV only. `check_raw` is cheap (header and size checks, for the
camera callback); `decode_raw` and `decode_compressed` do the pixel work when a decision needs
the frame.
"""

from __future__ import annotations

import base64
import binascii
import io
import re
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image as PILImage

from ministral_node.inputs.image_headers import ImageError, header_size, sniff

# encoding -> (channels, numpy dtype, conversion to RGB)
_LAYOUTS: dict[str, tuple[int, str, int | None]] = {
    'rgb8': (3, 'u1', None),
    'bgr8': (3, 'u1', cv2.COLOR_BGR2RGB),
    'rgba8': (4, 'u1', cv2.COLOR_RGBA2RGB),
    'bgra8': (4, 'u1', cv2.COLOR_BGRA2RGB),
    'mono8': (1, 'u1', cv2.COLOR_GRAY2RGB),
    'mono16': (1, 'u2', cv2.COLOR_GRAY2RGB),
    '8UC1': (1, 'u1', cv2.COLOR_GRAY2RGB),
    '8UC3': (3, 'u1', cv2.COLOR_BGR2RGB),
    '8UC4': (4, 'u1', cv2.COLOR_BGRA2RGB),
    '16UC1': (1, 'u2', cv2.COLOR_GRAY2RGB),
    'bayer_rggb8': (1, 'u1', cv2.COLOR_BayerBG2RGB),
    'bayer_bggr8': (1, 'u1', cv2.COLOR_BayerRG2RGB),
    'bayer_gbrg8': (1, 'u1', cv2.COLOR_BayerGR2RGB),
    'bayer_grbg8': (1, 'u1', cv2.COLOR_BayerGB2RGB),
    'yuv422': (2, 'u1', cv2.COLOR_YUV2RGB_UYVY),
    'uyvy': (2, 'u1', cv2.COLOR_YUV2RGB_UYVY),
    'yuv422_yuy2': (2, 'u1', cv2.COLOR_YUV2RGB_YUY2),
    'yuyv': (2, 'u1', cv2.COLOR_YUV2RGB_YUY2),
}

SUPPORTED_ENCODINGS = tuple(_LAYOUTS)
MAX_SIDE = 32_768


@dataclass(frozen=True)
class RawImage:
    """The fields of a sensor_msgs/Image that matter for decoding."""

    width: int
    height: int
    encoding: str
    step: int
    data: bytes | memoryview | bytearray
    is_bigendian: bool = False


@dataclass(frozen=True)
class CompressedImageData:
    """The fields of a sensor_msgs/CompressedImage."""

    format: str
    data: bytes | memoryview | bytearray


def pixel_bytes(encoding: str) -> int:
    """Bytes one pixel takes in a supported raw `encoding`."""
    channels, dtype, _ = _LAYOUTS[encoding]
    return channels * np.dtype(dtype).itemsize


@contextmanager
def _image_errors(what: str) -> Iterator[None]:
    """Turn any exception but ImageError into ImageError('<what>: <type>: <message>')."""
    try:
        yield
    except ImageError:
        raise
    except Exception as exc:
        raise ImageError(f'{what}: {type(exc).__name__}: {exc}') from exc


def check_size(width: int, height: int, max_pixels: int, what: str = 'image') -> None:
    """Raise ImageError unless width x height is a picture of at most `max_pixels`."""
    if width <= 0 or height <= 0:
        raise ImageError(f'zero-size {what} ({width}x{height})')
    if width > MAX_SIDE or height > MAX_SIDE:
        raise ImageError(f'{what} side over {MAX_SIDE} px ({width}x{height})')
    if width * height > max_pixels:
        raise ImageError(f'{what} of {width}x{height} = {width * height} px exceeds '
                         f'max_image_pixels={max_pixels}')


def check_raw(image: RawImage, max_pixels: int) -> None:
    """Raise ImageError if the header and the data do not describe a usable image."""
    with _image_errors(f'raw image ({image.encoding!r}) header is unusable'):
        _check_raw(image, max_pixels)


def _check_raw(image: RawImage, max_pixels: int) -> None:
    if image.encoding not in _LAYOUTS:
        raise ImageError(f'unsupported encoding {image.encoding!r} '
                         f'(supported: {", ".join(SUPPORTED_ENCODINGS)})')
    check_size(image.width, image.height, max_pixels)
    row_bytes = image.width * pixel_bytes(image.encoding)
    if image.encoding in ('yuv422', 'uyvy', 'yuv422_yuy2', 'yuyv') and image.width % 2:
        raise ImageError(f'{image.encoding} needs an even width, got {image.width}')
    if image.step < row_bytes:
        raise ImageError(f'step {image.step} is smaller than a {image.encoding} row of width '
                         f'{image.width} ({row_bytes} bytes)')
    needed = image.step * image.height
    if len(image.data) != needed:
        raise ImageError(f'data holds {len(image.data)} bytes, but step {image.step} x height '
                         f'{image.height} needs {needed}')


def _to_uint8(gray16: np.ndarray) -> np.ndarray:
    """Stretch a 16-bit single-channel image to 8 bits between its own min and max."""
    low, high = int(gray16.min()), int(gray16.max())
    if high == low:
        return np.zeros(gray16.shape, np.uint8)
    scaled = (gray16.astype(np.float32) - low) * (255.0 / (high - low))
    return scaled.astype(np.uint8)


def decode_raw(image: RawImage, max_pixels: int = 200_000_000) -> np.ndarray:
    """RGB uint8 array (height, width, 3) from a raw image; ImageError if it is not usable."""
    check_raw(image, max_pixels)
    with _image_errors(f'raw {image.encoding} image cannot be converted'):
        return _convert_raw(image)


def _convert_raw(image: RawImage) -> np.ndarray:
    channels, dtype, conversion = _LAYOUTS[image.encoding]
    dt = np.dtype(dtype).newbyteorder('>' if image.is_bigendian else '<')
    rows = np.frombuffer(image.data, np.uint8).reshape(image.height, image.step)
    row_bytes = image.width * channels * dt.itemsize
    pixels = np.ascontiguousarray(rows[:, :row_bytes]).view(dt)
    pixels = pixels.reshape(image.height, image.width, channels)
    if dt.itemsize == 2:
        pixels = _to_uint8(pixels.astype(np.uint16))
    if conversion is None:
        return np.ascontiguousarray(pixels)
    if channels == 1:
        pixels = pixels[:, :, 0]
    return cv2.cvtColor(np.ascontiguousarray(pixels), conversion)


def check_compressed(image: CompressedImageData, max_pixels: int) -> tuple[str, int, int]:
    """(kind, width, height) of a JPEG or PNG message from its bytes' header alone.

    ImageError if it is a depth image, empty, another format (whatever `format` says) or its
    header is broken or too large.
    """
    if 'compresseddepth' in str(image.format).lower():
        raise ImageError(f'compressed depth images are not supported (format {image.format!r})')
    if len(image.data) == 0:
        raise ImageError('compressed image has no data')
    data = memoryview(image.data).cast('B')  # no copy: the header walk reads few bytes
    what = f'compressed image ({image.format!r}, {len(image.data)} bytes)'
    with _image_errors(f'{what} header is unusable'):
        try:
            kind = sniff(bytes(data[:32]))
            width, height = header_size(kind, data)
        except ImageError as exc:
            raise ImageError(f'{what} is {exc}' if str(exc).startswith('not a ')
                             else f'{what}: {exc}') from None
        check_size(width, height, max_pixels, f'{kind} image')
    return kind, width, height


def decode_compressed(image: CompressedImageData, max_pixels: int = 200_000_000) -> np.ndarray:
    """RGB uint8 array from JPEG/PNG bytes; ImageError if corrupt, another format or too large.

    The format comes from the bytes (whatever `format` says) and the header's dimensions are
    checked against `max_pixels` before any decoder runs; nothing but ImageError escapes.
    """
    kind, width, height = check_compressed(image, max_pixels)
    what = f'{kind.upper()} image ({len(image.data)} bytes) cannot be decoded'
    with _image_errors(what):
        return _pillow_rgb(bytes(image.data), kind.upper(), (width, height), what)


def _pillow_rgb(data: bytes, fmt: str, size: tuple[int, int], what: str) -> np.ndarray:
    """Decode with Pillow's `fmt` plugin alone, to the size the header promised."""
    with warnings.catch_warnings():
        warnings.simplefilter('error', PILImage.DecompressionBombWarning)
        try:
            picture = PILImage.open(io.BytesIO(data), formats=[fmt])
        except PILImage.UnidentifiedImageError:
            raise ImageError(f'{what}: the {fmt} decoder does not accept its header') from None
        with picture:
            if picture.size != size:
                raise ImageError(f'{what}: the decoder reads {picture.size[0]}x'
                                 f'{picture.size[1]}, the header {size[0]}x{size[1]}')
            picture.load()  # raises on truncated or corrupt data, unlike cv2.imdecode
            return np.asarray(picture.convert('RGB'))


def encode_raw(rgb: np.ndarray, encoding: str) -> RawImage:
    """The inverse of `decode_raw` for 8-bit encodings (used by the demo and tests)."""
    inverse = {'rgb8': None, 'bgr8': cv2.COLOR_RGB2BGR, 'rgba8': cv2.COLOR_RGB2RGBA,
               'bgra8': cv2.COLOR_RGB2BGRA, 'mono8': cv2.COLOR_RGB2GRAY}
    if encoding not in inverse:
        raise ImageError(f'cannot encode to {encoding!r}')
    pixels = rgb if inverse[encoding] is None else cv2.cvtColor(rgb, inverse[encoding])
    pixels = np.ascontiguousarray(pixels)
    height, width = pixels.shape[:2]
    return RawImage(width, height, encoding, pixels.strides[0], pixels.tobytes())


_DATA_URL = re.compile(r'data:(?P<mime>image/[\w.+-]+)?(?:;[\w.+-]+=[^;,]*)*'
                       r';base64,(?P<data>.*)', re.DOTALL)


def jpeg_data_url(image: np.ndarray, max_edge: int, quality: int = 85) -> str:
    """`data:image/jpeg;base64,...` of an RGB uint8 image shrunk to at most `max_edge` a side."""
    picture = PILImage.fromarray(np.ascontiguousarray(image[..., :3]), 'RGB')
    scale = max_edge / max(picture.size)
    if scale < 1.0:
        size = tuple(max(1, round(side * scale)) for side in picture.size)
        picture = picture.resize(size, PILImage.BILINEAR, reducing_gap=2.0)
    buffer = io.BytesIO()
    picture.save(buffer, 'JPEG', quality=quality)
    return 'data:image/jpeg;base64,' + base64.b64encode(buffer.getvalue()).decode('ascii')


def decode_data_url(url: str, max_pixels: int) -> np.ndarray:
    """RGB uint8 pixels of a base64 JPEG/PNG data URL; ImageError if it is not one."""
    match = _DATA_URL.fullmatch(url.strip())
    if match is None:
        raise ImageError('an image must be a base64 data URL (data:image/jpeg;base64,...); '
                         'the server fetches nothing')
    try:
        data = base64.b64decode(match['data'], validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ImageError(f'the image data URL is not valid base64: {exc}') from exc
    return decode_compressed(CompressedImageData(match['mime'] or 'image', data), max_pixels)
