"""`ministral-export`: a Mistral3ForConditionalGeneration checkpoint -> the engine's ONNX layout.

    ministral-export CHECKPOINT OUT [--keep-float] [--float-head]

Writes `onnx/vision_encoder_q4.onnx` (vision tower + projector), `onnx/embed_tokens_fp16.onnx`
and `onnx/decoder_model_merged_q4.onnx` (4-bit `MatMulNBits`, float32 activations, KV cache as
flat `past_key_values.<i>.key|value` tensors; `--float-head` keeps the LM head in float32,
which a small model's near-tie tokens need and a 131k-vocabulary one cannot afford), plus
`config.json`, `tokenizer.json`, `preprocessor_config.json`, `generation_config.json` and the
checkpoint's `system_prompt.txt`.

The graphs come from `torch.onnx.export(dynamo=False)` of wrappers that run the checkpoint's
own modules with traceable shapes. Checks against torch: the float graphs' image features and
logits within tolerance, and the 4-bit model's greedy decision (its tokens up to the end of the
JSON object) through the real engine on a fixed prompt set (agreement reported;
`--min-agreement` fails the export below it).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ministral_node.engine.model_files import onnx_name, read_json, write_manifest
from ministral_node.sources.system_prompt import SYSTEM_PROMPT_FILE, model_system_prompt
from ministral_node.tools.build_test_model import build_embed, quantize_q4, save

OPSET = 17
LM_HEAD_NODE = '/lm_head/MatMul'  # the head's MatMul in the exported decoder graph


def _torch_modules():
    import torch
    from torch import nn
    from transformers.models.ministral3.modeling_ministral3 import (
        apply_rotary_pos_emb,
        get_llama_4_attn_scale,
        repeat_kv,
    )

    class VisionEncoder(nn.Module):
        """pixel_values [1, 3, H, W] -> image_features [H/28 * W/28, text hidden]."""

        def __init__(self, model) -> None:
            super().__init__()
            self.tower = model.model.vision_tower
            self.projector = model.model.multi_modal_projector
            self.merge = model.config.spatial_merge_size

        def forward(self, pixel_values):
            patches = self.tower.patch_conv(pixel_values)
            dim, height, width = patches.shape[1], patches.shape[2], patches.shape[3]
            x = self.tower.ln_pre(patches.flatten(2).transpose(1, 2))
            rows = torch.arange(height).unsqueeze(1).expand(height, width).reshape(-1)
            cols = torch.arange(width).unsqueeze(0).expand(height, width).reshape(-1)
            cos, sin = self.tower.patch_positional_embedding(x, torch.stack([rows, cols], -1))
            for layer in self.tower.transformer.layers:
                x = layer(x, None, position_embeddings=(cos, sin))
            x = self.projector.norm(x[0])
            m = self.merge
            # The patch merger's unfold order: merged blocks row-major, features (d, ky, kx).
            x = x.reshape(height // m, m, width // m, m, dim).permute(0, 2, 4, 1, 3)
            x = self.projector.patch_merger.merging_layer(x.reshape(-1, dim * m * m))
            return self.projector.linear_2(self.projector.act(self.projector.linear_1(x)))

    class Decoder(nn.Module):
        """inputs_embeds, attention_mask, position_ids, flat past -> logits, flat present."""

        def __init__(self, model) -> None:
            super().__init__()
            language = model.model.language_model
            self.layers = language.layers
            self.norm = language.norm
            self.rotary = language.rotary_emb
            self.lm_head = model.lm_head
            rope = language.config.rope_parameters
            self.beta = rope.get('llama_4_scaling_beta')
            self.original = rope.get('original_max_position_embeddings')

        def forward(self, inputs_embeds, attention_mask, position_ids, *past):
            x = inputs_embeds
            batch, steps = x.shape[0], x.shape[1]
            past_len = past[0].shape[2]
            cos, sin = self.rotary(x, position_ids)
            keys = torch.arange(past_len + steps)
            queries = torch.arange(steps) + past_len
            allowed = (keys[None, :] <= queries[:, None])[None, None] & \
                (attention_mask[:, None, None, :] == 1)
            bias = torch.where(allowed, 0.0, torch.finfo(torch.float32).min)
            scale = None
            if self.beta is not None and self.original:
                scale = get_llama_4_attn_scale(position_ids, self.beta, self.original)
            presents = []
            for i, layer in enumerate(self.layers):
                attn = layer.self_attn
                h = layer.input_layernorm(x)
                q = attn.q_proj(h).reshape(batch, steps, -1, attn.head_dim).transpose(1, 2)
                k = attn.k_proj(h).reshape(batch, steps, -1, attn.head_dim).transpose(1, 2)
                v = attn.v_proj(h).reshape(batch, steps, -1, attn.head_dim).transpose(1, 2)
                q, k = apply_rotary_pos_emb(q, k, cos, sin)
                if scale is not None:
                    q = q * scale.to(q.dtype)
                k = torch.cat([past[2 * i], k], dim=2)
                v = torch.cat([past[2 * i + 1], v], dim=2)
                presents += [k, v]
                groups = attn.num_key_value_groups
                scores = q @ repeat_kv(k, groups).transpose(2, 3) * attn.scaling + bias
                ctx = torch.softmax(scores, dim=-1) @ repeat_kv(v, groups)
                x = x + attn.o_proj(ctx.transpose(1, 2).reshape(batch, steps, -1))
                x = x + layer.mlp(layer.post_attention_layernorm(x))
            return (self.lm_head(self.norm(x)), *presents)

    return VisionEncoder, Decoder


def load_checkpoint(path: str | Path):
    """The checkpoint as a float32 eval-mode model with eager attention."""
    import torch
    from transformers import Mistral3ForConditionalGeneration

    model = Mistral3ForConditionalGeneration.from_pretrained(path, dtype=torch.float32)
    model.set_attn_implementation('eager')
    return model.eval()


def export_float(model, out: Path) -> dict[str, Path]:
    """Float ONNX graphs of the vision encoder and decoder in `out`."""
    import torch

    vision_cls, decoder_cls = _torch_modules()
    text = model.config.text_config
    layers, kv_heads = text.num_hidden_layers, text.num_key_value_heads
    head_dim = text.head_dim
    out.mkdir(parents=True, exist_ok=True)
    paths = {'vision': out / 'vision_encoder.onnx', 'decoder': out / 'decoder_model_merged.onnx'}
    # The TorchScript exporter is deprecated upstream and warns about traced shapes; both are
    # expected here (the shapes it warns about are exported as dynamic axes).
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter('ignore', (DeprecationWarning, torch.jit.TracerWarning))
        torch.onnx.export(
            vision_cls(model), (torch.randn(1, 3, 56, 84),), str(paths['vision']),
            input_names=['pixel_values'], output_names=['image_features'],
            dynamic_axes={'pixel_values': {2: 'height', 3: 'width'},
                          'image_features': {0: 'num_image_tokens'}},
            opset_version=OPSET, dynamo=False)
        past_names = [f'past_key_values.{i}.{kind}' for i in range(layers)
                      for kind in ('key', 'value')]
        present_names = [n.replace('past_key_values', 'present') for n in past_names]
        past = [torch.randn(1, kv_heads, 3, head_dim) for _ in past_names]
        feeds = (torch.randn(1, 4, text.hidden_size), torch.ones(1, 7, dtype=torch.long),
                 torch.arange(3, 7).unsqueeze(0), *past)
        axes = {'inputs_embeds': {0: 'batch_size', 1: 'sequence_length'},
                'attention_mask': {0: 'batch_size', 1: 'total_sequence_length'},
                'position_ids': {0: 'batch_size', 1: 'sequence_length'},
                'logits': {0: 'batch_size', 1: 'sequence_length'}}
        axes.update({n: {0: 'batch_size', 2: 'past_sequence_length'} for n in past_names})
        axes.update({n: {0: 'batch_size', 2: 'total_sequence_length'} for n in present_names})
        torch.onnx.export(
            decoder_cls(model), feeds, str(paths['decoder']),
            input_names=['inputs_embeds', 'attention_mask', 'position_ids', *past_names],
            output_names=['logits', *present_names], dynamic_axes=axes,
            opset_version=OPSET, dynamo=False)
    return paths


def write_model_dir(checkpoint: Path, model, float_paths: dict[str, Path], out: Path,
                    keep_float: bool = False, float_head: bool = False) -> Path:
    """The engine's layout in `out`: 4-bit graphs (the LM head float32 with `float_head`),
    fp16 embeddings, tokenizer and configs."""
    import onnx

    onnx_dir = out / 'onnx'
    onnx_dir.mkdir(parents=True, exist_ok=True)
    for component in ('vision', 'decoder'):
        graph = onnx.load(str(float_paths[component]))
        name = float_paths[component].stem
        if keep_float:  # before quantizing: the quantizer rewrites the graph in place
            save(onnx_dir / onnx_name(name, 'fp32'), graph, False)
        unquantized = [LM_HEAD_NODE] if float_head and component == 'decoder' else []
        save(onnx_dir / onnx_name(name, 'q4'), quantize_q4(graph, unquantized), False)
    weights = model.get_input_embeddings().weight.detach().numpy()
    save(onnx_dir / onnx_name('embed_tokens', 'fp16'), build_embed(weights), False)
    config = read_json(checkpoint / 'config.json')
    config['transformers.js_config'] = {'dtype': {'embed_tokens': 'fp16',
                                                  'vision_encoder': 'q4',
                                                  'decoder_model_merged': 'q4'}}
    generation = {'bos_token_id': 1, 'eos_token_id': 2, 'pad_token_id': 11}
    for name, doc in (('config.json', config), ('generation_config.json', generation)):
        (out / name).write_text(json.dumps(doc, indent=2) + '\n', encoding='utf-8')
    for name in ('tokenizer.json', 'preprocessor_config.json', SYSTEM_PROMPT_FILE):
        if (checkpoint / name).is_file():
            shutil.copyfile(checkpoint / name, out / name)
    write_manifest(out, source=f'ministral-export {checkpoint.name}')
    return out


# Checks against torch ---------------------------------------------------------------------------

@dataclass
class ExportReport:
    """What the checks found."""

    vision_max_diff: float
    logits_max_diff: float
    logits_scale: float
    greedy_agreement: float  # share of prompts whose 4-bit greedy decision equals torch's
    prompts: int
    seconds: float

    def to_dict(self) -> dict:
        return {k: round(v, 6) if isinstance(v, float) else v for k, v in vars(self).items()}


def _check_prompts(checkpoint: Path, count: int):
    """A fixed prompt set: held-out examples, through the same encoder as training."""
    from ministral_node.engine.preprocess import ImageConfig
    from ministral_node.training import dataset
    from ministral_node.training.encoding import Encoder

    preprocessor = read_json(checkpoint / 'preprocessor_config.json')
    encoder = Encoder(checkpoint / 'tokenizer.json', model_system_prompt(checkpoint),
                      ImageConfig.from_json(preprocessor, read_json(checkpoint / 'config.json')))
    examples = [dataset.make_example(dataset.Split('heldout', 7), i) for i in range(count)]
    return encoder, examples


def _torch_greedy(model, ids: np.ndarray, pixels: np.ndarray | None, steps: int,
                  eos: int) -> list[int]:
    import torch

    tokens: list[int] = []
    extra = {}
    if pixels is not None:
        extra = {'pixel_values': torch.from_numpy(pixels),
                 'image_sizes': torch.tensor([pixels.shape[2:]])}
    sequence = torch.from_numpy(ids)[None]
    with torch.no_grad():
        for _ in range(steps):
            logits = model(input_ids=sequence, use_cache=False, logits_to_keep=1, **extra).logits
            token = int(logits[0, -1].argmax())
            if token == eos:
                break
            tokens.append(token)
            sequence = torch.cat([sequence, torch.tensor([[token]])], dim=1)
    return tokens


def decision_length(tokenizer, ids: list[int]) -> int:
    """How many of `ids` make up the decision: up to the end of the JSON object they start
    with (a model trained on constrained answers never learnt what follows it), else all."""
    for count in range(1, len(ids) + 1):
        try:
            if isinstance(json.loads(tokenizer.decode(ids[:count])), dict):
                return count
        except ValueError:
            continue
    return len(ids)


def verify(checkpoint: Path, model, float_paths: dict[str, Path], model_dir: Path,
           prompts: int = 8, steps: int = 48) -> ExportReport:
    """Float graphs vs torch (features, logits), 4-bit engine vs torch (greedy tokens)."""
    import onnxruntime as ort
    import torch

    from ministral_node.engine.engine import EngineOptions, VisionLanguageEngine
    from ministral_node.engine.generation import GenerationOptions

    began = time.monotonic()
    encoder, examples = _check_prompts(checkpoint, prompts)
    vision = ort.InferenceSession(str(float_paths['vision']), providers=['CPUExecutionProvider'])
    decoder = ort.InferenceSession(str(float_paths['decoder']),
                                   providers=['CPUExecutionProvider'])
    text = model.config.text_config
    vision_diff = logits_diff = scale = 0.0
    for example in examples[:2]:
        prompt, prepared = encoder.prompt(example)
        pixels = prepared.pixel_values
        with torch.no_grad():
            ids = torch.from_numpy(prompt.ids)[None]
            reference = model(input_ids=ids, pixel_values=torch.from_numpy(pixels),
                              image_sizes=torch.tensor([pixels.shape[2:]]), use_cache=False)
            features_ref = model.model.get_image_features(
                torch.from_numpy(pixels), torch.tensor([pixels.shape[2:]])).pooler_output[0]
            embeds = model.get_input_embeddings()(ids).numpy()
        features = vision.run(None, {'pixel_values': pixels})[0]
        vision_diff = max(vision_diff, float(np.abs(features - features_ref.numpy()).max()))
        embeds[0, prompt.image_positions] = features
        feeds = {'inputs_embeds': embeds, 'attention_mask': np.ones_like(ids.numpy()),
                 'position_ids': np.arange(ids.shape[1])[None]}
        for i in range(text.num_hidden_layers):
            for kind in ('key', 'value'):
                feeds[f'past_key_values.{i}.{kind}'] = np.zeros(
                    (1, text.num_key_value_heads, 0, text.head_dim), np.float32)
        logits = decoder.run(['logits'], feeds)[0]
        logits_diff = max(logits_diff, float(np.abs(logits - reference.logits.numpy()).max()))
        scale = max(scale, float(np.abs(reference.logits.numpy()).max()))
    engine = VisionLanguageEngine.load(model_dir, EngineOptions(prefix_cache=False))
    eos = engine.tokenizer.special.eos
    agree = 0
    for example in examples:
        prompt, prepared = encoder.prompt(example)
        expected = _torch_greedy(model, prompt.ids, prepared.pixel_values, steps, eos)
        result = engine.generate(encoder.system, encoder.prompt_text(example), example.image,
                                 GenerationOptions(max_new_tokens=steps))
        length = decision_length(engine.tokenizer, expected)
        agree += result.token_ids[:length] == expected[:length]
    engine.close()
    return ExportReport(vision_diff, logits_diff, scale, agree / len(examples), len(examples),
                        time.monotonic() - began)


def export(checkpoint: str | Path, out: str | Path, keep_float: bool = False,
           check_prompts: int = 8, float_head: bool = False) -> ExportReport | None:
    """Export `checkpoint` to `out`; with `check_prompts`, verify against torch."""
    checkpoint, out = Path(checkpoint), Path(out)
    model = load_checkpoint(checkpoint)
    with tempfile.TemporaryDirectory(prefix='ministral-export-') as tmp:
        float_paths = export_float(model, Path(tmp))
        write_model_dir(checkpoint, model, float_paths, out, keep_float, float_head)
        if not check_prompts:
            return None
        return verify(checkpoint, model, float_paths, out, check_prompts)


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(prog='ministral-export', description=__doc__.split('\n')[0])
    parser.add_argument('checkpoint', help='checkpoint directory (ministral-train output or a '
                                           'Mistral3ForConditionalGeneration save)')
    parser.add_argument('out', help='model directory to write (the engine layout)')
    parser.add_argument('--keep-float', action='store_true',
                        help='also write the unquantized graphs (vision_encoder.onnx, ...)')
    parser.add_argument('--float-head', action='store_true',
                        help='keep the LM head float32 (small vocabularies: closer greedy '
                             'agreement for a little size)')
    parser.add_argument('--check-prompts', type=int, default=8,
                        help='held-out prompts for the greedy check against torch (0: skip)')
    parser.add_argument('--tolerance', type=float, default=1e-3,
                        help='largest float logits difference, relative to the logits scale')
    parser.add_argument('--min-agreement', type=float, default=0.0,
                        help='fail if fewer 4-bit greedy outputs than this share equal torch')
    args = parser.parse_args(argv)
    if not (Path(args.checkpoint) / 'config.json').is_file():
        print(f'error: {args.checkpoint} has no config.json', file=sys.stderr)
        return 2
    report = export(args.checkpoint, args.out, args.keep_float, args.check_prompts,
                    args.float_head)
    if report is None:
        print(f'wrote {args.out} (no checks)')
        return 0
    print(json.dumps(report.to_dict()))
    relative = report.logits_max_diff / max(report.logits_scale, 1e-6)
    if relative > args.tolerance:
        print(f'error: float logits differ from torch by {relative:.2e} of their scale',
              file=sys.stderr)
        return 1
    if report.greedy_agreement < args.min_agreement:
        print(f'error: 4-bit greedy agreement {report.greedy_agreement:.2f} is below '
              f'{args.min_agreement}', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
