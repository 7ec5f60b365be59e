"""Speed and memory features: KV cache on the device (IOBinding), the last-position-logits
variant (`ministral-optimize`), image features cached per frame, giving back load memory, and
the bench's genai graph."""

import hashlib
import json
import mmap
import sys
from dataclasses import replace

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from engine_models import copy_model, model, optimized
from onnx import TensorProto, helper, numpy_helper

from ministral_node.cli import bench
from ministral_node.engine import (
    EngineOptions,
    GenerationOptions,
    VisionLanguageEngine,
    memory,
    model_files,
)
from ministral_node.engine.decoder import Decoder, InPlaceDecoder
from ministral_node.tools import attention_fusion, optimize

SYSTEM = 'You fly a drone.'
IMAGE = np.random.default_rng(0).integers(0, 256, size=(60, 90, 3), dtype=np.uint8)
OTHER_IMAGE = np.random.default_rng(1).integers(0, 256, size=(60, 90, 3), dtype=np.uint8)


def _engine(path, **options):
    return VisionLanguageEngine.load(path, EngineOptions(**options))


def _sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


# KV cache on the device ------------------------------------------------------------------------

def test_the_cache_stays_in_ortvalues_and_matches_the_host_path():
    bound = _engine(model('random'))
    host = _engine(model('random'), kv_binding=False)
    assert (bound.decoder.device, type(bound.decoder).__name__) == ('cpu', 'Decoder')
    assert type(host.decoder).__name__ == 'HostDecoder'
    ids = np.array([[1, 17, 40, 41, 42, 18, 3, 50, 60, 4]], dtype=np.int64)
    caches = []
    for engine in (bound, host):
        logits, cache = engine.decoder.run(engine.embed(ids), engine.decoder.empty_cache())
        for token in (70, 80, 90):
            logits, cache = engine.decoder.run(engine.embed(np.array([[token]])), cache)
        caches.append((logits, cache))
    (a, cache_a), (b, cache_b) = caches
    assert isinstance(cache_a.tensors[0][0], ort.OrtValue)
    assert isinstance(cache_b.tensors[0][0], np.ndarray)
    assert cache_a.length == cache_b.length == ids.shape[1] + 3
    np.testing.assert_array_equal(a, b)
    for layer in range(len(cache_a.tensors)):
        for x, y in zip(cache_a.layer(layer), cache_b.layer(layer)):
            np.testing.assert_array_equal(x, y)
    assert cache_a.nbytes == cache_b.nbytes == sum(
        t.nbytes for i in range(len(cache_b.tensors)) for t in cache_b.layer(i))


def test_a_kept_cache_is_never_written_by_later_steps():
    engine = _engine(model('random'))
    decoder = engine.decoder
    _, kept = decoder.run(engine.embed(np.array([[1, 17, 40, 18, 3]])), decoder.empty_cache())
    snapshot = [kept.layer(i) for i in range(len(kept.tensors))]
    first, _ = decoder.run(engine.embed(np.array([[50]])), kept)
    for token in (60, 70, 80):  # other steps from the same cache, reusing the logits buffer
        decoder.run(engine.embed(np.array([[token]])), kept)
    again, _ = decoder.run(engine.embed(np.array([[50]])), kept)
    np.testing.assert_array_equal(first, again)
    for i, (key, value) in enumerate(snapshot):
        np.testing.assert_array_equal(kept.layer(i)[0], key)
        np.testing.assert_array_equal(kept.layer(i)[1], value)


def test_decoding_reuses_two_pooled_kv_buffers_instead_of_allocating_each_step():
    engine = _engine(model('random'))
    decoder = engine.decoder
    _, kept = decoder.run(engine.embed(np.array([[1, 17, 40, 18, 3]])), decoder.empty_cache())
    cache = kept
    for token in range(30):  # the kept prefix pins one slot; decoding ping-pongs on two
        _, cache = decoder.run(engine.embed(np.array([[50 + token]])), cache)
    assert len(decoder.pool.slots) == 3 and decoder.pool.allocations == 3
    assert decoder.pool.nbytes == 3 * 256 * kept.nbytes // kept.length
    del cache
    decoder.pool.clear()
    assert len(decoder.pool.slots) == 1  # the slot the kept cache pins stays


