"""sensor_msgs/Image and CompressedImage fields to RGB, and every way they can be wrong."""

import cv2
import numpy as np
import pytest

from ministral_node.image_conversion import (
    SUPPORTED_ENCODINGS,
    CompressedImageData,
    ImageError,
    RawImage,
    check_raw,
    decode_compressed,
    decode_raw,
    encode_raw,
)

RNG = np.random.default_rng(7)
RGB = RNG.integers(0, 256, (48, 64, 3), dtype=np.uint8)


@pytest.mark.parametrize('encoding', ['rgb8', 'bgr8', 'rgba8', 'bgra8'])
def test_colour_encodings_round_trip(encoding):
    assert np.array_equal(decode_raw(encode_raw(RGB, encoding)), RGB)


def test_mono8_becomes_grey_rgb():
    out = decode_raw(encode_raw(RGB, 'mono8'))
    grey = cv2.cvtColor(RGB, cv2.COLOR_RGB2GRAY)
    assert out.shape == (48, 64, 3)
    assert np.array_equal(out[:, :, 0], grey) and np.array_equal(out[:, :, 2], grey)


@pytest.mark.parametrize('bigendian', [False, True])
def test_mono16_is_stretched_to_8_bits_in_either_byte_order(bigendian):
    gray = np.linspace(1000, 5000, 48 * 64).reshape(48, 64).astype('>u2' if bigendian else '<u2')
    raw = RawImage(64, 48, 'mono16', 128, gray.tobytes(), bigendian)
    out = decode_raw(raw)
    assert out.shape == (48, 64, 3)
    assert out[0, 0, 0] == 0 and out[-1, -1, 0] == 255
    assert np.all(np.diff(out[:, :, 0].ravel().astype(int)) >= 0)


def test_padded_rows_are_cropped():
    padded = np.zeros((48, 64 * 3 + 8), np.uint8)
    padded[:, :64 * 3] = RGB.reshape(48, -1)
    out = decode_raw(RawImage(64, 48, 'rgb8', 64 * 3 + 8, padded.tobytes()))
    assert np.array_equal(out, RGB)


def test_yuv422_and_bayer_decode_to_rgb():
    uyvy = cv2.cvtColor(RGB, cv2.COLOR_RGB2YUV).reshape(-1, 3)
    packed = np.zeros((48, 64 * 2), np.uint8)
    packed[:, 1::2] = uyvy[:, 0].reshape(48, 64)
    packed[:, 0::4] = 128
    packed[:, 2::4] = 128
    out = decode_raw(RawImage(64, 48, 'uyvy', 128, packed.tobytes()))
    assert out.shape == (48, 64, 3)
    bayer = decode_raw(RawImage(64, 48, 'bayer_rggb8', 64, RGB[:, :, 0].tobytes()))
    assert bayer.shape == (48, 64, 3)


def test_every_supported_encoding_decodes_a_consistent_message():
    for encoding in SUPPORTED_ENCODINGS:
        channels = {'rgb8': 3, 'bgr8': 3, '8UC3': 3, 'rgba8': 4, 'bgra8': 4, '8UC4': 4,
                    'mono16': 2, '16UC1': 2, 'yuv422': 2, 'uyvy': 2, 'yuv422_yuy2': 2,
                    'yuyv': 2}.get(encoding, 1)
        data = RNG.integers(0, 256, 48 * 64 * channels, dtype=np.uint8).tobytes()
        out = decode_raw(RawImage(64, 48, encoding, 64 * channels, data))
        assert out.shape == (48, 64, 3) and out.dtype == np.uint8, encoding


@pytest.mark.parametrize('raw, message', [
    (RawImage(64, 48, 'rgb8', 192, b'\0' * 100), 'data holds 100 bytes'),
    (RawImage(64, 48, 'rgb8', 100, b'\0' * 4800), 'step 100 is smaller'),
    (RawImage(64, 48, 'rgb8', 192, b'\0' * (192 * 47)), 'needs 9216'),
    (RawImage(64, 48, 'mono16', 64, b'\0' * (64 * 48)), 'step 64 is smaller'),
    (RawImage(64, 48, 'jpeg', 192, b'\0' * 9216), "unsupported encoding 'jpeg'"),
    (RawImage(64, 48, '32FC1', 256, b'\0' * 12288), "unsupported encoding '32FC1'"),
    (RawImage(0, 0, 'rgb8', 0, b''), 'zero-size image'),
    (RawImage(64, 0, 'rgb8', 192, b''), 'zero-size image'),
    (RawImage(7, 2, 'uyvy', 14, b'\0' * 28), 'even width'),
    (RawImage(40000, 1, 'mono8', 40000, b'\0' * 40000), 'side over'),
])
def test_inconsistent_messages_are_refused_with_the_reason(raw, message):
    with pytest.raises(ImageError, match=message):
        check_raw(raw, 40_000_000)
    with pytest.raises(ImageError, match=message):
        decode_raw(raw)


def test_an_8k_frame_decodes_and_a_pixel_limit_refuses_it():
    frame = np.zeros((4320, 7680, 3), np.uint8)
    frame[100:200, 300:400] = (255, 0, 0)
    raw = encode_raw(frame, 'bgr8')
    out = decode_raw(raw, 40_000_000)
    assert out.shape == (4320, 7680, 3) and tuple(out[150, 350]) == (255, 0, 0)
    with pytest.raises(ImageError, match='exceeds max_image_pixels=1000000'):
        check_raw(raw, 1_000_000)


def _jpeg(rgb: np.ndarray) -> bytes:
    ok, data = cv2.imencode('.jpg', cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    assert ok
    return data.tobytes()


def test_jpeg_and_png_decode_to_rgb():
    solid = np.full((32, 48, 3), (200, 30, 40), np.uint8)
    out = decode_compressed(CompressedImageData('jpeg', _jpeg(solid)))
    assert out.shape == (32, 48, 3)
    assert np.abs(out.astype(int) - solid).max() < 12
    ok, png = cv2.imencode('.png', cv2.cvtColor(RGB, cv2.COLOR_RGB2BGR))
    out = decode_compressed(CompressedImageData('bgr8; png compressed bgr8', png.tobytes()))
    assert np.array_equal(out, RGB)


@pytest.mark.parametrize('data, message', [
    (_jpeg(RGB)[: len(_jpeg(RGB)) // 2], 'cannot be decoded: image file is truncated'),
    (b'\xff\xd8\xff' + b'garbage' * 30, 'not a recognisable JPEG or PNG'),
    (b'hello world', 'not a recognisable JPEG or PNG'),
    (b'', 'has no data'),
])
def test_corrupt_compressed_images_are_refused(data, message):
    with pytest.raises(ImageError, match=message):
        decode_compressed(CompressedImageData('jpeg', data))


def test_compressed_depth_and_oversized_images_are_refused():
    with pytest.raises(ImageError, match='compressed depth'):
        decode_compressed(CompressedImageData('16UC1; compressedDepth', b'x'))
    with pytest.raises(ImageError, match='exceeds max_image_pixels=100'):
        decode_compressed(CompressedImageData('jpeg', _jpeg(RGB)), max_pixels=100)
