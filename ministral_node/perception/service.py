"""The detector as the decision pipeline uses it: loaded from the `detector_*` parameters, run on
the frame of a decision (once per frame), its health on the board under `detector`. A model
that cannot be used is reported (ERROR, saying why) and the node decides without it."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from ministral_node.health import ERROR, OK, HealthBoard
from ministral_node.inputs.camera import Frame
from ministral_node.perception.detector import (
    Detection,
    Detector,
    DetectorModelError,
    DetectorSettings,
)
from ministral_node.perception.grounding import Seen, look

log = logging.getLogger(__name__)

COMPONENT = 'detector'
_RELOAD_FIELDS = ('model', 'input_size', 'input_sizes', 'providers')


@dataclass(frozen=True)
class Scene:
    """What the detector saw in one frame: detections with measured colours and bearings."""

    seen: tuple[Seen, ...]
    classes: tuple[str, ...]  # every class the detector knows
    stamp: float
    width: int
    height: int
    detect_ms: float
    frame_id: str = ''
    model: str = ''  # the detector's file name

    @property
    def detections(self) -> list[Detection]:
        return [s.detection for s in self.seen]


def scene_dict(scene: Scene) -> dict:
    """The JSON published on `~/detections` for one scene: the frame (stamp, frame id, size),
    the detector's time and model, and each detection's label, class id, score, box in frame
    pixels and normalised [x_min, y_min, x_max, y_max], measured colour and bearing."""
    return {
        'frame': {'stamp': scene.stamp, 'frame_id': scene.frame_id, 'width': scene.width,
                  'height': scene.height},
        'model': scene.model,
        'detect_ms': round(scene.detect_ms, 2),
        'count': len(scene.seen),
        'detections': [seen.to_dict() for seen in scene.seen],
    }


def _resolve(model: str, share: Callable[[], Path] | None) -> str:
    """A relative model path is taken in the package share directory when it is there."""
    path = Path(model).expanduser()
    if path.is_absolute() or path.exists() or share is None:
        return str(path)
    try:
        shared = share() / path
    except FileNotFoundError:
        return str(path)
    return str(shared) if shared.exists() else str(path)


class DetectorService:
    """Owns the detector (or the reason there is none) for one decision pipeline."""

    def __init__(self, settings: DetectorSettings, health: HealthBoard,
                 share: Callable[[], Path] | None = None) -> None:
        self.settings = settings
        self.health = health
        self._share = share
        self.detector: Detector | None = None
        self.error: str | None = None
        self._last: tuple[tuple, Scene] | None = None
        self._lock = threading.Lock()
        # Called once with each new scene (never again for a cached one): the node publishes
        # it on ~/detections. A listener's failure is logged, never raised into a decision.
        self.on_scene: Callable[[Scene], None] | None = None

    def load(self) -> None:
        """Load the model when one is configured; a failure is reported, never raised."""
        self.detector, self.error, self._last = None, None, None
        if not self.settings.enabled:
            return
        resolved = replace(self.settings, model=_resolve(self.settings.model, self._share))
        try:
            self.detector = Detector(resolved)
        except DetectorModelError as exc:
            self.error = str(exc)
            log.error('no detector (%s): %s; deciding without one', exc.problem, exc)
            self.health.set(COMPONENT, ERROR, f'no detector: {exc}', problem=exc.problem,
                            model=resolved.model)
            return
        detector = self.detector
        log.info('detector %s loaded: %d classes, input %s, %s', detector.path.name,
                 len(detector.classes), detector.inputs, detector.provider)
        self.health.set(COMPONENT, OK, f'{detector.path.name} loaded', model=str(detector.path),
                        classes=len(detector.classes), provider=detector.provider,
                        input=detector.inputs)

    @property
    def available(self) -> bool:
        return self.detector is not None

    def apply(self, settings: DetectorSettings) -> None:
        """New parameters: reload for another model, input size or providers, else retune."""
        old, self.settings = self.settings, settings
        with self._lock:
            if any(getattr(old, f) != getattr(settings, f) for f in _RELOAD_FIELDS):
                self.load()
            elif self.detector is not None:
                self.detector.retune(replace(settings, model=str(self.detector.path)))
                self._last = None

    def see(self, frame: Frame) -> Scene | None:
        """What the detector finds in `frame` (cached per frame); None without a detector or
        when it fails (the failure is on the health board)."""
        detector = self.detector
        if detector is None:
            return None
        key = (frame.stamp, frame.frame_id, frame.received, id(frame.image))
        with self._lock:
            if self._last is not None and self._last[0] == key:
                return self._last[1]
            try:
                detections = detector.detect(frame.image)
            except Exception as exc:  # noqa: BLE001 - a detector failure never stops a decision
                log.error('detector failed on the frame of %.3f: %s', frame.stamp, exc)
                self.health.error(COMPONENT, f'detection failed: {exc}')
                return None
            scene = Scene(tuple(look(frame.image, detections)), tuple(detector.classes),
                          frame.stamp, frame.width, frame.height, detector.last_ms,
                          frame.frame_id or '', detector.path.name)
            self._last = (key, scene)
        self.health.values(COMPONENT, last_detect_ms=f'{scene.detect_ms:.1f}',
                           last_detections=len(scene.seen))
        listener = self.on_scene
        if listener is not None:
            try:
                listener(scene)
            except Exception as exc:  # noqa: BLE001 - publishing never stops a decision
                log.error('publishing the detections of the frame of %.3f failed: %s',
                          scene.stamp, exc)
        return scene
