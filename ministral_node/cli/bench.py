"""`ministral-bench`: how fast and how big the onboard model is on this machine.

    ministral-bench MODEL_DIR                 # a model directory (published layout)
    ministral-bench --synthetic 3b            # real 3B shapes, random 4-bit weights (built once)
    ministral-bench --synthetic 3b --baseline --json OUT.json   # today's vs the old settings
    ministral-bench --masking-only            # constraint cost at the test and 131k vocabularies
    ministral-bench MODEL_DIR --verify-only   # cost of measured confidence and the verify stage
    ministral-bench --reflex --synthetic 3b   # a "stop" while the model decides (over DDS)

Each engine configuration runs in its own process (one after the other, so peak memory is
that configuration's alone): load time and memory, vision encoder time per `max_image_edge`,
time to first token with and without the prefix cache, decode ms/token at 100 and 1000 tokens
of context, end-to-end decisions (OnboardDecider, constrained) for each edge, a second command
on the same frame, tokens and decode steps per decision, and peak memory. Beside them: the
machine's measured memory read bandwidth and the weight-bandwidth limit per token that follows,
the JSON constraint's masking cost, and onnxruntime-genai's generator on the same decoder graph
when `onnxruntime-genai` is installed (it needs a graph that takes token ids: the bench writes
one that puts the embedding lookup in front of the same decoder nodes and weights, and the
genai config, under the cache directory). `--baseline` adds the settings from before the engine
kept its KV cache on the device (in place, with the fused-attention decoder), computed
last-position logits only, gave back load memory and ONNX Runtime's arena memory, cached image
features and bounded the free text (output budget), so the ratio holds on a noisy machine.
Each run's figures are also kept in CACHE_DIR/last-<model>-<run>.json as it ends.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from ministral_node.decision import CommandInfo
from ministral_node.decoding.constrained import BUDGET_PARAMETERS, JsonConstraint, string_caps
from ministral_node.engine import memory, model_files
from ministral_node.engine.generation import CancelWatcher, GenerationOptions, KVCache, decode
from ministral_node.inputs.camera import Frame
from ministral_node.parameters import SPECS
from ministral_node.sources.base import DeciderError, DecisionRequest
from ministral_node.sources.onboard import OnboardDecider
from ministral_node.sources.system_prompt import system_prompt, user_text
from ministral_node.timing import Cancellation

COMMAND = 'Follow the person in the yellow jacket and keep ten metres away.'
COMPLETE_MARK = '.complete'
REAL_VOCAB = 131072
CONTEXTS = (100, 1000)
# Engine settings per configuration; `baseline` is how the engine ran before issue 17.
CONFIGS: dict[str, dict[str, Any]] = {
    'current': {},
    'baseline': {'kv_binding': False, 'optimized_decoder': False, 'release_load_memory': False,
                 'vision_cache_entries': 0, 'memory_arena': True},
}
# Output budget per configuration: the parameters' defaults now; before, none (the generation
# schema's own caps: rationale 160, label 60, other strings 200 characters).
BUDGETS: dict[str, dict[str, int]] = {
    'current': string_caps({name: SPECS[name].default for name in BUDGET_PARAMETERS}),
    'baseline': {},
}


class Table:
    """Rows of (measure, values..., note), printed aligned."""

    def __init__(self, columns: tuple[str, ...] = ('value',)) -> None:
        self.columns = columns
        self.rows: list[tuple[str, tuple[str, ...], str]] = []

    def add(self, measure: str, values: str | tuple[str, ...], note: str = '') -> None:
        """Add a row (and show it on stderr at once: real-size runs take minutes)."""
        values = (values,) if isinstance(values, str) else values
        values = values + ('',) * (len(self.columns) - len(values))
        self.rows.append((measure, values, note))
        print(f'  {measure}: {" | ".join(values)} {note}'.rstrip(), file=sys.stderr, flush=True)

    def render(self) -> str:
        """The table as text."""
        header = ('measure', *self.columns, 'note')
        rows = [(m, *v, n) for m, v, n in self.rows]
        widths = [max(len(r[i]) for r in rows + [header]) for i in range(len(header) - 1)]
        line = '+'.join('-' * (w + 2) for w in widths) + '+' + '-' * 6

        def fmt(row: tuple[str, ...]) -> str:
            cells = [f' {row[0]:<{widths[0]}} ']
            cells += [f' {row[i]:>{widths[i]}} ' for i in range(1, len(widths))]
            return '|'.join(cells) + f'| {row[-1]}'.rstrip()

        return '\n'.join([fmt(header), line] + [fmt(r) for r in rows])


# Model and machine ---------------------------------------------------------------------------

def synthetic_model(preset: str, cache_dir: Path) -> Path:
    """A synthetic model with real shapes, built once and kept under `cache_dir`."""
    from ministral_node.tools.build_test_model import BuildOptions, build
    from ministral_node.tools.optimize import optimize

    out = cache_dir / f'synthetic-{preset}'
    began = time.monotonic()
    if not (out / COMPLETE_MARK).is_file():
        print(f'building synthetic {preset} model in {out} (once) ...', file=sys.stderr,
              flush=True)
        build(out, BuildOptions(preset=preset, fp16_decoder=False,
                                tokenizer_words=(system_prompt(),)))
    # As a user would after fetching an export: `ministral-optimize`'s checked variant (made
    # again when an older version of the tool made it with fewer edits).
    files = model_files.locate(out, optimized=False)
    made = model_files.optimized_variant(files.decoder)
    if made is None or model_files.FUSED_ATTENTION not in made[1]:
        print('optimizing the decoder ...', file=sys.stderr, flush=True)
        optimize(files.decoder, files.text_config)
    if not (out / COMPLETE_MARK).is_file():
        (out / COMPLETE_MARK).write_text('ok\n')
        print(f'built in {time.monotonic() - began:.0f} s', file=sys.stderr, flush=True)
    return out


def read_bandwidth_gbps(mib: int = 512, repeats: int = 5, threads: int | None = None) -> float:
    """Memory read bandwidth, GB/s: every core takes the dot product of its share of an array
    much larger than the caches with itself (each byte read once; BLAS releases the GIL, and
    it read faster here than numpy's reductions or copies); best of `repeats`."""
    threads = threads or os.cpu_count() or 1
    data = np.ones(mib * 2**20 // 4, dtype=np.float32)
    parts = np.array_split(data, threads)
    best = float('inf')
    for _ in range(repeats):
        workers = [threading.Thread(target=np.dot, args=(part, part)) for part in parts]
        began = time.perf_counter()
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        best = min(best, time.perf_counter() - began)
    return data.nbytes / best / 1e9


def weight_bytes(onnx_path: Path) -> int:
    """Bytes of a graph's weights: its external data files plus the .onnx file itself."""
    data = sum(p.stat().st_size for p in onnx_path.parent.glob(onnx_path.name + '_data*'))
    return data + onnx_path.stat().st_size


def kv_bytes_per_token(config: dict, itemsize: int) -> int:
    """KV-cache bytes one position adds (and each decode step reads back)."""
    text = config.get('text_config', config)
    head_dim = text.get('head_dim') or text['hidden_size'] // text['num_attention_heads']
    return 2 * text['num_hidden_layers'] * text['num_key_value_heads'] * head_dim * itemsize


def masking_cost(tokenizer_json: str, eos: int, steps: int, seed: int = 0) -> dict[str, float]:
    """Mask time per token on random walks through the proposal grammar (no model)."""
    began = time.perf_counter()
    constraint = JsonConstraint(tokenizer_json, eos)
    compile_s = time.perf_counter() - began
    rng = np.random.default_rng(seed)
    times: list[float] = []
    while len(times) < steps:
        processor = constraint.processor(10_000)
        while not processor.finished():
            logits = rng.standard_normal(constraint.vocab_size).astype(np.float32)
            processor.advance(int(np.argmax(processor.process(logits))))
        times.extend(processor.stats.times)
    values = np.asarray(times[:steps]) * 1000
    return {'vocab': constraint.vocab_size, 'compile_s': compile_s,
            'median_ms': float(np.median(values)), 'p99_ms': float(np.percentile(values, 99)),
            'tokens': len(values)}


def camera_frame(seed: int = 0) -> Frame:
    """A 1280x720 camera frame; max_image_edge decides what the encoder sees."""
    rng = np.random.default_rng(seed)
    return Frame(rng.integers(0, 256, (720, 1280, 3), dtype=np.uint8), 1.0, 'camera')


def bench_masking(table: Table, model_dir: Path | None, steps: int) -> None:
    """Masking cost at the model's vocabulary, and at a constructed 131k one if smaller."""
    from ministral_node.tools.tokenizer_builder import construct_large

    sources = []
    if model_dir is not None:
        sources.append(('model', (model_dir / 'tokenizer.json').read_text(encoding='utf-8')))
    else:
        from ministral_node.tools.tokenizer_builder import train_small

        sources.append(('test', train_small().to_str()))
    costs = [(label, masking_cost(text, 2, steps)) for label, text in sources]
    if all(cost['vocab'] < REAL_VOCAB for _, cost in costs):
        text = construct_large(REAL_VOCAB, words=(system_prompt(),)).to_str()
        costs.append(('constructed', masking_cost(text, 2, steps)))
    for label, cost in costs:
        table.add(f'JSON mask per token, {label} vocab {cost["vocab"]}',
                  f'{cost["median_ms"]:.3f} ms', f'p99 {cost["p99_ms"]:.3f} ms over '
                  f'{cost["tokens"]} tokens; grammar compile {cost["compile_s"]:.2f} s')


# One engine configuration (runs in a child process) ------------------------------------------

def random_cache(decoder: Any, length: int, seed: int = 0) -> KVCache:
    """A KV cache of `length` positions with random values (decode cost does not depend on
    them), in the decoder's own form: OrtValues on its device, or host arrays."""
    import onnxruntime as ort

    layout = decoder.layout
    rng = np.random.default_rng(seed)
    shape = (1, layout.kv_heads, length, layout.head_dim)
    on_device = decoder.empty_cache().tensors[0][0]
    pairs = []
    for _ in range(layout.num_layers):
        pair = []
        for _ in range(2):
            host = (rng.standard_normal(shape) * 0.1).astype(layout.kv_dtype)
            pair.append(host if isinstance(on_device, np.ndarray) else
                        ort.OrtValue.ortvalue_from_numpy(host, decoder.device, decoder.device_id))
        pairs.append(tuple(pair))
    return KVCache(tuple(pairs), length)


def decode_ms_per_token(engine: Any, context: int, steps: int) -> float:
    """Median ms of one unconstrained greedy decode step after `context` cached positions."""
    start = random_cache(engine.decoder, context)
    embeds = engine.embed(np.array([[engine.tokenizer.vocab_size // 2]], dtype=np.int64))
    with CancelWatcher(None) as watcher:
        outcome = decode(engine.decoder, engine.embed, embeds, start, (),
                         GenerationOptions(max_new_tokens=steps + 1), watcher)
    return float(np.median(outcome.step_times) * 1000)


def run_config(model_dir: Path, name: str, args: argparse.Namespace) -> dict[str, Any]:
    """Every figure of one engine configuration, as a dict (the child process's output)."""
    settings = CONFIGS[name]
    out: dict[str, Any] = {'settings': settings, 'output_budget': BUDGETS[name]}
    params = {'model_dir': str(model_dir), 'execution_providers': args.providers,
              'intra_op_threads': args.threads, 'decoder_variant': args.variant,
              'max_new_tokens': args.max_new_tokens, 'temperature': 0.0,
              'max_image_edge': args.edges[0], 'prefix_cache': True}
    decider = OnboardDecider.from_params(params)
    decider.engine_options = replace(decider.engine_options, **settings)
    began = time.perf_counter()
    decider.load()
    engine = decider.engine
    out['load_s'] = time.perf_counter() - began

    def constraint(caps: dict[str, int]) -> JsonConstraint:
        return JsonConstraint(engine.tokenizer.to_json(), engine.tokenizer.special.eos,
                              engine.tokenizer.vocab_size, caps=caps)

    constraints = {'service': decider.constraint}
    if BUDGETS[name]:  # compiled in place of the decider's own, as the node does at load
        decider.constraint = constraints['service'] = None
        memory.trim_heap()
        constraints['service'] = decider.constraint = constraint(BUDGETS[name])
    after_load = memory.process_memory()
    out.update(rss_after_load_mib=after_load.rss_mib, anon_after_load_mib=after_load.anon_mib,
               file_after_load_mib=after_load.file_mib,
               released_after_load_mib=engine.released_mib,
               provider=engine.identity().provider,
               layers=engine.sessions.decoder_layout.num_layers,
               decoder_file=engine.files.decoder.name,
               decoder_edits=list(engine.files.decoder_edits),
               kv_cache=type(engine.decoder).__name__,
               last_logits_only=engine.sessions.decoder_layout.logits_to_keep_name is not None)
    system = system_prompt()
    frame = camera_frame()
    # First runs pay one-off costs (allocations, weight prepacking): keep them out.
    began = time.perf_counter()
    engine.encode_image(engine.prepare_image(frame.image[:56, :56]))
    engine.generate('warm-up', 'warm-up', None, GenerationOptions(max_new_tokens=2))
    engine.prefix_cache.clear()
    out['warm_up_s'] = time.perf_counter() - began

    out['vision'] = {}
    for edge in args.edges:
        engine.options = replace(engine.options, max_image_edge=edge)
        prepared = engine.prepare_image(frame.image)
        began = time.perf_counter()
        engine.encode_image(prepared)
        out['vision'][str(edge)] = {'s': time.perf_counter() - began,
                                    'pixels': list(prepared.pixel_values.shape[2:]),
                                    'tokens': prepared.num_tokens}

    text = user_text(DecisionRequest(CommandInfo('b', COMMAND, 0.0)))
    one = GenerationOptions(max_new_tokens=1)
    engine.prefix_cache.clear()
    cold = engine.generate(system, text, None, one)
    warm = engine.generate(system, text, None, one)
    out['first_token'] = {'cold_s': cold.timings['first_token_s'],
                          'cached_prefix_s': warm.timings['first_token_s'],
                          'prompt_tokens': cold.prompt_tokens, 'reused': warm.prefix_reused}

    out['decisions'] = {}
    request = DecisionRequest(CommandInfo('b', COMMAND, 0.0), frame)
    runs = [(edge, True, 'first', 'service') for edge in args.edges]
    runs.insert(1, (args.edges[0], True, 'same_frame', 'service'))
    if name == 'current' and args.compare_prefix:
        runs.append((args.edges[0], False, 'first', 'service'))
    if name == 'current':
        # What the output budget alone is worth (same engine, other caps), at the last edge;
        # after the service figures, as these extra grammars take memory the node never does.
        runs += [(args.edges[-1], True, 'first', budget) for budget in ('unbudgeted',
                                                                       'no_rationale')]
    for edge, reuse, kind, budget in runs:
        if budget not in constraints:
            served = memory.process_memory()
            out.update(peak_rss_mib=served.peak_mib, rss_end_mib=served.rss_mib)
            constraints[budget] = constraint({'rationale': 0} if budget == 'no_rationale'
                                             else {})
        decider.configure({'max_image_edge': edge, 'prefix_cache': reuse})
        decider.constraint = constraints[budget]
        if kind == 'first':
            engine.prefix_cache.clear()
            engine.vision_cache.clear()
            if reuse:
                engine.generate(system, text, None, one)  # warm the prefix, as in service
        began = time.perf_counter()
        decider.last_result = None
        try:
            decider.decide(request, Cancellation())
            outcome = 'ok'
        except DeciderError as exc:  # random weights may write what the budget cannot hold
            outcome = f'refused: {exc}'
        latency = time.perf_counter() - began
        result = decider.last_result
        if result is None:
            out['decisions_failed'] = out.get('decisions_failed', 0) + 1
            continue
        t = result.timings
        key = f'{edge}_{"reused" if reuse else "off"}_{kind}'
        out['decisions'][key + ('' if budget == 'service' else f'_{budget}')] = {
            'edge': edge, 'prefix': reuse, 'kind': kind, 'budget': budget, 's': latency,
            'vision_s': t['vision_s'], 'vision_reused': result.vision_reused,
            'prefill_s': t['prefix_s'] + t['prefill_s'],
            'prefill_tokens': result.prompt_tokens - result.prefix_reused,
            'decode_s': t['decode_s'], 'tokens': result.new_tokens,
            'decode_steps': result.decode_steps + 1, 'stop': result.stop_reason,
            'outcome': outcome}
        if outcome != 'ok':
            out['decisions_refused'] = out.get('decisions_refused', 0) + 1
    if 'peak_rss_mib' not in out:
        served = memory.process_memory()
        out.update(peak_rss_mib=served.peak_mib, rss_end_mib=served.rss_mib)
    out['decode_ms_per_token'] = {str(c): decode_ms_per_token(engine, c, args.decode_tokens)
                                  for c in CONTEXTS}
    out['peak_rss_after_context_mib'] = memory.process_memory().peak_mib
    decider.close()
    return out


# onnxruntime-genai on the same decoder graph -------------------------------------------------

def genai_available() -> str | None:
    """None when onnxruntime-genai imports, else why not."""
    try:
        import onnxruntime_genai  # noqa: F401
    except ImportError as exc:
        return f'onnxruntime-genai is not installed ({exc}); pip install onnxruntime-genai'
    return None


def genai_model(model_dir: Path, variant: str, cache_dir: Path) -> Path:
    """A folder onnxruntime-genai loads: the decoder's nodes and weights with the embedding
    lookup in front (genai's generator feeds token ids), and its `genai_config.json`. Weight
    files are hard links (no copy); the graph file is new, the model directory is untouched."""
    import onnx
    from onnx import TensorProto, helper

    files = model_files.locate(model_dir, variant, optimized=False)
    out = cache_dir / f'genai-{model_dir.name}-{variant}'
    out.mkdir(parents=True, exist_ok=True)
    for source in (files.decoder, files.embed):
        for data in source.parent.glob(source.name + '_data*'):
            link = out / data.name
            if link.exists() and not os.path.samefile(link, data):
                link.unlink()
            if not link.exists():
                os.link(data, link)  # genai refuses external data outside its folder
    decoder = onnx.load(str(files.decoder), load_external_data=False)
    embed = onnx.load(str(files.embed), load_external_data=False)
    lookup = next(n for n in embed.graph.node if n.op_type == 'Gather')
    embeds = next(i for i in decoder.graph.input if i.name == 'inputs_embeds')
    nodes = [helper.make_node('Gather', [lookup.input[0], 'input_ids'], ['bench/embeds'],
                              axis=0, name='bench/embed'),
             helper.make_node('Cast', ['bench/embeds'], ['inputs_embeds'], name='bench/cast',
                              to=embeds.type.tensor_type.elem_type)]
    ids = helper.make_tensor_value_info('input_ids', TensorProto.INT64,
                                        ['batch_size', 'sequence_length'])
    graph = helper.make_graph(
        nodes + list(decoder.graph.node), 'decoder_with_embedding',
        [ids] + [i for i in decoder.graph.input if i.name != 'inputs_embeds'],
        list(decoder.graph.output),
        list(embed.graph.initializer) + list(decoder.graph.initializer))
    merged = helper.make_model(graph, opset_imports=decoder.opset_import)
    merged.ir_version = decoder.ir_version
    target = out / 'decoder.onnx'
    target.unlink(missing_ok=True)  # never write through a link
    onnx.save(merged, str(target))
    text = files.text_config
    head = text.get('head_dim') or text['hidden_size'] // text['num_attention_heads']
    config = {
        'model': {
            'type': 'mistral', 'bos_token_id': 1, 'pad_token_id': 11,
            'eos_token_id': list(files.eos_ids), 'vocab_size': text['vocab_size'],
            'context_length': 4096,
            'decoder': {
                'filename': target.name, 'head_size': head, 'hidden_size': text['hidden_size'],
                'num_attention_heads': text['num_attention_heads'],
                'num_hidden_layers': text['num_hidden_layers'],
                'num_key_value_heads': text['num_key_value_heads'],
                'session_options': {'log_id': 'ministral-bench', 'provider_options': []},
                'inputs': {'input_ids': 'input_ids', 'attention_mask': 'attention_mask',
                           'position_ids': 'position_ids',
                           'past_key_names': 'past_key_values.%d.key',
                           'past_value_names': 'past_key_values.%d.value'},
                'outputs': {'logits': 'logits', 'present_key_names': 'present.%d.key',
                            'present_value_names': 'present.%d.value'}}},
        'search': {'do_sample': False, 'num_beams': 1, 'max_length': 4096,
                   'past_present_share_buffer': False},
    }
    (out / 'genai_config.json').write_text(json.dumps(config, indent=2) + '\n')
    return out


def run_genai(folder: Path, steps: int, vocab: int) -> dict[str, Any]:
    """onnxruntime-genai's decode ms/token (median step) after 100 and 1000 prompt tokens."""
    import onnxruntime_genai as og

    began = time.perf_counter()
    model = og.Model(str(folder))
    out: dict[str, Any] = {'load_s': time.perf_counter() - began, 'version': og.__version__,
                           'decode_ms_per_token': {}}
    rng = np.random.default_rng(0)
    for context in CONTEXTS:
        params = og.GeneratorParams(model)
        params.set_search_options(max_length=context + steps + 2, do_sample=False)
        generator = og.Generator(model, params)
        began = time.perf_counter()
        generator.append_tokens(rng.integers(vocab // 4, vocab // 2, size=context).tolist())
        prefill_s = time.perf_counter() - began
        generator.generate_next_token()  # picks from the prefill's logits, runs nothing
        times = []
        for _ in range(steps):
            began = time.perf_counter()
            generator.generate_next_token()
            times.append(time.perf_counter() - began)
        out['decode_ms_per_token'][str(context)] = float(np.median(times) * 1000)
        out[f'prefill_s_{context}'] = prefill_s
        del generator
    out['peak_rss_mib'] = memory.process_memory().peak_mib
    return out


# Running and reporting -------------------------------------------------------------------------

def child(kind: str, model_dir: Path, args: argparse.Namespace) -> dict[str, Any]:
    """Run one configuration (or genai) in a fresh process; its figures, or {'error': ...}."""
    with tempfile.TemporaryDirectory() as folder:
        result = Path(folder) / 'result.json'
        command = [sys.executable, '-m', 'ministral_node.cli.bench', str(model_dir),
                   '--child', kind, '--child-out', str(result), '--cache-dir', args.cache_dir,
                   '--edges', *map(str, args.edges), '--providers', *args.providers,
                   '--threads', str(args.threads), '--variant', args.variant,
                   '--decode-tokens', str(args.decode_tokens),
                   '--max-new-tokens', str(args.max_new_tokens)]
        if not args.compare_prefix:
            command.append('--no-compare-prefix')
        print(f'[{kind}] running in a fresh process ...', file=sys.stderr, flush=True)
        done = subprocess.run(command, check=False)
        if done.returncode != 0 or not result.is_file():
            return {'error': f'{kind} run failed (exit {done.returncode})'}
        text = result.read_text()
        # Kept as each run ends: a long real-size bench interrupted later loses nothing.
        (Path(args.cache_dir) / f'last-{model_dir.name}-{kind}.json').write_text(text)
        return json.loads(text)


def _ms(value: float | None) -> str:
    return '' if value is None else f'{value:.1f} ms'


def _s(value: float | None) -> str:
    return '' if value is None else f'{value:.2f} s'


def _mib(value: float | None) -> str:
    return '' if value is None else f'{value:.0f} MiB'


def summary(runs: dict[str, dict[str, Any]], genai: dict[str, Any] | None,
            bandwidth: float, weights: int, kv_token: int, edges: list[int]) -> dict[str, Any]:
    """The JSON document: headline figures of the current settings, then everything."""
    current = runs['current']
    out: dict[str, Any] = {'memory_bandwidth_gbps': bandwidth, 'decoder_weight_bytes': weights,
                           'kv_bytes_per_position': kv_token}
    for context in CONTEXTS:
        suffix = '' if context == CONTEXTS[0] else f'_ctx{context}'
        limit = (weights + kv_token * context) / (bandwidth * 1e9) * 1000
        ours = current.get('decode_ms_per_token', {}).get(str(context))
        out[f'bandwidth_limit_ms_per_token{suffix}'] = limit
        out[f'decode_ms_per_token{suffix}'] = ours
        out[f'decode_over_limit{suffix}'] = ours / limit if ours else None
        out[f'genai_decode_ms_per_token{suffix}'] = (
            genai.get('decode_ms_per_token', {}).get(str(context)) if genai else None)
    for key in ('peak_rss_mib', 'rss_after_load_mib', 'load_s'):
        out[key] = current.get(key)
    # Random weights may write a proposal the output budget cannot hold: measured, not fatal.
    out['decisions_refused'] = current.get('decisions_refused', 0)
    out['decisions_failed'] = current.get('decisions_failed', 0)
    for edge in edges:
        first = current.get('decisions', {}).get(f'{edge}_reused_first', {})
        out[f'decision_s_edge_{edge}'] = first.get('s')
        out[f'decision_tokens_edge_{edge}'] = first.get('tokens')
        out[f'decision_decode_steps_edge_{edge}'] = first.get('decode_steps')
    same = current.get('decisions', {}).get(f'{edges[0]}_reused_same_frame', {})
    out[f'decision_s_edge_{edges[0]}_same_frame'] = same.get('s')
    for budget in ('unbudgeted', 'no_rationale'):
        run = current.get('decisions', {}).get(f'{edges[-1]}_reused_first_{budget}', {})
        out[f'decision_s_edge_{edges[-1]}_{budget}'] = run.get('s')
        out[f'decision_decode_steps_edge_{edges[-1]}_{budget}'] = run.get('decode_steps')
    if 'baseline' in runs:
        base = runs['baseline']
        out['baseline'] = {
            'peak_rss_mib': base.get('peak_rss_mib'),
            'rss_after_load_mib': base.get('rss_after_load_mib'),
            'decode_ms_per_token': base.get('decode_ms_per_token', {}).get(str(CONTEXTS[0])),
            'decode_ms_per_token_ctx1000': base.get('decode_ms_per_token', {}).get(
                str(CONTEXTS[1])),
            **{f'decision_s_edge_{edge}': base.get('decisions', {}).get(
                f'{edge}_reused_first', {}).get('s') for edge in edges},
            f'decision_s_edge_{edges[0]}_same_frame': base.get('decisions', {}).get(
                f'{edges[0]}_reused_same_frame', {}).get('s')}
    out['runs'] = runs
    out['genai'] = genai
    return out


def report(table: Table, runs: dict[str, dict[str, Any]], genai: dict[str, Any] | None,
           doc: dict[str, Any], edges: list[int]) -> None:
    """Rows comparing the configurations side by side."""
    names = list(runs)

    def row(measure: str, get: Any, fmt: Any, note: str = '') -> None:
        values = []
        for name in names:
            try:
                values.append(fmt(get(runs[name])))
            except (KeyError, TypeError):
                values.append('')
        table.add(measure, tuple(values), note)

    current = runs['current']
    row('load (sessions + grammar)', lambda r: r['load_s'], _s,
        f'{current.get("decoder_file", "")} ({", ".join(current.get("decoder_edits", []))}), '
        f'{current.get("kv_cache", "")}, {current.get("provider", "")}, '
        f'{current.get("layers", "")} layers')
    row('RSS after load', lambda r: r['rss_after_load_mib'], _mib,
        'current: anonymous {:.0f} + file-backed {:.0f} MiB, {:.0f} MiB given back'.format(
            current.get('anon_after_load_mib', 0), current.get('file_after_load_mib', 0),
            current.get('released_after_load_mib', 0)))
    row('warm-up (first runs)', lambda r: r['warm_up_s'], _s)
    for edge in edges:
        vision = current.get('vision', {}).get(str(edge), {})
        row(f'vision encoder, edge {edge}', lambda r, e=edge: r['vision'][str(e)]['s'], _s,
            f'{"x".join(map(str, vision.get("pixels", [])[::-1]))} px, '
            f'{vision.get("tokens", "")} image tokens')
    first = current.get('first_token', {})
    row('time to first token, text only, cold prefix', lambda r: r['first_token']['cold_s'],
        _s, f'{first.get("prompt_tokens", "")} prompt tokens')
    row('time to first token, text only, cached prefix',
        lambda r: r['first_token']['cached_prefix_s'], _s,
        f'{first.get("reused", "")} positions reused')
    for context in CONTEXTS:
        suffix = '' if context == CONTEXTS[0] else f'_ctx{context}'
        row(f'decode, {context} tokens of context',
            lambda r, c=context: r['decode_ms_per_token'][str(c)], _ms,
            f'median step, unconstrained greedy; onnxruntime-genai '
            f'{_ms(doc.get("genai_decode_ms_per_token" + suffix)) or "not run"}; '
            f'bandwidth limit {_ms(doc["bandwidth_limit_ms_per_token" + suffix])}')
    for key, decision in current.get('decisions', {}).items():
        label = (f'decision, edge {decision["edge"]}, prefix '
                 f'{"reused" if decision["prefix"] else "off"}'
                 + (', same frame again' if decision['kind'] == 'same_frame' else '')
                 + {'service': '', 'unbudgeted': ', no output budget',
                    'no_rationale': ', rationale off'}[decision['budget']])
        row(label, lambda r, k=key: r['decisions'][k]['s'], _s,
            f'current: vision {decision["vision_s"]:.2f}'
            f'{" (cached)" if decision["vision_reused"] else ""} + prefill '
            f'{decision["prefill_s"]:.2f} ({decision["prefill_tokens"]} tokens) + decode '
            f'{decision["decode_s"]:.2f} s ({decision["tokens"]} tokens in '
            f'{decision["decode_steps"]} steps, {decision["stop"]})'
            + ('' if decision.get('outcome', 'ok') == 'ok' else f'; {decision["outcome"]}'))
    row('peak RSS (load + service decisions)', lambda r: r['peak_rss_mib'], _mib)
    row('peak RSS after 1000-token decode', lambda r: r['peak_rss_after_context_mib'], _mib)
    if genai is not None and 'error' not in genai:
        table.add('onnxruntime-genai load', _s(genai['load_s']),
                  f'version {genai["version"]}, peak RSS {_mib(genai["peak_rss_mib"])}')


def _spread(values_ms: list[float]) -> str:
    ordered = sorted(values_ms)
    return (f'median {ordered[len(ordered) // 2]:.3f} ms, p95 '
            f'{ordered[int(len(ordered) * 0.95)]:.3f} ms, max {ordered[-1]:.3f} ms')


def bench_verify(table: Table, model_dir: Path, count: int) -> None:
    """What measured confidence and the verify stage add to a decision: the hand-written
    commands decided by the model, then each step timed on its own (no model run in them)."""
    from ministral_node import parameters
    from ministral_node.decoding.confidence import field_confidence
    from ministral_node.engine.generation import chosen_logprob
    from ministral_node.sources.rules.verify import Verifier, VerifySettings
    from ministral_node.training.handwritten import load_cases
    from ministral_node.training.scenes import demo_scene

    values = parameters.validate({**parameters.defaults(), 'model_dir': str(model_dir),
                                  'execution_providers': ['cpu']})
    decider = OnboardDecider.from_params(values)
    decider.load()
    verifier = Verifier(VerifySettings.from_params(values))
    image = demo_scene().image
    decide_ms, measure_ms, verify_ms, steps = [], [], [], []
    for i, case in enumerate(load_cases()[:count]):
        request = DecisionRequest(CommandInfo(f'b{i}', case.text, 0.0),
                                  Frame(image, 0.0, 'camera'))
        began = time.perf_counter()
        try:
            proposal = decider.decide(request, Cancellation())
        except DeciderError:
            continue
        decide_ms.append((time.perf_counter() - began) * 1000)
        result = decider.last_result
        steps.append(len(result.token_ids))
        began = time.perf_counter()
        field_confidence(result.token_pieces(decider.engine.tokenizer.decode), result.text)
        measure_ms.append((time.perf_counter() - began) * 1000)
        began = time.perf_counter()
        verifier('onboard', request, proposal)
        verify_ms.append((time.perf_counter() - began) * 1000)
    decider.close()
    table.add('model decision', _spread(decide_ms), f'{len(decide_ms)} hand-written commands, '
              f'{model_dir.name}, with the demo camera frame (for scale)')
    table.add('confidence from logprobs', _spread(measure_ms),
              f'tokens -> fields after decoding (median {int(np.median(steps))} tokens)')
    table.add('verify stage', _spread(verify_ms), 'provenance, rule parser, arbitration, box')
    rng = np.random.default_rng(0)
    for allowed in (REAL_VOCAB, 64):
        row = np.full(REAL_VOCAB, -np.inf, np.float32)
        keep = rng.choice(REAL_VOCAB, allowed, replace=False)
        row[keep] = rng.normal(0, 3, allowed).astype(np.float32)
        began = time.perf_counter()
        for token in keep[:200]:
            chosen_logprob(row, int(token))
        table.add(f'logprob per token, {allowed} allowed',
                  f'{(time.perf_counter() - began) / 200 * 1e3:.3f} ms',
                  f'in the decode loop, {REAL_VOCAB}-token vocabulary')


def reflex_main(args: argparse.Namespace) -> int:
    """`--reflex`: the reflex bench (`reflex_bench`), printed and optionally saved."""
    from ministral_node.cli.reflex_bench import (
        first_decision_latency,
        render,
        render_first_decision,
        run_reflex_bench,
    )

    model_dir = synthetic_model(args.synthetic, Path(args.cache_dir)) if args.synthetic \
        else Path(args.model_dir) if args.model_dir else None
    figures = run_reflex_bench(model_dir, args.reflex_runs, args.stop_after, args.domain_id)
    if model_dir is not None:
        figures['first_decision'] = first_decision_latency(model_dir, args.edges)
    figures['machine'] = (f'{os.cpu_count()} CPUs, {platform.machine()}, '
                          f'{platform.processor() or platform.system()}')
    figures['model'] = str(model_dir) if model_dir is not None else 'none (rule parser)'
    print(render(figures, figures['model']))
    if 'first_decision' in figures:
        print(render_first_decision(figures['first_decision']))
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2) + '\n')
    return 0 if figures['unanswered'] == 0 else 1


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(prog='ministral-bench', description=__doc__.split('\n')[0])
    parser.add_argument('model_dir', nargs='?', help='model directory (published ONNX layout)')
    parser.add_argument('--synthetic', choices=('3b', 'small', 'tiny'),
                        help='build (once) and bench a synthetic model with these shapes')
    parser.add_argument('--cache-dir', default='.bench', help='where synthetic models are kept')
    parser.add_argument('--edges', type=int, nargs='+', default=[448, 224],
                        help='max_image_edge values to compare')
    parser.add_argument('--no-compare-prefix', dest='compare_prefix', action='store_false',
                        help='skip the decision without prefix reuse')
    parser.add_argument('--baseline', action='store_true',
                        help='also run the settings from before issue 17, side by side')
    parser.add_argument('--no-genai', dest='genai', action='store_false',
                        help='skip the onnxruntime-genai comparison')
    parser.add_argument('--json', help='write every figure to this JSON file')
    parser.add_argument('--providers', nargs='+', default=['cpu'])
    parser.add_argument('--threads', type=int, default=0, help='intra-op threads (0: all)')
    parser.add_argument('--variant', default='q4', help='decoder variant')
    parser.add_argument('--decode-tokens', type=int, default=16,
                        help='decode steps timed at each context length')
    parser.add_argument('--max-new-tokens', type=int, default=SPECS['max_new_tokens'].default,
                        help="the decision's token budget (default: the node's)")
    parser.add_argument('--mask-steps', type=int, default=2000)
    parser.add_argument('--masking-only', action='store_true')
    parser.add_argument('--verify-only', action='store_true',
                        help='only the cost of measured confidence and the verify stage')
    parser.add_argument('--verify-count', type=int, default=339,
                        help='hand-written commands decided for --verify-only')
    parser.add_argument('--reflex', action='store_true',
                        help='measure how fast "STOP!" is obeyed while the model decides '
                             '(the node over DDS; no model: the rule parser alone)')
    parser.add_argument('--reflex-runs', type=int, default=20)
    parser.add_argument('--stop-after', type=float, default=0.5,
                        help='seconds between the busy command and the stop')
    parser.add_argument('--domain-id', type=int, default=77,
                        help='ROS_DOMAIN_ID of --reflex (traffic stays on localhost)')
    parser.add_argument('--child', choices=[*CONFIGS, 'genai'], help=argparse.SUPPRESS)
    parser.add_argument('--child-out', help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.reflex:
        return reflex_main(args)
    if args.verify_only:
        if not args.model_dir:
            parser.error('--verify-only needs a MODEL_DIR')
        table = Table()
        table.add('machine', f'{os.cpu_count()} CPUs', f'{platform.machine()}, '
                  f'{platform.processor() or platform.system()}')
        bench_verify(table, Path(args.model_dir), args.verify_count)
        print(table.render())
        return 0
    if args.masking_only and (args.model_dir or args.synthetic):
        parser.error('--masking-only takes no model')
    if not args.masking_only and not (args.model_dir or args.synthetic):
        parser.error('give a MODEL_DIR, --synthetic PRESET or --masking-only')
    if args.model_dir and args.synthetic:
        parser.error('give either MODEL_DIR or --synthetic, not both')

    if args.child:
        model_dir = Path(args.model_dir)
        if args.child == 'genai':
            folder = genai_model(model_dir, args.variant, Path(args.cache_dir))
            vocab = model_files.locate(model_dir, args.variant).text_config['vocab_size']
            result = run_genai(folder, args.decode_tokens, vocab)
        else:
            result = run_config(model_dir, args.child, args)
        Path(args.child_out).write_text(json.dumps(result, indent=2))
        return 0

    table = Table()
    model_dir = None
    if args.synthetic:
        model_dir = synthetic_model(args.synthetic, Path(args.cache_dir))
    elif args.model_dir:
        model_dir = Path(args.model_dir)
    table.add('machine', f'{os.cpu_count()} CPUs', f'{platform.machine()}, '
              f'{platform.processor() or platform.system()}, python {platform.python_version()}')
    bandwidth = read_bandwidth_gbps()
    table.add('memory read bandwidth', f'{bandwidth:.1f} GB/s',
              f'{os.cpu_count()} threads reading 512 MiB (dot products), best of 5')
    bench_masking(table, model_dir, args.mask_steps)
    doc: dict[str, Any] = {'memory_bandwidth_gbps': bandwidth}
    if model_dir is not None:
        names = ['current'] + (['baseline'] if args.baseline else [])
        runs = {name: child(name, model_dir, args) for name in names}
        for run in runs.values():
            if 'error' in run:
                print(f'error: {run["error"]}', file=sys.stderr)
                return 1
        genai = None
        if args.genai:
            why_not = genai_available()
            genai = {'error': why_not} if why_not else child('genai', model_dir, args)
        files = model_files.locate(model_dir, args.variant, optimized=False)
        kv_itemsize = 2 if args.variant in ('q4f16', 'fp16') else 4
        doc = summary(runs, genai, bandwidth, weight_bytes(files.decoder),
                      kv_bytes_per_token(files.config, kv_itemsize), args.edges)
        table.add('decoder weights read per token', f'{doc["decoder_weight_bytes"] / 2**20:.0f} '
                  'MiB', f'+ {doc["kv_bytes_per_position"] / 1024:.0f} KiB of KV cache per '
                  'position of context')
        comparison = Table(tuple(names))
        report(comparison, runs, genai, doc, args.edges)
        if genai is not None and 'error' in genai:
            comparison.add('onnxruntime-genai', 'not run', genai['error'])
        print(table.render())
        print()
        print(comparison.render())
    else:
        print(table.render())
    if args.json:
        Path(args.json).write_text(json.dumps(doc, indent=2) + '\n')
    return 0


if __name__ == '__main__':
    sys.exit(main())
