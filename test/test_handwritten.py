"""The hand-written evaluation set and how `ministral-eval --set handwritten` scores it."""

from collections import Counter

import pytest

from ministral_node.decision import Proposal, load_schema
from ministral_node.sources.rules import RuleDecider
from ministral_node.sources.rules.verify import Verdict
from ministral_node.training import handwritten as hw


@pytest.fixture(scope='module')
def cases():
    return hw.load_cases()


def test_the_set_has_300_commands_over_five_languages_and_every_kind(cases):
    counts = Counter(case.language for case in cases)
    assert len(cases) >= 300 and set(counts) == set(hw.LANGUAGES)
    assert min(counts.values()) >= 60
    tags = {tag for case in cases for tag in case.tags}
    assert {'abbrev', 'words', 'typo', 'noaccent', 'polite', 'urgent', 'compound', 'target',
            'nonsense', 'units'} <= tags
    assert len({(case.language, case.text) for case in cases}) == len(cases)


def test_expected_decisions_name_real_actions_and_their_params(cases):
    schema = load_schema()['$defs']
    actions = set(schema['actions']['enum'])
    for case in cases:
        assert set(case.actions) <= actions, case.text
        names = {name for spec in schema['params'].values()
                 for name in spec.get('properties', {})}
        assert set(case.params) <= names, case.text


def test_multi_step_commands_are_marked_and_scored_as_missions(cases):
    missions = [case for case in cases if case.mission]
    assert missions and all(case.actions == ('mission',) for case in missions)
    before = hw.load_cases(missions_as='clarify')
    assert [c.actions for c in before if c.mission] == [('clarify',)] * len(missions)


def test_scoring_counts_actions_numbers_and_invented_numbers():
    case = hw.Case('en', 'climb to 900 m', ('change_altitude',), {'altitude_m': 900})
    right = hw.score(case, Proposal('change_altitude', {'altitude_m': 900.0}))
    assert (right.action_ok, right.numbers_ok, right.invented) == (True, True, 0)
    wrong = hw.score(case, Proposal('change_altitude', {'altitude_m': 90.0}))
    assert (wrong.action_ok, wrong.numbers_ok, wrong.invented) == (True, False, 1)
    other = hw.score(case, Proposal('takeoff', {'altitude_m': 900.0}))
    assert (other.action_ok, other.numbers_ok, other.invented) == (False, False, 0)
    verdict = Verdict(None, 'x', outcome='provenance')
    assert hw.score(case, None, verdict).verification == 'provenance'
    units = hw.Case('en', 'climb to 100 ft', ('change_altitude',), {'altitude_m': 30.48})
    assert hw.score(units, Proposal('change_altitude', {'altitude_m': 30.48})).numbers_ok


def test_summary_and_table_per_language():
    scores = [hw.Score('en', True, True, 0, 'agreed'), hw.Score('en', False, None, 2, ''),
              hw.Score('fr', True, False, 0, 'rules_won', True)]
    table = hw.summarise(scores)
    assert table['en']['action'] == 0.5 and table['en']['invented'] == 2
    assert table['all']['numbers'] == 0.5 and table['all']['numbers_n'] == 2
    assert table['fr']['outcomes'] == {'rules_won': 1} and table['fr']['boxes_dropped'] == 1
    text = hw.markdown({'chain+verify': table})
    assert '| fr | chain+verify | 1 | 100.0% | 0.0% (1) | 0 | rules won 1; box dropped 1 |' \
        in text


def test_the_evaluation_runs_every_source_on_every_case(cases):
    class Scripted:
        source = 'onboard'

        def decide(self, request, cancel):
            return Proposal('takeoff', {'altitude_m': 100.0}, None, 0.9, 'always')

        def model_info(self):
            return None

    some = [c for c in cases if c.language == 'en'
            and c.text in ('take off to 10 m', 'land', 'stop!')]
    values = {'arbitration': 'verify', 'min_confidence': 0.5, 'min_confidence_unread': 0.8,
              'min_box_confidence': 0.05}
    run = hw.evaluate(some, Scripted(), values)
    assert set(run.scores) == set(hw.SOURCES)
    assert all(len(scores) == len(some) for scores in run.scores.values())
    assert [s.action_ok for s in run.scores['rules']] == [
        RuleDecider().decide(*_request(c)).action in c.actions for c in some]
    assert sum(s.invented for s in run.scores['chain']) == 3  # 100 in every one
    assert sum(s.invented for s in run.scores['chain+verify']) == 0
    assert len(run.verify_ms) == len(some)


def _request(case):
    from ministral_node.decision import CommandInfo
    from ministral_node.sources.base import DecisionRequest
    from ministral_node.timing import Cancellation

    return DecisionRequest(CommandInfo('c', case.text, 0.0)), Cancellation()


def test_with_a_vehicle_state_the_chain_is_also_scored_as_published_after_the_envelope():
    from ministral_node import parameters
    from ministral_node.inputs.vehicle import parse_state
    from ministral_node.resources import config_path
    from ministral_node.sources.base import DeciderError

    class Silent:
        source = 'onboard'

        def decide(self, request, cancel):
            raise DeciderError('no model here')

        def model_info(self):
            return None

    values = parameters.load_params_file(config_path('ministral.yaml'))
    move = [hw.Case('en', 'fly north 20 m', ('goto',), {'heading_deg': 0.0,
                                                         'distance_m': 20.0})]
    grounded = hw.evaluate(move, Silent(), values, vehicle=parse_state('alt=0,in_air=false',
                                                                       0.0))
    flying = hw.evaluate(move, Silent(), values, vehicle=parse_state('alt=20,in_air=true', 0.0))
    assert set(grounded.scores) == {*hw.SOURCES, hw.PUBLISHED}
    assert grounded.scores['chain+verify'][0].action_ok  # understood...
    assert not grounded.scores[hw.PUBLISHED][0].action_ok  # ...and refused on the ground
    assert flying.scores[hw.PUBLISHED][0].action_ok
    assert hw.PUBLISHED not in hw.evaluate(move, Silent(), values).scores


def test_ministral_eval_reads_the_state_as_ministral_decide_does(capsys):
    from ministral_node.cli import decide, ministral_eval

    with pytest.raises(SystemExit) as stopped:
        ministral_eval.main(['--set', 'casual', '--state', 'alt=20,speed=3'])
    assert stopped.value.code == 2
    assert "vehicle state item 'speed=3'" in capsys.readouterr().err  # parse_state's words
    assert decide.main(['--command', 'land', '--state', 'alt=20,speed=3']) == 2
    assert "vehicle state item 'speed=3'" in capsys.readouterr().err
