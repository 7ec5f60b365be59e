"""`ministral-bench`: how fast and how big the onboard model is on this machine.

    ministral-bench MODEL_DIR                 # a model directory (published layout)
    ministral-bench --synthetic 3b            # real 3B shapes, random 4-bit weights (built once)
    ministral-bench --masking-only            # constraint cost at the test and 131k vocabularies
    ministral-bench MODEL_DIR --verify-only   # cost of measured confidence and the verify stage

Prints a table: load time and memory, vision encoder time per `max_image_edge`, time to first
token with and without the prefix cache, decode tokens/s, end-to-end decision latency
(OnboardDecider, constrained) for each edge with and without prefix reuse, the JSON
constraint's masking cost per token, and peak RSS.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from ministral_node.camera import Frame
from ministral_node.constrained import JsonConstraint
from ministral_node.decision import CommandInfo
from ministral_node.engine.generation import GenerationOptions
from ministral_node.sources.base import DecisionRequest
from ministral_node.sources.onboard import OnboardDecider
from ministral_node.sources.prompt import system_prompt, user_text
from ministral_node.timing import Cancellation

COMMAND = 'Follow the person in the yellow jacket and keep ten metres away.'
COMPLETE_MARK = '.complete'
REAL_VOCAB = 131072


def rss_mib() -> float:
    """Resident set size now, MiB."""
    with open('/proc/self/statm', encoding='ascii') as handle:
        pages = int(handle.read().split()[1])
    return pages * os.sysconf('SC_PAGE_SIZE') / 2**20


def peak_rss_mib() -> float:
    """Peak resident set size of this process so far, MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Table:
    """Rows of (measure, value, note), printed aligned."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, str, str]] = []

    def add(self, measure: str, value: str, note: str = '') -> None:
        """Add a row (and show it on stderr at once: real-size runs take minutes)."""
        self.rows.append((measure, value, note))
        print(f'  {measure}: {value} {note}'.rstrip(), file=sys.stderr, flush=True)

    def render(self) -> str:
        """The table as text."""
        widths = [max(len(r[i]) for r in self.rows + [('measure', 'value', 'note')])
                  for i in range(3)]
        line = '+'.join('-' * (w + 2) for w in widths)
        out = [f' {"measure":<{widths[0]}} | {"value":>{widths[1]}} | note', line]
        out += [f' {m:<{widths[0]}} | {v:>{widths[1]}} | {n}' for m, v, n in self.rows]
        return '\n'.join(out)


def synthetic_model(preset: str, cache_dir: Path) -> Path:
    """A synthetic model with real shapes, built once and kept under `cache_dir`."""
    from ministral_node.tools.build_test_model import BuildOptions, build

    out = cache_dir / f'synthetic-{preset}'
    if (out / COMPLETE_MARK).is_file():
        return out
    print(f'building synthetic {preset} model in {out} (once) ...', file=sys.stderr, flush=True)
    began = time.monotonic()
    build(out, BuildOptions(preset=preset, fp16_decoder=False,
                            tokenizer_words=(system_prompt(),)))
    (out / COMPLETE_MARK).write_text('ok\n')
    print(f'built in {time.monotonic() - began:.0f} s', file=sys.stderr, flush=True)
    return out


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


def bench_model(table: Table, model_dir: Path, args: argparse.Namespace) -> None:
    """Load, vision, first token, decode and end-to-end decision figures."""
    params = {'model_dir': str(model_dir), 'execution_providers': args.providers,
              'intra_op_threads': args.threads, 'decoder_variant': args.variant,
              'max_new_tokens': args.max_new_tokens, 'temperature': 0.0,
              'max_image_edge': args.edges[0], 'prefix_cache': True}
    decider = OnboardDecider.from_params(params)
    began = time.perf_counter()
    decider.load()
    engine = decider.engine
    table.add('load (sessions + grammar)', f'{time.perf_counter() - began:.1f} s',
              f'{model_dir.name}, {engine.identity().provider}, '
              f'{engine.sessions.decoder_layout.num_layers} layers')
    table.add('RSS after load', f'{rss_mib():.0f} MiB')
    system = system_prompt()
    frame = camera_frame()
    # First runs pay one-off costs (allocations, weight prepacking): keep them out.
    began = time.perf_counter()
    engine.encode_image(engine.prepare_image(frame.image[:56, :56]))
    engine.generate('warm-up', 'warm-up', None, GenerationOptions(max_new_tokens=2))
    engine.prefix_cache.clear()
    table.add('warm-up (first runs)', f'{time.perf_counter() - began:.1f} s')

    for edge in args.edges:
        engine.options = replace(engine.options, max_image_edge=edge)
        prepared = engine.prepare_image(frame.image)
        began = time.perf_counter()
        engine.encode_image(prepared)
        table.add(f'vision encoder, edge {edge}', f'{time.perf_counter() - began:.2f} s',
                  f'{prepared.pixel_values.shape[3]}x{prepared.pixel_values.shape[2]} px, '
                  f'{prepared.num_tokens} image tokens')

    text = user_text(DecisionRequest(CommandInfo('b', COMMAND, 0.0)))
    one = GenerationOptions(max_new_tokens=1)
    engine.prefix_cache.clear()
    cold = engine.generate(system, text, None, one)
    table.add('time to first token, text only, cold prefix',
              f'{cold.timings["first_token_s"]:.2f} s', f'{cold.prompt_tokens} prompt tokens')
    warm = engine.generate(system, text, None, one)
    table.add('time to first token, text only, cached prefix',
              f'{warm.timings["first_token_s"]:.2f} s',
              f'{warm.prompt_tokens - warm.prefix_reused} tokens prefilled, '
              f'{warm.prefix_reused} reused')
    decode = engine.generate(system, text, None,
                             GenerationOptions(max_new_tokens=args.decode_tokens))
    table.add('decode', f'{decode.timings["decode_tokens_per_s"]:.2f} tokens/s',
              f'{decode.new_tokens} tokens, unconstrained greedy')

    request = DecisionRequest(CommandInfo('b', COMMAND, 0.0), frame)
    for edge in args.edges:
        for reuse in (True, False) if args.compare_prefix else (True,):
            if not reuse and edge != args.edges[0]:
                continue
            decider.configure({'max_image_edge': edge, 'prefix_cache': reuse})
            engine.prefix_cache.clear()
            if reuse:
                engine.generate(system, text, None, one)  # warm the prefix, as in service
            began = time.perf_counter()
            decider.decide(request, Cancellation())
            latency = time.perf_counter() - began
            result = decider.last_result
            t = result.timings
            table.add(f'decision end to end, edge {edge}, prefix {"reused" if reuse else "off"}',
                      f'{latency:.2f} s',
                      f'vision {t["vision_s"]:.2f} + prefill {t["prefix_s"] + t["prefill_s"]:.2f}'
                      f' ({result.prompt_tokens - result.prefix_reused} tokens) + decode '
                      f'{t["decode_s"]:.2f} s ({result.new_tokens} tokens in '
                      f'{result.decode_steps + 1} steps, {result.stop_reason})')
    decider.close()


def _spread(values_ms: list[float]) -> str:
    ordered = sorted(values_ms)
    return (f'median {ordered[len(ordered) // 2]:.3f} ms, p95 '
            f'{ordered[int(len(ordered) * 0.95)]:.3f} ms, max {ordered[-1]:.3f} ms')


def bench_verify(table: Table, model_dir: Path, count: int) -> None:
    """What measured confidence and the verify stage add to a decision: the hand-written
    commands decided by the model, then each step timed on its own (no model run in them)."""
    from ministral_node import parameters
    from ministral_node.cli.demo import demo_scene
    from ministral_node.confidence import field_confidence
    from ministral_node.engine.generation import chosen_logprob
    from ministral_node.sources.base import DeciderError
    from ministral_node.training.handwritten import load_cases
    from ministral_node.verify import Verifier, VerifySettings

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
    parser.add_argument('--providers', nargs='+', default=['cpu'])
    parser.add_argument('--threads', type=int, default=0, help='intra-op threads (0: all)')
    parser.add_argument('--variant', default='q4', help='decoder variant')
    parser.add_argument('--decode-tokens', type=int, default=32)
    parser.add_argument('--max-new-tokens', type=int, default=384)
    parser.add_argument('--mask-steps', type=int, default=2000)
    parser.add_argument('--masking-only', action='store_true')
    parser.add_argument('--verify-only', action='store_true',
                        help='only the cost of measured confidence and the verify stage')
    parser.add_argument('--verify-count', type=int, default=339,
                        help='hand-written commands decided for --verify-only')
    args = parser.parse_args(argv)
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

    table = Table()
    model_dir = None
    if args.synthetic:
        model_dir = synthetic_model(args.synthetic, Path(args.cache_dir))
    elif args.model_dir:
        model_dir = Path(args.model_dir)
    table.add('machine', f'{os.cpu_count()} CPUs', f'{platform.machine()}, '
              f'{platform.processor() or platform.system()}, python {platform.python_version()}')
    bench_masking(table, model_dir, args.mask_steps)
    if model_dir is not None:
        bench_model(table, model_dir, args)
    table.add('peak RSS', f'{peak_rss_mib():.0f} MiB')
    print(table.render())
    return 0


if __name__ == '__main__':
    sys.exit(main())
