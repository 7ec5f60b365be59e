"""Compressed images recognised by their bytes, and their size read from the header alone.

Only JPEG and PNG are decoded. The format is told by the magic bytes (never by the message's
`format` string) and the dimensions come from the PNG IHDR chunk or the JPEG SOFn segment, so a
decompression bomb or a format no decoder should see is refused before any decoder runs.
Pure Python on bytes: cheap enough for the camera callback.
"""

from __future__ import annotations

import string

JPEG = 'jpeg'
PNG = 'png'
JPEG_MAGIC = b'\xff\xd8\xff'
PNG_MAGIC = b'\x89PNG\r\n\x1a\n'

# Leading bytes of formats a camera topic might carry by mistake (or a fuzzer on purpose).
_OTHER_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b'GIF87a', 'a GIF'), (b'GIF89a', 'a GIF'), (b'BM', 'a BMP'),
    (b'II*\x00', 'a TIFF'), (b'MM\x00*', 'a TIFF'), (b'DDS ', 'a DDS texture'),
    (b'\x00\x00\x00\x0cjP  ', 'a JPEG2000'), (b'\xff\x4f\xff\x51', 'a JPEG2000 codestream'),
    (b'\x00\x00\x01\x00', 'an ICO'), (b'\x00\x00\x02\x00', 'a CUR or TGA'), (b'8BPS', 'a PSD'),
    (b'qoif', 'a QOI'), (b'\x76\x2f\x31\x01', 'an OpenEXR'), (b'#?RADIANCE', 'a Radiance HDR'),
    (b'%PDF', 'a PDF'), (b'PK\x03\x04', 'a ZIP archive'), (b'\x1f\x8b', 'gzip data'),
    (b'\x01\xda', 'an SGI image'), (b'\x0a\x05\x01', 'a PCX'), (b'icns', 'an ICNS'),
    (b'%!PS', 'a PostScript/EPS'), (b'\x89HDF', 'an HDF5 file'), (b'SIMPLE  =', 'a FITS'),
    (b'BLP', 'a BLP texture'), (b'DanM', 'an MSP'), (b'LinS', 'an MSP'),
    (b'FTEX', 'an FTEX texture'), (b'\xd7\xcd\xc6\x9a', 'a WMF'),
)
_PRINTABLE = set(string.printable.encode())
# JPEG start-of-frame markers (baseline, progressive, lossless, arithmetic); not C4, C8, CC.
_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
_STANDALONE = frozenset([0x01, *range(0xD0, 0xD8)])
MAX_JPEG_MARKERS = 1000  # a camera JPEG has a dozen or two before its frame header


class ImageError(ValueError):
    """An image message cannot be turned into a picture; the message says why."""


def looks_like(data: bytes) -> str:
    """A short description of what `data` seems to be, for error messages."""
    if not data:
        return 'nothing (no data)'
    if data.startswith(JPEG_MAGIC):
        return 'a JPEG'
    if data.startswith(PNG_MAGIC):
        return 'a PNG'
    for magic, name in _OTHER_MAGIC:
        if data.startswith(magic):
            return name
    if data[:4] == b'RIFF' and data[8:12] == b'WEBP':
        return 'a WebP'
    if data[4:8] == b'ftyp':
        brand = data[8:12].decode('ascii', 'replace')
        return 'an AVIF/HEIF' if brand in ('avif', 'avis', 'heic', 'heix', 'mif1') \
            else f'an ISO media file ({brand!r})'
    if data[:2] in (b'P1', b'P2', b'P3', b'P4', b'P5', b'P6', b'P7'):
        return 'a PNM/PPM'
    head = data[:16]
    if all(byte in _PRINTABLE for byte in head):
        return f'text starting {head.decode("ascii")!r}'
    return f'unknown bytes starting {head.hex(" ")}'


def sniff(data: bytes) -> str:
    """`JPEG` or `PNG` from the magic bytes; ImageError saying what the bytes look like."""
    if data.startswith(JPEG_MAGIC):
        return JPEG
    if data.startswith(PNG_MAGIC):
        return PNG
    raise ImageError(f'not a JPEG or PNG: the bytes look like {looks_like(data)}')


def png_size(data: bytes | memoryview) -> tuple[int, int]:
    """(width, height) from the IHDR chunk that must follow the PNG signature."""
    ihdr = bytes(data[len(PNG_MAGIC):len(PNG_MAGIC) + 16])
    if len(ihdr) < 16 or ihdr[4:8] != b'IHDR':
        raise ImageError('PNG without an IHDR chunk after the signature')
    return int.from_bytes(ihdr[8:12], 'big'), int.from_bytes(ihdr[12:16], 'big')


def jpeg_size(data: bytes | memoryview) -> tuple[int, int]:
    """(width, height) from the first SOFn segment, walking the markers before it (at most
    MAX_JPEG_MARKERS of them, so hostile padding cannot make the walk long)."""
    pos = 2
    for _ in range(MAX_JPEG_MARKERS):
        if pos + 4 > len(data):
            break
        if data[pos] != 0xFF:
            raise ImageError(f'JPEG marker expected at byte {pos}, found 0x{data[pos]:02x}')
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in _STANDALONE:
            pos += 2
            continue
        if marker in (0xD9, 0xDA):
            raise ImageError('JPEG without a frame header (SOFn) before its scan')
        length = int.from_bytes(bytes(data[pos + 2:pos + 4]), 'big')
        if length < 2:
            raise ImageError(f'JPEG segment 0x{marker:02x} with length {length}')
        if marker in _SOF:
            segment = bytes(data[pos + 4:pos + 2 + length])
            if len(segment) < 5:
                raise ImageError('JPEG frame header (SOFn) is truncated')
            return int.from_bytes(segment[3:5], 'big'), int.from_bytes(segment[1:3], 'big')
        pos += 2 + length
    else:
        raise ImageError(f'JPEG with over {MAX_JPEG_MARKERS} markers before its frame header')
    raise ImageError('JPEG ends before its frame header (SOFn)')


def header_size(kind: str, data: bytes | memoryview) -> tuple[int, int]:
    """(width, height) of a JPEG or PNG from its header."""
    return jpeg_size(data) if kind == JPEG else png_size(data)
