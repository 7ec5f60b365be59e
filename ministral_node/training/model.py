"""`Mistral3ForConditionalGeneration` configurations for training from scratch.

Same architecture as Ministral 3 (Pixtral vision tower with 2D RoPE, 2x2 patch merger,
projector, Ministral 3 decoder with GQA, YaRN RoPE and tied embeddings), at small sizes.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from ministral_node.tools.build_test_model import IMAGE_MEAN, IMAGE_STD

# The real model's RoPE settings; a small model uses a shorter base wavelength.
ROPE = {'rope_type': 'yarn', 'factor': 16.0, 'original_max_position_embeddings': 16384,
        'beta_fast': 32.0, 'beta_slow': 1.0, 'mscale': 1.0, 'mscale_all_dim': 1.0,
        'llama_4_scaling_beta': 0.1}


@dataclass(frozen=True)
class Preset:
    """Sizes of a model trained from scratch."""

    hidden: int
    layers: int
    heads: int
    kv_heads: int
    intermediate: int
    vision_hidden: int
    vision_layers: int
    vision_heads: int
    vision_intermediate: int
    vocab: int
    rope_theta: float = 10000.0


PRESETS = {
    # The shipped demo model: ~4 M parameters, trains on 2 CPU cores in about half an hour.
    'demo': Preset(256, 4, 8, 2, 768, 128, 2, 4, 384, 2048),
    # Tests: trains a few steps in seconds.
    'micro': Preset(64, 2, 4, 2, 128, 32, 1, 2, 64, 512),
}


def mistral3_config(preset: Preset, image_size: int):
    """A `Mistral3Config` for `preset` (vocab ids: Mistral's control tokens, image token 10)."""
    from transformers import Mistral3Config

    text = {
        'model_type': 'ministral3', 'hidden_size': preset.hidden,
        'num_hidden_layers': preset.layers, 'num_attention_heads': preset.heads,
        'num_key_value_heads': preset.kv_heads, 'head_dim': preset.hidden // preset.heads,
        'intermediate_size': preset.intermediate, 'vocab_size': preset.vocab,
        'rms_norm_eps': 1e-5, 'max_position_embeddings': 262144, 'tie_word_embeddings': True,
        'rope_parameters': {**ROPE, 'rope_theta': preset.rope_theta},
        'hidden_act': 'silu', 'bos_token_id': 1, 'eos_token_id': 2, 'pad_token_id': 11,
    }
    vision = {
        'model_type': 'pixtral', 'hidden_size': preset.vision_hidden,
        'num_hidden_layers': preset.vision_layers,
        'num_attention_heads': preset.vision_heads,
        'head_dim': preset.vision_hidden // preset.vision_heads,
        'intermediate_size': preset.vision_intermediate, 'patch_size': 14,
        'image_size': image_size, 'num_channels': 3, 'hidden_act': 'silu',
    }
    return Mistral3Config(text_config=text, vision_config=vision, image_token_index=10,
                          spatial_merge_size=2, projector_hidden_act='gelu',
                          vision_feature_layer=-1, multimodal_projector_bias=False,
                          tie_word_embeddings=True)


def preprocessor_config(longest_edge: int, patch_size: int = 14) -> dict:
    """`preprocessor_config.json` for a model that sees images up to `longest_edge` pixels."""
    return {
        'image_processor_type': 'PixtralImageProcessor',
        'do_convert_rgb': True, 'do_normalize': True, 'do_rescale': True, 'do_resize': True,
        'image_mean': list(IMAGE_MEAN), 'image_std': list(IMAGE_STD),
        'patch_size': {'height': patch_size, 'width': patch_size},
        'resample': 3, 'rescale_factor': 1 / 255, 'size': {'longest_edge': longest_edge},
    }


def describe(preset: Preset) -> dict:
    return asdict(preset)