def test_pooled_caches_stay_valid_when_the_pool_is_full_or_gone():
    engine = _engine(model('random'))
    host = _engine(model('random'), kv_binding=False)
    ids = [np.array([[1, 17, 40 + i, 18, 3]]) for i in range(4)]
    decoder = type(engine.decoder)(engine.decoder.session, engine.decoder.layout,
                                   max_kv_slots=2)
    kept = [decoder.run(engine.embed(x), decoder.empty_cache())[1] for x in ids]
    assert kept[2].lease is None and kept[3].lease is None  # ONNX Runtime allocated these
    del decoder  # the caches keep their buffers
    for x, cache in zip(ids, kept):
        _, expected = host.decoder.run(host.embed(x), host.decoder.empty_cache())
        for layer in range(len(cache.tensors)):
            np.testing.assert_array_equal(cache.layer(layer)[0], expected.layer(layer)[0])


@pytest.mark.parametrize('variant', ['q4', 'q4f16'])
def test_bound_and_host_paths_generate_the_same_tokens(variant):
    options = GenerationOptions(max_new_tokens=12, temperature=1.0, seed=4)
    tokens = [_engine(model('random'), decoder_variant=variant, kv_binding=binding).generate(
        SYSTEM, 'orbit the mast', IMAGE, options).token_ids for binding in (True, False)]
    assert len(tokens[0]) == 12 and tokens[0] == tokens[1]


# ministral-optimize --------------------------------------------------------------------------

def test_optimize_writes_a_checked_variant_beside_the_original_and_the_engine_uses_it(
        tmp_path, capsys):
    root = copy_model('random', tmp_path)
    original = root / 'onnx' / 'decoder_model_merged_q4.onnx'
    before = _sha(original)
    assert optimize.main([str(root), '--variant', 'q4']) == 0
    assert 'decoder_model_merged_q4.opt.onnx' in capsys.readouterr().out
    assert _sha(original) == before  # never in place
    assert sorted(p.name for p in (root / 'onnx').glob('decoder_model_merged_q4.*')) == [
        'decoder_model_merged_q4.onnx', 'decoder_model_merged_q4.opt.json',
        'decoder_model_merged_q4.opt.onnx']
    record = json.loads((root / 'onnx' / 'decoder_model_merged_q4.opt.json').read_text())
    assert record['source'] == model_files.fingerprint(original)
    assert record['check']['same_argmax'] and record['check']['step_max_diff'] <= 1e-4

    optimized = _engine(root)
    plain = _engine(root, optimized_decoder=False)
    assert optimized.files.decoder_optimized and optimized.files.decoder.name.endswith('.opt.onnx')
    assert optimized.sessions.decoder_layout.logits_to_keep_name == 'num_logits_to_keep'
    assert not plain.files.decoder_optimized
    options = GenerationOptions(max_new_tokens=12, temperature=1.0, seed=9)
    assert optimized.generate(SYSTEM, 'land', IMAGE, options).token_ids == \
        plain.generate(SYSTEM, 'land', IMAGE, options).token_ids
    logits, _ = optimized.decoder.run(optimized.embed(np.array([[1, 2, 3, 4]])),
                                      optimized.decoder.empty_cache(), last_only=False)
    assert logits.shape[0] == 4  # 0 = every position, as before


def test_a_variant_made_from_another_file_is_ignored(tmp_path):
    root = copy_model('random', tmp_path)
    optimize.main([str(root), '--variant', 'q4'])
    record_path = root / 'onnx' / 'decoder_model_merged_q4.opt.json'
    record = json.loads(record_path.read_text())
    record['source']['sha256'] = '0' * 64
    record_path.write_text(json.dumps(record))
    files = model_files.locate(root)
    assert not files.decoder_optimized and files.decoder.name == 'decoder_model_merged_q4.onnx'


