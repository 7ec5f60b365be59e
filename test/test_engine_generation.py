"""The decode loop: KV cache, variants and dtypes, prefix reuse, logits_to_keep, cancelling."""

import threading
import time

import numpy as np
import pytest
from engine_models import model

from ministral_node.engine import EngineOptions, GenerationOptions, VisionLanguageEngine
from ministral_node.engine.generation import GenerationOptions as Options
from ministral_node.engine.generation import select_token
from ministral_node.timing import Cancellation, Cancelled, Deadline, MonotonicClock

SYSTEM = 'You fly a drone.'
IMAGE = np.random.default_rng(0).integers(0, 256, size=(60, 90, 3), dtype=np.uint8)


def _engine(name, **options):
    return VisionLanguageEngine.load(model(name), EngineOptions(**options))


@pytest.mark.parametrize('variant, atol', [('fp32', 1e-4), ('q4', 2e-2), ('q4f16', 6e-2)])
def test_kv_cache_stepping_equals_a_full_forward_pass(variant, atol):
    engine = _engine('random', decoder_variant=variant)
    ids = np.array([[1, 17, 40, 41, 42, 18, 3, 50, 60, 70, 80, 90, 4]], dtype=np.int64)
    embeds = engine.embed(ids)
    decoder = engine.decoder
    full, full_cache = decoder.run(embeds, decoder.empty_cache(), last_only=False)
    assert full.shape == (ids.shape[1], engine.tokenizer.vocab_size)
    stepped, cache = decoder.run(embeds[:, :5], decoder.empty_cache(), last_only=False)
    rows = [stepped]
    for i in range(5, ids.shape[1]):
        logits, cache = decoder.run(embeds[:, i:i + 1], cache)
        rows.append(logits)
    stepped = np.concatenate(rows)
    scale = np.abs(full).max()
    np.testing.assert_allclose(stepped / scale, full / scale, atol=atol)
    assert cache.length == full_cache.length == ids.shape[1]
    stepped_key, full_key = cache.layer(-1)[0], full_cache.layer(-1)[0]
    np.testing.assert_allclose(stepped_key, full_key, atol=atol * 10 * np.abs(full_key).max())


def test_float_and_4bit_agree_token_for_token():
    options = GenerationOptions(max_new_tokens=24)
    outputs = {}
    for variant in ('fp32', 'q4', 'q4f16'):
        engine = _engine('deterministic', decoder_variant=variant, vision_variant='fp32')
        outputs[variant] = engine.generate(SYSTEM, 'take off to ten metres', IMAGE,
                                           options).token_ids
    assert len(outputs['fp32']) == 24
    assert outputs['fp32'] == outputs['q4'] == outputs['q4f16']


def test_variants_read_their_dtypes_from_the_sessions():
    f32 = _engine('random', decoder_variant='q4').sessions
    f16 = _engine('random', decoder_variant='q4f16').sessions
    assert f32.embed_layout.embeds_dtype == np.float16  # fp16 embeddings into...
    assert f32.decoder_layout.embeds_dtype == np.float32  # ...a float32 decoder: cast
    assert f32.decoder_layout.kv_dtype == np.float32
    assert f16.decoder_layout.embeds_dtype == f16.decoder_layout.kv_dtype == np.float16
    engine = _engine('random', decoder_variant='q4f16')
    result = engine.generate(SYSTEM, 'land', IMAGE, GenerationOptions(max_new_tokens=5))
    assert result.new_tokens == 5 and result.image_tokens == 12


def test_prefix_cache_reuse_gives_identical_output():
    options = GenerationOptions(max_new_tokens=16, temperature=0.8, seed=5)
    plain = _engine('random', prefix_cache=False)
    cached = _engine('random', prefix_cache=True)
    for text, image in (('take off', None), ('follow the car', IMAGE), ('land', IMAGE)):
        a = plain.generate(SYSTEM, text, image, options)
        b = cached.generate(SYSTEM, text, image, options)
        assert a.token_ids == b.token_ids
        assert a.prefix_reused == 0 and b.prefix_reused > 0
    assert (cached.prefix_cache.misses, cached.prefix_cache.hits) == (1, 2)
    cached.generate('Another system prompt.', 'land', None, options)
    assert cached.prefix_cache.misses == 2


@pytest.mark.parametrize('chunk', [1, 7, 64])
def test_chunked_prefill_gives_the_same_tokens(chunk):
    engine = _engine('random', prefix_cache=False)
    whole = GenerationOptions(max_new_tokens=10, temperature=1.0, seed=2, prefill_chunk=0)
    chunked = GenerationOptions(max_new_tokens=10, temperature=1.0, seed=2, prefill_chunk=chunk)
    assert engine.generate(SYSTEM, 'orbit the mast', IMAGE, whole).token_ids == \
        engine.generate(SYSTEM, 'orbit the mast', IMAGE, chunked).token_ids


