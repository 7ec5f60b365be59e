#!/usr/bin/env python3
"""Write a tiny random-weight llama GGUF (byte-level BPE, ChatML template) for interop runs.

    python scripts/interop/make_tiny_gguf.py OUT.gguf [--seed 7] [--mmproj MMPROJ.gguf]

Needs the `gguf` package (not a project dependency: run it from a scratch venv). The model is
about 0.3 MB: 2 layers, width 64, 4 heads (2 KV heads), a 256-byte vocabulary plus a few
merges and the ChatML special tokens. Its weights are random, so with temperature 1 it writes
noise: exactly what shows whether a server's grammar can keep a reply valid and finite.
`--mmproj` also writes a random LLaVA-style vision projector (CLIP, 32x32 input, 8x8 patches)
for `llama-server --mmproj`, so a server that takes images can be run.
"""

from __future__ import annotations

import argparse

import gguf
import numpy as np

N_EMBD, N_LAYER, N_HEAD, N_KV, N_FF, CTX = 64, 2, 4, 2, 128, 4096
SPECIALS = ['<|endoftext|>', '<|im_start|>', '<|im_end|>']
CHATML = ("{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + "
          "(message['content'] if message['content'] is string else "
          "message['content'] | map(attribute='text') | join('')) + '<|im_end|>' + '\\n'}}"
          "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}")


def byte_tokens() -> list[str]:
    """GPT-2's printable stand-ins for the 256 bytes, in byte order."""
    printable = list(range(ord('!'), ord('~') + 1)) + list(range(0xA1, 0xAD)) + \
        list(range(0xAE, 0x100))
    mapping, extra = {}, 0
    for byte in range(256):
        if byte in printable:
            mapping[byte] = chr(byte)
        else:
            mapping[byte] = chr(256 + extra)
            extra += 1
    return [mapping[b] for b in range(256)]


