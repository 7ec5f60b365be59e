"""sensor_msgs/Image and CompressedImage fields to RGB, and every way they can be wrong."""

import base64
import io
import struct

import cv2
import numpy as np
import pytest
from PIL import Image as PILImage

from ministral_node.inputs.image_conversion import (
    SUPPORTED_ENCODINGS,
    CompressedImageData,
    ImageError,
    RawImage,
    check_compressed,
    check_raw,
    decode_compressed,
    decode_data_url,
    decode_raw,
    encode_raw,
)
from ministral_node.inputs.image_headers import looks_like
from ministral_node.tools.fuzz import (
    dds_without_pixel_format,
    jpeg_bytes,
    png_bytes,
    sample_images,
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
    (_jpeg(RGB)[: len(_jpeg(RGB)) // 2],
     r'JPEG image \(\d+ bytes\) cannot be decoded: OSError: image file is truncated'),
    (b'\xff\xd8\xff' + b'garbage' * 30, 'JPEG ends before its frame header'),
    (b'hello world', "is not a JPEG or PNG: the bytes look like text starting 'hello world'"),
    (b'\x89PNG\r\n\x1a\n' + b'\0' * 30, 'PNG without an IHDR chunk'),
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


# Only JPEG and PNG, told by their bytes; sizes from the header before any decoder runs.

SAMPLES = sample_images()


@pytest.mark.parametrize('name', sorted(set(SAMPLES) - {'JPEG', 'JPEG-progressive', 'PNG'}))
def test_formats_other_than_jpeg_and_png_are_refused_by_their_bytes(name):
    for fmt in ('jpeg', 'png', name.lower()):  # whatever the message's format says
        with pytest.raises(ImageError, match='is not a JPEG or PNG: the bytes look like') as info:
            decode_compressed(CompressedImageData(fmt, SAMPLES[name]))
        assert f"compressed image ('{fmt}', {len(SAMPLES[name])} bytes)" in str(info.value)


def test_every_format_pillow_writes_here_is_named():
    assert {'GIF', 'BMP', 'TIFF', 'DDS', 'PPM'} <= set(SAMPLES)
    for name, data in SAMPLES.items():
        assert not looks_like(data).startswith('unknown bytes'), name


def test_the_dds_that_crashed_the_node_is_an_image_error():
    data = dds_without_pixel_format()
    assert len(data) == 176
    with pytest.raises(NotImplementedError):  # what Pillow alone does with it
        with PILImage.open(io.BytesIO(data)) as picture:
            picture.load()
    with pytest.raises(ImageError, match='look like a DDS texture'):
        decode_compressed(CompressedImageData('jpeg', data))


@pytest.mark.parametrize('name', ['JPEG', 'JPEG-progressive', 'PNG'])
def test_header_sizes_are_read_without_decoding(name):
    assert check_compressed(CompressedImageData('', SAMPLES[name]), 10_000) == \
        (name.split('-')[0].lower(), 32, 24)
    assert decode_compressed(CompressedImageData('', SAMPLES[name])).shape == (24, 32, 3)


def _refuse_decoding(monkeypatch):
    def no_decoder(*args, **kwargs):
        raise AssertionError('a decoder ran')
    monkeypatch.setattr(PILImage, 'open', no_decoder)


@pytest.mark.parametrize('kind', ['png', 'jpeg'])
def test_a_decompression_bomb_is_refused_from_its_header(monkeypatch, kind):
    picture = np.zeros((2000, 1500, 3), np.uint8)  # 3 Mpx of zeros: a few kB compressed
    data = png_bytes(picture) if kind == 'png' else jpeg_bytes(picture)
    assert len(data) < 100_000
    _refuse_decoding(monkeypatch)
    with pytest.raises(ImageError, match=f'{kind} image of 1500x2000 = 3000000 px exceeds '
                                         'max_image_pixels=2000000'):
        decode_compressed(CompressedImageData(kind, data), 2_000_000)


def test_a_forged_header_is_checked_before_decoding(monkeypatch):
    png = bytearray(SAMPLES['PNG'])
    png[16:24] = (2**31 - 1).to_bytes(4, 'big') + (2**31 - 1).to_bytes(4, 'big')
    jpeg = bytearray(SAMPLES['JPEG'])
    sof = jpeg.index(b'\xff\xc0')
    jpeg[sof + 5:sof + 9] = (0).to_bytes(2, 'big') + (640).to_bytes(2, 'big')
    _refuse_decoding(monkeypatch)
    with pytest.raises(ImageError, match='png image side over 32768 px'):
        decode_compressed(CompressedImageData('png', bytes(png)))
    with pytest.raises(ImageError, match=r'zero-size jpeg image \(640x0\)'):
        decode_compressed(CompressedImageData('jpeg', bytes(jpeg)))


def test_a_jpeg_with_large_metadata_segments_before_its_frame_header():
    jpeg = SAMPLES['JPEG']
    app = b'\xff\xe2' + (65_535).to_bytes(2, 'big') + bytes(65_533)  # e.g. an ICC profile
    data = jpeg[:2] + app * 3 + jpeg[2:]
    assert check_compressed(CompressedImageData('jpeg', data), 10_000) == ('jpeg', 32, 24)
    assert decode_compressed(CompressedImageData('jpeg', data)).shape == (24, 32, 3)


@pytest.mark.parametrize('error', [NotImplementedError('plugin'), MemoryError(),
                                   struct.error('unpack'), IndexError('x'), RuntimeError('?')])
def test_any_decoder_exception_becomes_an_image_error(monkeypatch, error):
    def broken(*args, **kwargs):
        raise error
    monkeypatch.setattr(PILImage, 'open', broken)
    name = type(error).__name__
    with pytest.raises(ImageError, match=f'PNG image .* cannot be decoded: {name}'):
        decode_compressed(CompressedImageData('png', SAMPLES['PNG']))


def test_any_raw_conversion_exception_becomes_an_image_error(monkeypatch):
    def broken(*args):
        raise cv2.error('bad conversion')
    monkeypatch.setattr(cv2, 'cvtColor', broken)
    with pytest.raises(ImageError, match='raw bgr8 image cannot be converted: error: bad'):
        decode_raw(RawImage(64, 48, 'bgr8', 192, RGB.tobytes()))


def test_data_urls_go_through_the_same_checks(monkeypatch):
    def url(data: bytes, mime: str = 'image/jpeg') -> str:
        return f'data:{mime};base64,' + base64.b64encode(data).decode()

    assert decode_data_url(url(SAMPLES['PNG'], 'image/png'), 10_000).shape == (24, 32, 3)
    with pytest.raises(ImageError, match='look like a GIF'):
        decode_data_url(url(SAMPLES['GIF']), 10_000)
    with pytest.raises(ImageError, match='look like a DDS texture'):
        decode_data_url(url(dds_without_pixel_format()), 10_000)
    with pytest.raises(ImageError, match='exceeds max_image_pixels=100'):
        decode_data_url(url(SAMPLES['JPEG']), 100)


def test_a_jpeg_padded_with_markers_is_refused_after_a_bounded_walk():
    jpeg = SAMPLES['JPEG']
    padded = jpeg[:2] + b'\xff\xfe\x00\x02' * 5000 + jpeg[2:]  # 5000 empty comments
    with pytest.raises(ImageError, match='JPEG with over 1000 markers before its frame header'):
        check_compressed(CompressedImageData('jpeg', padded), 10_000)
    fill = jpeg[:2] + b'\xff' * 100_000 + jpeg[2:]
    with pytest.raises(ImageError, match='over 1000 markers'):
        check_compressed(CompressedImageData('jpeg', fill), 10_000)
