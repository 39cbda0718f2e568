"""A small bar chart as a PNG, drawn offline in pure Python (zlib only): the digest's picture of progress.

Only bars are drawn: every word (the legend, the figures, the alternative text) stays in the HTML, where mail
clients wrap and enlarge it. ``stacked_bars`` draws one horizontal bar per row, each split into coloured segments
proportional to their counts; ``png`` encodes any RGB picture as an 8-bit truecolour PNG (filter 0 on every line).
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence
from typing import Final

Colour = tuple[int, int, int]
Segment = tuple[int, Colour]  # (count, colour)

BACKGROUND: Final[Colour] = (255, 255, 255)
TRACK: Final[Colour] = (232, 232, 232)  # a bar's empty part (nothing to count yet)
PNG_SIGNATURE: Final = b"\x89PNG\r\n\x1a\n"


def chunk(kind: bytes, data: bytes) -> bytes:
    """One PNG chunk: length, type, data, CRC-32 of type and data."""
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png(width: int, height: int, rows: Sequence[bytes]) -> bytes:
    """An RGB PNG from ``height`` lines of ``width`` × 3 bytes each."""
    if width <= 0 or height <= 0 or len(rows) != height or any(len(row) != width * 3 for row in rows):
        raise ValueError(f"a {width}×{height} picture needs {height} lines of {width * 3} bytes")
    # 8 bits a sample, truecolour, deflate, filter method 0, no interlace
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    pixels = b"".join(b"\x00" + row for row in rows)  # filter type 0 (none) on each line
    return PNG_SIGNATURE + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(pixels, 9)) + chunk(b"IEND", b"")


def segment_widths(segments: Sequence[Segment], total: int, width: int) -> list[int]:
    """Pixel widths of the segments of a bar ``width`` pixels long standing for ``total``: rounded so that they add up
    to the share of the bar the counts fill (largest remainders first), never wider than the bar."""
    if total <= 0:
        return [0] * len(segments)
    exact = [max(count, 0) * width / total for count, _ in segments]
    widths = [int(share) for share in exact]
    filled = min(width, round(sum(exact)))
    for index in sorted(range(len(exact)), key=lambda i: exact[i] - widths[i], reverse=True):
        if sum(widths) >= filled:
            break
        widths[index] += 1
    return widths


def bar_line(segments: Sequence[Segment], total: int, width: int) -> bytes:
    """One line of pixels of a bar: its segments' colours, then the empty track."""
    line = bytearray()
    for (_, colour), pixels in zip(segments, segment_widths(segments, total, width), strict=True):
        line += bytes(colour) * pixels
    return bytes(line) + bytes(TRACK) * (width - len(line) // 3)


def stacked_bars(
    bars: Sequence[tuple[Sequence[Segment], int]], width: int = 320, bar_height: int = 18, gap: int = 8
) -> bytes:
    """A PNG of one horizontal bar per ``(segments, total)``, top to bottom, ``gap`` pixels of background between
    them; each bar is ``width`` pixels for its ``total``."""
    if not bars:
        raise ValueError("a chart needs at least one bar")
    blank = bytes(BACKGROUND) * width
    rows: list[bytes] = []
    for index, (segments, total) in enumerate(bars):
        if index:
            rows += [blank] * gap
        rows += [bar_line(segments, total, width)] * bar_height
    return png(width, len(rows), rows)
