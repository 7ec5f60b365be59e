"""A compact anchor-free object detector and its ONNX export in the Ultralytics layout.

The network: a strided CNN backbone (stride 2 to 32), a light top-down feature pyramid and one
shared head per level (strides 8, 16 and 32). Each grid cell predicts the distances from its
centre to the box's left, top, right and bottom edges (in strides, through softplus) and one
logit per class. The exported graph decodes in-graph: cell centres from the feature maps' own
sizes (any input size that is a multiple of 32), boxes as cx, cy, w, h in input pixels,
sigmoid class scores, all levels concatenated into one output `[1, 4 + classes, anchors]`,
with the class names in the metadata `names` ("{0: 'pad', 1: 'car'}") as Ultralytics writes
them, so `perception/detector.py` loads it like any YOLOv8/11 export.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F  # noqa: N812

STRIDES = (8, 16, 32)
OPSET = 17


def _conv(cin: int, cout: int, stride: int = 1, kernel: int = 3) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, kernel, stride, kernel // 2, bias=False),
                         nn.BatchNorm2d(cout), nn.SiLU(inplace=True))


class _Residual(nn.Module):
    """Two 3x3 convolutions with a skip connection."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.body = nn.Sequential(_conv(channels, channels), _conv(channels, channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class SimDetector(nn.Module):
    """Backbone, pyramid and head; `forward` returns per level (box distances, class logits),
    each `[B, 4 | classes, H, W]`."""

    def __init__(self, classes: int, width: Sequence[int] = (16, 24, 32, 48, 64),
                 neck: int = 32) -> None:
        super().__init__()
        w1, w2, w3, w4, w5 = width
        self.classes = classes
        self.width = tuple(width)
        self.neck_width = neck
        self.stem = nn.Sequential(_conv(3, w1, 2), _conv(w1, w2, 2), _Residual(w2))  # /4
        self.stage3 = nn.Sequential(_conv(w2, w3, 2), _Residual(w3))  # /8
        self.stage4 = nn.Sequential(_conv(w3, w4, 2), _Residual(w4))  # /16
        self.stage5 = nn.Sequential(_conv(w4, w5, 2), _Residual(w5))  # /32
        self.lateral = nn.ModuleList([_conv(c, neck, kernel=1) for c in (w3, w4, w5)])
        self.smooth = nn.ModuleList([_conv(neck, neck) for _ in STRIDES])
        self.head = nn.Sequential(_conv(neck, neck), _conv(neck, neck))
        self.box = nn.Conv2d(neck, 4, 1)
        self.cls = nn.Conv2d(neck, classes, 1)
        nn.init.constant_(self.cls.bias, -4.6)  # sigmoid 0.01: most cells hold nothing
        nn.init.constant_(self.box.bias, 0.5)

    def forward(self, x: torch.Tensor) -> list[tuple[torch.Tensor, torch.Tensor]]:
        c3 = self.stage3(self.stem(x))
        c4 = self.stage4(c3)
        c5 = self.stage5(c4)
        p5 = self.lateral[2](c5)
        p4 = self.lateral[1](c4) + F.interpolate(p5, scale_factor=2.0, mode='nearest')
        p3 = self.lateral[0](c3) + F.interpolate(p4, scale_factor=2.0, mode='nearest')
        out = []
        for level, feature in enumerate((p3, p4, p5)):
            h = self.head(self.smooth[level](feature))
            out.append((self.box(h), self.cls(h)))
        return out


def cell_centres(height: int, width: int, stride: int, device: torch.device | None = None
                 ) -> torch.Tensor:
    """Centres (x, y) in input pixels of a level's cells, row-major: `[H * W, 2]`."""
    ys = (torch.arange(height, device=device, dtype=torch.float32) + 0.5) * stride
    xs = (torch.arange(width, device=device, dtype=torch.float32) + 0.5) * stride
    grid_y, grid_x = torch.meshgrid(ys, xs, indexing='ij')
    return torch.stack([grid_x.reshape(-1), grid_y.reshape(-1)], dim=1)


def decode(levels: list[tuple[torch.Tensor, torch.Tensor]]
           ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Every level's cells flattened: boxes xyxy in input pixels `[B, A, 4]`, class logits
    `[B, A, classes]` and the cells' centres and strides `[A, 3]`."""
    boxes, logits, where = [], [], []
    for (box, cls), stride in zip(levels, STRIDES):
        batch, _, height, width = box.shape
        centres = cell_centres(height, width, stride, box.device)
        distances = F.softplus(box).flatten(2).transpose(1, 2) * stride  # [B, HW, 4] ltrb
        boxes.append(torch.cat([centres - distances[..., :2], centres + distances[..., 2:]],
                               dim=-1))
        logits.append(cls.flatten(2).transpose(1, 2))
        where.append(torch.cat([centres, torch.full_like(centres[:, :1], float(stride))], 1))
    return torch.cat(boxes, 1), torch.cat(logits, 1), torch.cat(where, 0)


class UltralyticsLayout(nn.Module):
    """The network with the Ultralytics export's output: `[B, 4 + classes, anchors]`, boxes
    as cx, cy, w, h in input pixels, then sigmoid class scores."""

    def __init__(self, net: SimDetector) -> None:
        super().__init__()
        self.net = net

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        boxes, logits, _ = decode(self.net(images))
        xywh = torch.cat([(boxes[..., :2] + boxes[..., 2:]) / 2, boxes[..., 2:] - boxes[..., :2]],
                         dim=-1)
        return torch.cat([xywh, logits.sigmoid()], dim=-1).transpose(1, 2)


def names_metadata(names: Sequence[str]) -> str:
    """Class names as Ultralytics writes them in the model metadata: "{0: 'pad', ...}"."""
    return str(dict(enumerate(names)))


def export_onnx(net: SimDetector, names: Sequence[str], path: Path, input_size: int = 320,
                extra: dict[str, str] | None = None) -> Path:
    """Write the network as an Ultralytics-layout ONNX (dynamic height and width, multiples of
    32; `input_size` is the size traced and written as `imgsz`) with its metadata."""
    import onnx

    path.parent.mkdir(parents=True, exist_ok=True)
    wrapper = UltralyticsLayout(net).eval()
    example = torch.zeros(1, 3, input_size, input_size)
    with torch.no_grad():
        torch.onnx.export(wrapper, (example,), str(path), input_names=['images'],
                          output_names=['output0'], opset_version=OPSET, dynamo=False,
                          dynamic_axes={'images': {2: 'height', 3: 'width'},
                                        'output0': {2: 'anchors'}})
    model = onnx.load(str(path))
    metadata = {'description': 'ministral_node simulated-world detector',
                'task': 'detect', 'stride': str(max(STRIDES)), 'batch': '1',
                'imgsz': json.dumps([input_size, input_size]), 'names': names_metadata(names)}
    metadata.update(extra or {})
    del model.metadata_props[:]
    for key, value in metadata.items():
        model.metadata_props.add(key=key, value=value)
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path