def test_a_decoder_that_already_keeps_logits_is_left_alone(tmp_path, capsys):
    root = copy_model('random_keep', tmp_path)
    assert optimize.main([str(root), '--no-fuse-attention']) == 0
    assert 'nothing to do' in capsys.readouterr().out
    assert not list((root / 'onnx').glob('*.opt.*'))


def test_a_decoder_that_already_keeps_logits_gets_only_the_fused_attention(tmp_path, capsys):
    root = copy_model('random_keep', tmp_path)
    assert optimize.main([str(root)]) == 0
    out = capsys.readouterr().out
    assert 'q4.opt.onnx: fused attention;' in out and 'q4f16.opt.onnx: fused attention;' in out
    for variant, tolerance in (('q4', 1e-4), ('q4f16', 2e-2)):  # float16 rounds differently
        record = json.loads((root / 'onnx' / f'decoder_model_merged_{variant}.opt.json')
                            .read_text())
        assert list(record['edits']) == ['fused attention'] and record['tolerance'] == tolerance


def test_a_failed_check_leaves_nothing_behind(tmp_path, monkeypatch, capsys):
    root = copy_model('random', tmp_path)
    listing = sorted(p.name for p in (root / 'onnx').iterdir())
    monkeypatch.setattr(optimize, 'check', lambda *a, **k: optimize.Check(9, 0.5, 0.5, 0.0,
                                                                           False))
    assert optimize.main([str(root), '--variant', 'q4']) == 1
    assert 'not optimized' in capsys.readouterr().out
    assert sorted(p.name for p in (root / 'onnx').iterdir()) == listing


def _if_model(head_op='MatMul'):
    """A merged-export shape: logits come out of an If whose branches hold the LM head."""
    rng = np.random.default_rng(0)
    hidden, vocab = 8, 11
    weights = [numpy_helper.from_array(rng.standard_normal((hidden, vocab)).astype(np.float32),
                                       f'w{i}') for i in range(2)]

    def branch(i):
        nodes = [helper.make_node('Relu', ['x'], [f'h{i}']),
                 helper.make_node(head_op, [f'h{i}', f'w{i}'], [f'y{i}'])
                 if head_op == 'MatMul' else helper.make_node(head_op, [f'h{i}'], [f'y{i}']),
                 helper.make_node('Identity', [f'y{i}'], [f'out{i}'])]
        out = helper.make_tensor_value_info(f'out{i}', TensorProto.FLOAT, None)
        return helper.make_graph(nodes, f'branch{i}', [], [out])

    node = helper.make_node('If', ['use_cache_branch'], ['logits_if'], then_branch=branch(0),
                            else_branch=branch(1))
    cast = helper.make_node('Cast', ['logits_if'], ['logits'], to=TensorProto.FLOAT)
    graph = helper.make_graph(
        [node, cast], 'merged',
        [helper.make_tensor_value_info('x', TensorProto.FLOAT, [1, 'T', hidden]),
         helper.make_tensor_value_info('use_cache_branch', TensorProto.BOOL, [1])],
        [helper.make_tensor_value_info('logits', TensorProto.FLOAT, [1, 'T', vocab])],
        weights)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid('', 17)])


def test_the_edit_follows_the_logits_into_both_branches_of_a_merged_export():
    original = _if_model()
    edited = _if_model()
    assert len(optimize.last_logits_graph(edited)) == 2
    x = np.random.default_rng(1).standard_normal((1, 5, 8)).astype(np.float32)
    plain = ort.InferenceSession(original.SerializeToString(), providers=['CPUExecutionProvider'])
    last = ort.InferenceSession(edited.SerializeToString(), providers=['CPUExecutionProvider'])
    for flag in (True, False):
        cond = np.array([flag])
        full = plain.run(None, {'x': x, 'use_cache_branch': cond})[0]
        for keep, rows in ((1, full[:, -1:]), (2, full[:, -2:]), (0, full)):
            got = last.run(None, {'x': x, 'use_cache_branch': cond,
                                  'num_logits_to_keep': np.array(keep, dtype=np.int64)})[0]
            np.testing.assert_allclose(got, rows, rtol=1e-6)