def test_logits_to_keep_gives_the_same_tokens():
    options = GenerationOptions(max_new_tokens=12, temperature=1.0, seed=3)
    keep = _engine('random_keep')
    plain = _engine('random')
    assert keep.sessions.decoder_layout.logits_to_keep_name == 'num_logits_to_keep'
    assert plain.sessions.decoder_layout.logits_to_keep_name is None
    logits, _ = keep.decoder.run(keep.embed(np.array([[1, 2, 3, 4]])), keep.decoder.empty_cache())
    assert logits.shape[0] == 1
    assert keep.generate(SYSTEM, 'hold', IMAGE, options).token_ids == \
        plain.generate(SYSTEM, 'hold', IMAGE, options).token_ids


def test_sampling_is_seeded_and_greedy_is_argmax():
    engine = _engine('random')
    options = GenerationOptions(max_new_tokens=10, temperature=1.0, top_p=0.9, seed=11)
    first = engine.generate(SYSTEM, 'search the field', None, options).token_ids
    assert engine.generate(SYSTEM, 'search the field', None, options).token_ids == first
    other = GenerationOptions(max_new_tokens=10, temperature=1.0, top_p=0.9, seed=12)
    assert engine.generate(SYSTEM, 'search the field', None, other).token_ids != first
    logits = np.array([0.0, 3.0, -np.inf, 1.0], np.float32)
    rng = np.random.default_rng(0)
    assert select_token(logits, Options(temperature=0.0), rng) == 1
    picks = {select_token(logits, Options(temperature=1.0, top_p=0.5), rng) for _ in range(50)}
    assert picks == {1}
    picks = {select_token(logits, Options(temperature=5.0), rng) for _ in range(200)}
    assert picks == {0, 1, 3}


def test_stops_at_eos_and_reports_it():
    engine = _engine('deterministic')
    eos = engine.files.eos_ids
    result = engine.generate(SYSTEM, 'hold', None, GenerationOptions(max_new_tokens=8))
    assert result.stop_reason == 'max_new_tokens'

    class ForceEos:
        def process(self, logits):
            out = np.full_like(logits, -np.inf)
            out[eos[0]] = 0.0
            return out

        def advance(self, token):
            raise AssertionError('EOS is not advanced')

        def finished(self):
            return False

        def forced(self, limit):
            return []

    result = engine.generate(SYSTEM, 'hold', None, GenerationOptions(max_new_tokens=8),
                             processor=ForceEos())
    assert (result.stop_reason, result.token_ids) == ('eos', [])


def _long_text(words=1000):
    return 'take off to ten metres ' * words


def test_cancellation_stops_a_long_prefill():
    engine = _engine('slow', prefix_cache=False)
    began = time.perf_counter()
    engine.generate(SYSTEM, _long_text(), None, GenerationOptions(max_new_tokens=1))
    full = time.perf_counter() - began
    cancel = Cancellation(Deadline(MonotonicClock(), 0.2))
    began = time.perf_counter()
    with pytest.raises(Cancelled, match='deadline passed'):
        engine.generate(SYSTEM, _long_text(), None, GenerationOptions(max_new_tokens=1),
                        cancel)
    stopped = time.perf_counter() - began
    print(f'\nprefill {full:.3f} s uncancelled; cancelled at 0.2 s, stopped after '
          f'{stopped:.3f} s ({(stopped - 0.2) * 1000:.0f} ms late)')
    # The engine is usable again afterwards.
    assert engine.generate(SYSTEM, 'land', None, GenerationOptions(max_new_tokens=2)).new_tokens


def test_cancellation_between_tokens():
    engine = _engine('random')
    cancel = Cancellation()
    timer = threading.Timer(0.1, cancel.cancel, args=('operator sent a new command',))
    timer.start()
    began = time.perf_counter()
    with pytest.raises(Cancelled, match='operator sent a new command'):
        engine.generate(SYSTEM, 'orbit', IMAGE, GenerationOptions(max_new_tokens=100000,
                                                                  temperature=1.0, seed=1),
                        cancel)
    print(f'\ncancelled at 0.1 s, stopped after {time.perf_counter() - began:.3f} s')
    timer.cancel()


def test_an_already_cancelled_request_does_no_work():
    engine = _engine('random')
    cancel = Cancellation()
    cancel.cancel('shutting down')
    with pytest.raises(Cancelled, match='shutting down'):
        engine.generate(SYSTEM, 'land', IMAGE, GenerationOptions(), cancel)
    assert engine.prefix_cache.misses == 0


def test_timings_and_counts_are_reported():
    engine = _engine('random')
    result = engine.generate(SYSTEM, 'take a photo', IMAGE, GenerationOptions(max_new_tokens=6))
    assert result.image_tokens == 12 and result.prompt_tokens > 12 + 6
    for key in ('vision_s', 'prefix_s', 'prefill_s', 'first_token_s', 'decode_s', 'total_s'):
        assert result.timings[key] >= 0
    assert result.timings['decode_tokens_per_s'] > 0
    assert result.text == engine.tokenizer.decode(result.token_ids)
    engine.close()
    with pytest.raises(Exception, match='closed'):
        engine.generate(SYSTEM, 'land')
