"""The whole customisation path on a micro model: data, training, export, engine, decision.

Also the LoRA path: a tiny base checkpoint saved locally, adapters trained and merged.
"""

import json

import numpy as np
import onnx
import pytest

torch = pytest.importorskip('torch')
pytest.importorskip('transformers')
pytest.importorskip('peft')

from ministral_node.engine.model_files import locate  # noqa: E402
from ministral_node.sources.onboard import OnboardDecider  # noqa: E402
from ministral_node.sources.system_prompt import SYSTEM_PROMPT_FILE  # noqa: E402
from ministral_node.timing import Cancellation  # noqa: E402
from ministral_node.training import export, train  # noqa: E402
from ministral_node.training.dataset import Split, make_example  # noqa: E402
from ministral_node.training.encoding import request_for  # noqa: E402

pytestmark = pytest.mark.slow


def _train(out, *extra):
    args = train.parser().parse_args([str(out), '--steps', '3', '--batch', '3', '--workers', '0',
                                      '--log-every', '1', *extra])
    args.lr = args.lr or 2e-3
    return train.train(args)


def test_generate_train_export_load_and_decide(tmp_path):
    summary = _train(tmp_path / 'ckpt', '--preset', 'micro')
    assert summary['steps'] == 3 and np.isfinite(summary['final_loss'])
    ckpt = tmp_path / 'ckpt'
    assert (ckpt / SYSTEM_PROMPT_FILE).read_text().strip() == train.SHORT_SYSTEM_PROMPT

    report = export.export(ckpt, tmp_path / 'model', check_prompts=2, float_head=True)
    assert report.vision_max_diff < 1e-4
    assert report.logits_max_diff <= 1e-3 * max(report.logits_scale, 1.0)
    assert report.greedy_agreement == 1.0
    files = locate(tmp_path / 'model')
    assert files.preprocessor['size']['longest_edge'] == 224
    assert (tmp_path / 'model' / SYSTEM_PROMPT_FILE).is_file()
    decoder = onnx.load(str(files.decoder))
    ops = {node.name: node.op_type for node in decoder.graph.node
           if node.op_type in ('MatMul', 'MatMulNBits')}
    assert ops[export.LM_HEAD_NODE] == 'MatMul'  # --float-head
    assert sum(op == 'MatMulNBits' for op in ops.values()) == 7 * 2  # every layer's weights

    decider = OnboardDecider(tmp_path / 'model')
    decider.load()
    assert decider._system == train.SHORT_SYSTEM_PROMPT
    example = make_example(Split('heldout', 1), 3)
    proposal = decider.decide(request_for(example), Cancellation())
    proposal.validate()
    decider.close()


def test_lora_on_a_local_base_checkpoint_is_merged_and_exports(tmp_path):
    from transformers import Mistral3ForConditionalGeneration

    base = tmp_path / 'base'
    _train(base, '--preset', 'micro', '--steps', '1')
    before = Mistral3ForConditionalGeneration.from_pretrained(base).state_dict()
    summary = _train(tmp_path / 'tuned', '--base', str(base), '--lora-rank', '4', '--lr', '0.01')
    assert summary['base'] == str(base)
    tuned = Mistral3ForConditionalGeneration.from_pretrained(tmp_path / 'tuned').state_dict()
    assert set(tuned) == set(before)  # merged: no adapter weights left
    changed = [k for k in tuned if not torch.equal(tuned[k], before[k])]
    assert changed and all('language_model' in k and 'proj' in k for k in changed)
    config = json.loads((tmp_path / 'tuned' / 'config.json').read_text())
    assert config['architectures'] == ['Mistral3ForConditionalGeneration']
    report = export.export(tmp_path / 'tuned', tmp_path / 'model', check_prompts=1)
    assert report.logits_max_diff <= 1e-3 * max(report.logits_scale, 1.0)


def test_keeping_a_node_the_graph_lacks_in_float_is_an_error():
    from ministral_node.tools.build_test_model import build_embed, quantize_q4

    with pytest.raises(ValueError, match='no such nodes'):
        quantize_q4(build_embed(np.zeros((8, 4), np.float32)), [export.LM_HEAD_NODE])


def test_a_staged_recipe_skips_the_stages_it_finished_with_the_same_arguments(tmp_path, capsys):
    """`ministral-train --skip-done`: a stage trained with the same arguments from the same
    parent weights is not trained again; other arguments, or other parent weights, train it
    again."""
    first, second = tmp_path / 'stage1', tmp_path / 'stage2'
    stage1 = [str(first), '--preset', 'micro', '--steps', '1', '--batch', '2', '--workers', '0',
              '--skip-done']
    stage2 = [str(second), '--init', str(first), '--steps', '1', '--batch', '2', '--workers',
              '0', '--lr', '0.001', '--skip-done']

    def trained(argv: list[str]) -> bool:
        assert train.main(argv) == 0
        return 'skipped' not in capsys.readouterr().out

    assert trained(stage1) and trained(stage2)
    summary = json.loads((second / train.TRAINING_FILE).read_text())
    assert summary['arguments']['lr'] == 0.001 and summary['arguments']['init'] == str(first)
    assert not trained(stage1) and not trained(stage2)
    assert trained([*stage2[:-1], '--seed', '7', '--skip-done'])  # other arguments
    assert not trained([*stage2[:-1], '--seed', '7', '--skip-done', '--log-every', '5'])
    assert trained([*stage1[:-1], '--seed', '3'])  # the parent retrained to other weights...
    assert trained([*stage2[:-1], '--seed', '7', '--skip-done'])  # ...trains its child again
    (second / train.WEIGHTS_FILE).unlink()  # a stage cut short before its weights
    assert trained(stage2)