def test_logits_not_made_by_a_projection_are_refused():
    with pytest.raises(optimize.OptimizeError, match='Softmax'):
        optimize.last_logits_graph(_if_model('Softmax'))


# Fused attention, KV cache in place ----------------------------------------------------------

def _graph(root, name='decoder_model_merged_q4'):
    return onnx.load(str(root / 'onnx' / f'{name}.onnx'))


def _in_place_and_ping_pong():
    """The fused test model run in place, and the same session run by the ping-pong decoder
    (the reference: same graph, so results must be identical)."""
    engine = _engine(optimized('random'))
    return engine, Decoder(engine.decoder.session, engine.decoder.layout)


def _assert_same_cache(cache, expected):
    assert cache.length == expected.length
    for layer in range(len(expected.tensors)):
        for x, y in zip(cache.layer(layer), expected.layer(layer)):
            np.testing.assert_array_equal(x, y)


def test_each_layers_attention_becomes_one_node_and_the_engine_runs_it_in_place():
    root = optimized('random')
    graph = _graph(root, 'decoder_model_merged_q4.opt').graph
    ops = [node.op_type for node in graph.node]
    layers = sum(1 for i in graph.input if i.name.endswith('.key'))
    assert ops.count('GroupQueryAttention') == layers and 'Softmax' not in ops
    assert {o.name for o in graph.output} == {o.name for o in _graph(root).graph.output}
    record = json.loads((root / 'onnx' / 'decoder_model_merged_q4.opt.json').read_text())
    assert list(record['edits']) == ['last-position logits', 'fused attention']
    engine = _engine(root)
    assert engine.files.decoder_edits == ('last-position logits', 'fused attention')
    assert type(engine.decoder) is InPlaceDecoder
    assert type(_engine(root, kv_in_place=False).decoder) is Decoder
    options = GenerationOptions(max_new_tokens=12, temperature=1.0, seed=9)
    expected = _engine(model('random')).generate(SYSTEM, 'land', IMAGE, options).token_ids
    for fused in (engine, _engine(root, kv_binding=False)):  # in place, and host arrays
        assert fused.generate(SYSTEM, 'land', IMAGE, options).token_ids == expected


def test_in_place_decoding_writes_one_buffer_and_copies_nothing():
    engine, reference = _in_place_and_ping_pong()
    prompt = engine.embed(np.array([[1, 17, 40, 41, 42, 18, 3]]))
    (a, cache), (b, expected) = (d.run(prompt, d.empty_cache())
                                 for d in (engine.decoder, reference))
    first = cache.tensors[0][0].data_ptr()
    for token in range(40):
        feed = engine.embed(np.array([[50 + token, 90] if token % 5 == 0 else [50 + token]]))
        a, cache = engine.decoder.run(feed, cache)
        b, expected = reference.run(feed, expected)
        np.testing.assert_array_equal(a, b)
    _assert_same_cache(cache, expected)
    assert cache.tensors[0][0].data_ptr() == first  # every step wrote the same buffer
    assert cache.tensors[0][0].shape()[2] == 512 > cache.length  # room to grow
    pool = engine.decoder.pool
    assert (len(pool.slots), pool.allocations, engine.decoder.copies) == (1, 1, 0)


def test_a_second_continuation_of_a_kept_prefix_is_copied_only_while_the_first_lives():
    engine, reference = _in_place_and_ping_pong()
    decoder = engine.decoder
    prefix = engine.embed(np.array([[1, 17, 40, 18, 3]]))
    kept = decoder.run(prefix, decoder.empty_cache())[1]
    kept_reference = reference.run(prefix, reference.empty_cache())[1]

    def both(ids, start, start_reference):
        feed = engine.embed(np.array([ids]))
        got, want = decoder.run(feed, start), reference.run(feed, start_reference)
        np.testing.assert_array_equal(got[0], want[0])
        return got[1], want[1]

    first, first_reference = both([60, 61, 62], kept, kept_reference)
    assert decoder.copies == 0  # written after the prefix, in its buffer
    second, second_reference = both([70], kept, kept_reference)  # `first` still alive: copy
    assert decoder.copies == 1
    assert second.tensors[0][0].data_ptr() != first.tensors[0][0].data_ptr()
    _assert_same_cache(first, first_reference)  # untouched by the second continuation
    _assert_same_cache(second, second_reference)
    _assert_same_cache(kept, kept_reference)
    del first, second
    third, third_reference = both([80, 81], kept, kept_reference)
    assert decoder.copies == 1  # the earlier continuations are gone: in place again
    assert third.tensors[0][0].data_ptr() == kept.tensors[0][0].data_ptr()
    _assert_same_cache(third, third_reference)