def write_mmproj(path: str, rng: np.random.Generator, text_embd: int) -> None:
    """A random CLIP encoder with an MLP projector to `text_embd` (llama.cpp's mtmd 'mlp')."""
    size, patch, embd, ff, layers, heads = 32, 8, 32, 64, 2, 2
    writer = gguf.GGUFWriter(path, 'clip')
    writer.add_bool('clip.has_vision_encoder', True)
    writer.add_bool('clip.use_gelu', True)
    writer.add_string('clip.projector_type', 'mlp')
    writer.add_uint32('clip.vision.image_size', size)
    writer.add_uint32('clip.vision.patch_size', patch)
    writer.add_uint32('clip.vision.embedding_length', embd)
    writer.add_uint32('clip.vision.feed_forward_length', ff)
    writer.add_uint32('clip.vision.block_count', layers)
    writer.add_uint32('clip.vision.projection_dim', text_embd)
    writer.add_uint32('clip.vision.attention.head_count', heads)
    writer.add_float32('clip.vision.attention.layer_norm_epsilon', 1e-5)
    writer.add_array('clip.vision.image_mean', [0.5, 0.5, 0.5])
    writer.add_array('clip.vision.image_std', [0.5, 0.5, 0.5])
    writer.add_file_type(gguf.LlamaFileType.ALL_F32)

    def weight(*shape: int) -> np.ndarray:
        return (rng.standard_normal(shape) * 0.2).astype(np.float32)

    positions = (size // patch) ** 2
    writer.add_tensor('v.patch_embd.weight', weight(embd, 3, patch, patch))
    writer.add_tensor('v.position_embd.weight', weight(positions, embd))
    for layer in range(layers):
        name = f'v.blk.{layer}.'
        for part in ('attn_q', 'attn_k', 'attn_v', 'attn_out'):
            writer.add_tensor(name + part + '.weight', weight(embd, embd))
            writer.add_tensor(name + part + '.bias', np.zeros(embd, np.float32))
        for norm in ('ln1', 'ln2'):
            writer.add_tensor(name + norm + '.weight', np.ones(embd, np.float32))
            writer.add_tensor(name + norm + '.bias', np.zeros(embd, np.float32))
        writer.add_tensor(name + 'ffn_up.weight', weight(ff, embd))
        writer.add_tensor(name + 'ffn_up.bias', np.zeros(ff, np.float32))
        writer.add_tensor(name + 'ffn_down.weight', weight(embd, ff))
        writer.add_tensor(name + 'ffn_down.bias', np.zeros(embd, np.float32))
    writer.add_tensor('mm.0.weight', weight(text_embd, embd))
    writer.add_tensor('mm.0.bias', np.zeros(text_embd, np.float32))
    writer.add_tensor('mm.2.weight', weight(text_embd, text_embd))
    writer.add_tensor('mm.2.bias', np.zeros(text_embd, np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    print(f'{path}: CLIP {size}x{size}, patch {patch}, width {embd} -> {text_embd}')


def main() -> None:
    cli = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    cli.add_argument('out')
    cli.add_argument('--seed', type=int, default=7)
    cli.add_argument('--mmproj', help='also write a random vision projector here')
    args = cli.parse_args()
    rng = np.random.default_rng(args.seed)
    tokens = byte_tokens()
    space = tokens[ord(' ')]
    merges = [f'{space} t', f'{space} a', 'e r', '" :', ', "']
    for merge in merges:
        tokens.append(merge.replace(' ', ''))
    types = [gguf.TokenType.NORMAL] * len(tokens)
    tokens += SPECIALS
    types += [gguf.TokenType.CONTROL] * len(SPECIALS)
    vocab = len(tokens)

    writer = gguf.GGUFWriter(args.out, 'llama')
    writer.add_name('tiny-random-llama')
    writer.add_context_length(CTX)
    writer.add_embedding_length(N_EMBD)
    writer.add_block_count(N_LAYER)
    writer.add_feed_forward_length(N_FF)
    writer.add_head_count(N_HEAD)
    writer.add_head_count_kv(N_KV)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_rope_dimension_count(N_EMBD // N_HEAD)
    writer.add_vocab_size(vocab)
    writer.add_file_type(gguf.LlamaFileType.ALL_F32)
    writer.add_tokenizer_model('gpt2')
    writer.add_tokenizer_pre('default')
    writer.add_token_list(tokens)
    writer.add_token_types(types)
    writer.add_token_merges(merges)
    writer.add_bos_token_id(tokens.index('<|endoftext|>'))
    writer.add_eos_token_id(tokens.index('<|im_end|>'))
    writer.add_add_bos_token(False)
    writer.add_chat_template(CHATML)

    def weight(*shape: int, scale: float = 0.2) -> np.ndarray:
        return (rng.standard_normal(shape) * scale).astype(np.float32)

    head = N_EMBD // N_HEAD
    writer.add_tensor('token_embd.weight', weight(vocab, N_EMBD, scale=1.0))
    writer.add_tensor('output_norm.weight', np.ones(N_EMBD, np.float32))
    writer.add_tensor('output.weight', weight(vocab, N_EMBD, scale=0.5))
    for layer in range(N_LAYER):
        name = f'blk.{layer}.'
        writer.add_tensor(name + 'attn_norm.weight', np.ones(N_EMBD, np.float32))
        writer.add_tensor(name + 'attn_q.weight', weight(N_HEAD * head, N_EMBD))
        writer.add_tensor(name + 'attn_k.weight', weight(N_KV * head, N_EMBD))
        writer.add_tensor(name + 'attn_v.weight', weight(N_KV * head, N_EMBD))
        writer.add_tensor(name + 'attn_output.weight', weight(N_EMBD, N_HEAD * head))
        writer.add_tensor(name + 'ffn_norm.weight', np.ones(N_EMBD, np.float32))
        writer.add_tensor(name + 'ffn_gate.weight', weight(N_FF, N_EMBD))
        writer.add_tensor(name + 'ffn_up.weight', weight(N_FF, N_EMBD))
        writer.add_tensor(name + 'ffn_down.weight', weight(N_EMBD, N_FF))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    print(f'{args.out}: vocab {vocab}, {N_LAYER} layers, width {N_EMBD}')
    if args.mmproj:
        write_mmproj(args.mmproj, rng, N_EMBD)


if __name__ == '__main__':
    main()
