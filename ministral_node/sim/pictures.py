"""Pictures of a flight, drawn with Pillow: the top-down trajectory (geofence, home, objects,
targets, commands, photos) beside the altitude over time, and the camera stream with the
decisions' boxes as an animated GIF.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from ministral_node.sim.scoring import column
from ministral_node.training.scenes import COLORS

if TYPE_CHECKING:
    from ministral_node.sim.scenario import Scenario
    from ministral_node.sim.scoring import Result
    from ministral_node.sim.simulator import Simulator

log = logging.getLogger(__name__)
PANEL = 460
MARGIN = 36
# DejaVu Sans (Latin-1 subset, shipped in fonts/): Pillow's own default font draws é, ü, ñ as
# boxes.
FONT_PATH = Path(__file__).resolve().parent / 'fonts' / 'DejaVuSans-Latin1.ttf'


def _font(size: int = 12) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """The pictures' font: shipped DejaVu Sans; Pillow's default (no accents) without it."""
    try:
        return ImageFont.truetype(str(FONT_PATH), size)
    except OSError:
        log.warning('font %s not readable: pictures fall back to Pillow\'s default font, '
                    'accented letters show as boxes', FONT_PATH)
        return ImageFont.load_default(size=size)


FONT = _font()
FAULT_COLORS = {'link_loss': (250, 200, 200), 'pose_lost': (220, 200, 250),
                'battery_low': (250, 230, 180), 'remote_down': (200, 230, 250)}


def _extent(sim: Simulator, scenario: Scenario) -> float:
    points = [s.position[:2] for s in sim.trace.samples]
    placed = {(o['kind'], o['color']) for o in scenario.world.get('objects') or []}
    points += [(o.east, o.north) for o in sim.layout.objects if (o.kind, o.color) in placed]
    far = max([abs(c) for p in points for c in p] + [20.0])
    return min(far * 1.25 + 5.0, sim.limits.geofence_max_distance_m * 1.1)


def _map(sim: Simulator, scenario: Scenario) -> Image.Image:
    image = Image.new('RGB', (PANEL, PANEL), (246, 246, 240))
    draw = ImageDraw.Draw(image)
    extent = _extent(sim, scenario)
    scale = (PANEL - 2 * MARGIN) / (2 * extent)

    def px(east: float, north: float) -> tuple[float, float]:
        return PANEL / 2 + east * scale, PANEL / 2 - north * scale

    fence = sim.limits.geofence_max_distance_m * scale
    draw.ellipse([PANEL / 2 - fence, PANEL / 2 - fence, PANEL / 2 + fence, PANEL / 2 + fence],
                 outline=(200, 40, 40), width=2)
    if sim.limits.geofence_polygon:
        draw.polygon([px(*p) for p in sim.limits.geofence_polygon], outline=(200, 40, 40))
    placed = {(o['kind'], o['color']) for o in scenario.world.get('objects') or []}
    for obj in sim.layout.objects:
        x, y = px(obj.east, obj.north)
        r = max(3.0, 1.5 * scale)
        draw.rectangle([x - r, y - r, x + r, y + r], fill=COLORS[obj.color], outline=(0, 0, 0))
        if (obj.kind, obj.color) in placed:
            draw.ellipse([x - r - 4, y - r - 4, x + r + 4, y + r + 4], outline=(0, 0, 0), width=2)
            draw.text((x + r + 5, y - 6), obj.label, fill=(0, 0, 0), font=FONT)
    hx, hy = px(0.0, 0.0)
    draw.line([hx - 7, hy, hx + 7, hy], fill=(0, 0, 0), width=2)
    draw.line([hx, hy - 7, hx, hy + 7], fill=(0, 0, 0), width=2)
    draw.text((hx + 6, hy + 4), 'home', fill=(0, 0, 0), font=FONT)
    samples = sim.trace.samples[::5] + sim.trace.samples[-1:]
    end = max(samples[-1].t, 1e-6)
    for a, b in zip(samples, samples[1:]):
        k = b.t / end
        draw.line([px(*a.position[:2]), px(*b.position[:2])],
                  fill=(int(40 + 180 * k), 60, int(220 - 180 * k)), width=2)
    for _, (x, y, _) in sim.trace.setpoints[::20]:
        sx, sy = px(x, y)
        draw.point([(sx, sy)], fill=(0, 150, 0))
    for photo in sim.vehicle.photos:
        x, y = px(*photo.position[:2])
        draw.rectangle([x - 3, y - 3, x + 3, y + 3], outline=(0, 0, 0), fill=(255, 255, 255))
    for number, (t, _) in enumerate(sim.trace.sent, 1):
        here = min(sim.trace.samples, key=lambda s: abs(s.t - t)).position
        x, y = px(*here[:2])
        draw.ellipse([x - 7, y - 7, x + 7, y + 7], fill=(255, 255, 255), outline=(0, 0, 0))
        draw.text((x - 3, y - 6), str(number), fill=(0, 0, 0), font=FONT)
    x, y = px(*sim.trace.samples[-1].position[:2])
    draw.regular_polygon((x, y, 6), 3, fill=(0, 0, 0))
    bar = 10 ** math.floor(math.log10(extent))
    draw.line([MARGIN, PANEL - 14, MARGIN + bar * scale, PANEL - 14], fill=(0, 0, 0), width=3)
    draw.text((MARGIN, PANEL - 30), f'{bar:g} m   north up', fill=(0, 0, 0), font=FONT)
    draw.text((8, 6), f'{scenario.name} [{scenario.language}, {scenario.category}]',
              fill=(0, 0, 0), font=FONT)
    return image


def _altitude(sim: Simulator, scenario: Scenario) -> Image.Image:
    image = Image.new('RGB', (PANEL, PANEL), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    samples = sim.trace.samples
    end = max(samples[-1].t, 1.0)
    top = max([s.position[2] for s in samples] + [10.0]) * 1.2
    show_limit = sim.limits.max_altitude_m <= top * 1.5
    if show_limit:
        top = max(top, sim.limits.max_altitude_m * 1.05)
    left, right, upper, lower = 48, PANEL - 12, 28, PANEL - 36

    def px(t: float, z: float) -> tuple[float, float]:
        return left + (right - left) * t / end, lower - (lower - upper) * z / top

    for fault in sim.faults.faults:
        if fault.at >= end:  # scheduled after the flight ended (landed and settled): never began
            continue
        stop = end if fault.duration_s is None else min(end, fault.at + fault.duration_s)
        draw.rectangle([px(fault.at, top), px(stop, 0)],
                       fill=FAULT_COLORS.get(fault.kind, (230, 230, 230)))
        draw.text((px(fault.at, top)[0] + 2, upper + 2), fault.kind, fill=(90, 0, 0),
                  font=FONT)
    draw.rectangle([left, upper, right, lower], outline=(0, 0, 0))
    for k in range(0, 6):
        z = top * k / 5
        draw.text((4, px(0, z)[1] - 6), f'{z:.0f}', fill=(0, 0, 0), font=FONT)
        t = end * k / 5
        draw.text((px(t, 0)[0] - 8, lower + 6), f'{t:.0f}', fill=(0, 0, 0), font=FONT)
    if show_limit:
        y = px(0, sim.limits.max_altitude_m)[1]
        draw.line([left, y, right, y], fill=(200, 40, 40), width=1)
        draw.text((right - 110, y - 14), 'max_altitude_m', fill=(200, 40, 40), font=FONT)
    for number, (t, _) in enumerate(sim.trace.sent, 1):
        x = px(t, 0)[0]
        draw.line([x, upper, x, lower], fill=(120, 120, 120))
        draw.text((x + 2, lower - 14), str(number), fill=(0, 0, 0), font=FONT)
    points = [px(s.t, s.position[2]) for s in samples[::5] + samples[-1:]]
    draw.line(points, fill=(30, 60, 200), width=2)
    draw.text((left, 8), 'altitude (m) over simulated time (s)', fill=(0, 0, 0), font=FONT)
    return image


def trajectory_png(sim: Simulator, scenario: Scenario, result: Result | None,
                   path: str | Path) -> Path:
    """Write the scenario's picture: top-down map and altitude plot, verdict underneath."""
    left, right = _map(sim, scenario), _altitude(sim, scenario)
    lines = [f'{i}: t={t:.0f} s  {text[:90]}' for i, (t, text) in enumerate(sim.trace.sent, 1)]
    if result is not None:
        verdict = 'SUCCEEDED' if result.succeeded else 'FAILED'
        lines.append(f'{verdict} ({column(result)}): {result.reason[:150]}')
    canvas = Image.new('RGB', (2 * PANEL, PANEL + 16 * len(lines) + 10), (255, 255, 255))
    canvas.paste(left, (0, 0))
    canvas.paste(right, (PANEL, 0))
    draw = ImageDraw.Draw(canvas)
    for row, line in enumerate(lines):
        draw.text((8, PANEL + 4 + 16 * row), line, fill=(0, 0, 0), font=FONT)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    canvas.save(path)
    return path


def annotate(image: np.ndarray, boxes: list[tuple[str, list[float]]], caption: str = ''
             ) -> Image.Image:
    """A camera frame with labelled normalised boxes [x_min, y_min, x_max, y_max] drawn."""
    frame = Image.fromarray(image)
    draw = ImageDraw.Draw(frame)
    w, h = frame.size
    for label, box in boxes:
        x0, y0, x1, y1 = box[0] * w, box[1] * h, box[2] * w, box[3] * h
        draw.rectangle([x0, y0, x1, y1], outline=(255, 0, 255), width=2)
        draw.text((x0 + 2, max(0, y0 - 12)), label, fill=(255, 0, 255), font=FONT)
    if caption:
        draw.rectangle([0, h - 14, w, h], fill=(0, 0, 0))
        draw.text((3, h - 13), caption[:60], fill=(255, 255, 255), font=FONT)
    return frame


def write_gif(frames: list[Image.Image], path: str | Path, fps: float) -> Path | None:
    """An animated GIF of the frames (None when there are none)."""
    if not frames:
        return None
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    frames[0].save(path, save_all=True, append_images=frames[1:],
                   duration=int(1000 / max(fps, 0.1)), loop=0, optimize=True)
    return path