def test_a_copy_goes_to_a_buffer_outside_the_pool_when_every_slot_is_pinned():
    engine, reference = _in_place_and_ping_pong()
    decoder = InPlaceDecoder(engine.decoder.session, engine.decoder.layout, max_kv_slots=1)
    prefix = engine.embed(np.array([[1, 17, 40, 18, 3]]))
    kept = decoder.run(prefix, decoder.empty_cache())[1]
    first = decoder.run(engine.embed(np.array([[60]])), kept)[1]
    second = decoder.run(engine.embed(np.array([[70]])), kept)[1]
    assert len(decoder.pool.slots) == 1 and decoder.copies == 1
    expected = reference.run(prefix, reference.empty_cache())[1]
    for cache, token in ((first, 60), (second, 70)):
        _assert_same_cache(cache, reference.run(engine.embed(np.array([[token]])), expected)[1])


def test_a_cache_that_outgrows_its_buffer_moves_to_a_larger_one():
    engine, reference = _in_place_and_ping_pong()
    rng = np.random.default_rng(3)
    first, more = (engine.embed(rng.integers(5, 200, size=(1, n))) for n in (300, 500))
    cache = engine.decoder.run(first, engine.decoder.empty_cache())[1]
    expected = reference.run(first, reference.empty_cache())[1]
    assert cache.tensors[0][0].shape()[2] == 768
    a, cache = engine.decoder.run(more, cache)
    b, expected = reference.run(more, expected)
    np.testing.assert_array_equal(a, b)
    _assert_same_cache(cache, expected)
    assert engine.decoder.copies == 1 and cache.tensors[0][0].shape()[2] == 1280  # 800 + room


def test_the_kv_head_layout_comes_from_the_graph_else_the_config():
    from ministral_node.engine.sessions import kv_head_layout

    config = {'num_attention_heads': 32, 'num_key_value_heads': 8, 'hidden_size': 3072}
    assert kv_head_layout([1, 4, 'past', 64], config) == (4, 64)
    assert kv_head_layout(['b', 'kv', 'past', 'd'], config) == (8, 96)
    assert kv_head_layout([None] * 4, {**config, 'head_dim': 128}) == (8, 128)
    assert kv_head_layout([], {}) == (0, 0)


def test_the_check_allows_up_to_twice_the_originals_own_noise_floor():
    def check(diff, floor, argmax=True):
        return optimize.Check(13, diff, diff, diff, argmax, floor, floor).passed(1e-4)

    assert check(1e-4, 0.0) and not check(1.1e-4, 0.0)
    assert check(3.9e-4, 2e-4) and not check(4.1e-4, 2e-4)
    assert not check(0.0, 0.0, argmax=False)


def _softcapped(model_proto):
    """The graph with a Tanh between layer 0's attention scores and its Softmax."""
    graph = model_proto.graph
    softmax = next(node for node in graph.node if node.op_type == 'Softmax')
    graph.node.insert(list(graph.node).index(softmax),
                      helper.make_node('Tanh', [softmax.input[0]], ['capped'], name='cap'))
    softmax.input[0] = 'capped'
    return model_proto


def test_the_fusion_refuses_attention_it_does_not_understand_and_leaves_the_graph_alone():
    root = model('random')
    config = json.loads((root / 'config.json').read_text())['text_config']
    heads = optimize.heads_of(_graph(root), config)
    capped = _softcapped(_graph(root))
    before = capped.SerializeToString()
    with pytest.raises(attention_fusion.FusionError, match='Tanh node'):
        attention_fusion.fuse_attention(capped, heads)
    assert capped.SerializeToString() == before
    with pytest.raises(attention_fusion.FusionError, match="no 'mask'"):
        attention_fusion.fuse_attention(_graph(root), heads, mask='mask')
    fused = _graph(root)
    attention_fusion.fuse_attention(fused, heads)
    with pytest.raises(attention_fusion.FusionError, match='already fuses'):
        attention_fusion.fuse_attention(fused, heads)


def test_a_model_with_a_sliding_window_is_not_fused(tmp_path, capsys):
    root = copy_model('random', tmp_path)
    config = json.loads((root / 'config.json').read_text())
    config['text_config']['sliding_window'] = 4096
    (root / 'config.json').write_text(json.dumps(config))
    assert optimize.main([str(root), '--variant', 'q4']) == 0
    out = capsys.readouterr().out
    assert 'q4.opt.onnx: last-position logits;' in out
    assert 'attention not fused: the model attends in a sliding window (4096 positions)' in out


def test_a_fused_variant_that_fails_its_check_is_kept_without_the_fusion(
        tmp_path, monkeypatch, capsys):
    root = copy_model('random', tmp_path)
    real_check = optimize.check

    def strict(*args, in_place=False, **kwargs):
        result = real_check(*args, in_place=in_place, **kwargs)
        return replace(result, same_argmax=False) if in_place else result

    monkeypatch.setattr(optimize, 'check', strict)
    assert optimize.main([str(root), '--variant', 'q4']) == 0
    out = capsys.readouterr().out
    assert 'q4.opt.onnx: last-position logits;' in out
    assert 'attention not fused: the fused graph failed the check' in out
    engine = _engine(root)
    assert engine.files.decoder_edits == ('last-position logits',)
    assert type(engine.decoder) is Decoder


# Image features per frame --------------------------------------------------------------------

def test_a_second_command_on_the_same_frame_skips_the_vision_encoder():
    engine = _engine(model('deterministic'))
    options = GenerationOptions(max_new_tokens=6)
    first = engine.generate(SYSTEM, 'follow the car', IMAGE, options)
    second = engine.generate(SYSTEM, 'land now', IMAGE, options)
    assert (first.vision_reused, second.vision_reused) == (False, True)
    assert (engine.vision_cache.misses, engine.vision_cache.hits) == (1, 1)
    fresh = _engine(model('deterministic'), vision_cache_entries=0)
    assert fresh.generate(SYSTEM, 'land now', IMAGE, options).token_ids == second.token_ids
    assert not engine.generate(SYSTEM, 'land now', OTHER_IMAGE, options).vision_reused
    engine.options = replace(engine.options, max_image_edge=56)  # another size: other features
    assert not engine.generate(SYSTEM, 'land now', IMAGE, options).vision_reused


def test_the_frame_key_names_the_frame_when_given():
    engine = _engine(model('deterministic'))
    options = GenerationOptions(max_new_tokens=2)
    engine.generate(SYSTEM, 'hover', IMAGE, options, image_key=12.5)
    assert engine.generate(SYSTEM, 'hover', IMAGE, options, image_key=12.5).vision_reused
    assert not engine.generate(SYSTEM, 'hover', IMAGE, options, image_key=13.0).vision_reused


def test_the_vision_cache_can_be_turned_off():
    engine = _engine(model('deterministic'), vision_cache_entries=0)
    options = GenerationOptions(max_new_tokens=2)
    for _ in range(2):
        assert not engine.generate(SYSTEM, 'hover', IMAGE, options).vision_reused
    assert len(engine.vision_cache) == 0


# Memory ---------------------------------------------------------------------------------------

@pytest.mark.skipif(not sys.platform.startswith('linux'), reason='/proc and madvise are Linux')
def test_page_out_gives_back_mapped_file_pages(tmp_path):
    path = tmp_path / 'weights.bin'
    size = 32 * 2**20
    path.write_bytes(np.random.default_rng(0).integers(0, 255, size, dtype=np.uint8).tobytes())
    with open(path, 'rb') as handle, mmap.mmap(handle.fileno(), size,
                                                access=mmap.ACCESS_READ) as mapped:
        assert sum(mapped[i] for i in range(0, size, 4096)) > 0  # every page resident
        assert memory.mappings(tmp_path)
        before = memory.process_memory()
        pager = memory.PageOut(tmp_path)
        if not pager.page_out():
            pytest.skip('this kernel has no MADV_PAGEOUT')
        after = memory.process_memory()
        assert before.file_mib - after.file_mib >= 16
        assert bytes(mapped[:16]) == path.read_bytes()[:16]  # data intact, read back


def test_process_memory_reports_resident_and_peak():
    now = memory.process_memory()
    assert 0 < now.rss_mib <= now.peak_mib
    assert now.anon_mib + now.file_mib == pytest.approx(now.rss_mib, abs=now.rss_mib * 0.2)


def test_the_engine_loads_and_answers_with_and_without_giving_back_load_memory():
    options = GenerationOptions(max_new_tokens=6)
    results = [_engine(model('deterministic'), release_load_memory=release).generate(
        SYSTEM, 'land', IMAGE, options).token_ids for release in (True, False)]
    assert results[0] == results[1]


# Bench pieces ---------------------------------------------------------------------------------

def test_the_genai_graph_is_the_decoder_with_the_embedding_lookup_in_front(tmp_path):
    root = model('random')
    listing = sorted(p.name for p in (root / 'onnx').iterdir())
    folder = bench.genai_model(root, 'q4', tmp_path)
    assert sorted(p.name for p in (root / 'onnx').iterdir()) == listing
    config = json.loads((folder / 'genai_config.json').read_text())
    assert config['model']['decoder']['num_hidden_layers'] == 2
    session = ort.InferenceSession(str(folder / 'decoder.onnx'),
                                   providers=['CPUExecutionProvider'])
    engine = _engine(root)
    ids = np.array([[1, 17, 40, 41, 18, 3]], dtype=np.int64)
    feeds = {'input_ids': ids, 'attention_mask': np.ones_like(ids),
             'position_ids': np.arange(ids.shape[1])[None]}
    layout = engine.sessions.decoder_layout
    for key, value in layout.past_names:
        feeds[key] = feeds[value] = np.zeros((1, layout.kv_heads, 0, layout.head_dim),
                                             np.float32)
    theirs = session.run(['logits'], feeds)[0][0, -1]
    ours, _ = engine.decoder.run(engine.embed(ids), engine.decoder.empty_cache())
    np.testing.assert_allclose(theirs, ours[-1], rtol=1e-5, atol=1e-5)


def test_the_bench_summary_has_the_headline_fields():
    run = {'decode_ms_per_token': {'100': 80.0, '1000': 95.0}, 'peak_rss_mib': 2900.0,
           'rss_after_load_mib': 2800.0, 'load_s': 9.0,
           'decisions': {'448_reused_first': {'s': 9.0, 'tokens': 90, 'decode_steps': 40},
                         '448_reused_same_frame': {'s': 7.0},
                         '224_reused_first': {'s': 6.0, 'tokens': 80, 'decode_steps': 35}}}
    doc = bench.summary({'current': run, 'baseline': run},
                        {'decode_ms_per_token': {'100': 85.0, '1000': 99.0}},
                        bandwidth=20.0, weights=2 * 10**9, kv_token=200_000, edges=[448, 224])
    for key in ('peak_rss_mib', 'rss_after_load_mib', 'decode_ms_per_token',
                'genai_decode_ms_per_token', 'bandwidth_limit_ms_per_token',
                'decision_s_edge_224', 'decision_s_edge_448'):
        assert doc[key] is not None, key
    assert doc['bandwidth_limit_ms_per_token'] == pytest.approx((2e9 + 2e7) / 20e9 * 1000)
    assert doc['decode_over_limit_ctx1000'] == pytest.approx(95.0 / ((2e9 + 2e8) / 20e9 * 1000))
    assert doc['baseline']['decision_s_edge_448_same_frame'] == 7.0
