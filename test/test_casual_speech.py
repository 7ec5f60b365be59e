"""The casual-speech and quantity sets (issue 25, item 7) and a ratchet on how the node reads them.

`test/data/casual_speech.yaml` (radio and chat phrasing) and `test/data/quantities.yaml` (every
unit form in five languages, and hand-written quantity commands) were written without looking
at the rule parser or the training generators. Today the node does badly on casual speech: the
figures below are what it measured when the sets were added, kept as a floor so that no change
makes them worse; the issue's goals (97 % action and numbers in every language, 0 wrong
quantities) are far above them. `ministral-eval --set casual|quantities` prints the same tables
with the model alone and the chain without verification beside them.
"""

from collections import Counter

import jsonschema
import pytest

from ministral_node.decision import Proposal, load_schema
from ministral_node.sources.onboard import resolve_model_dir
from ministral_node.training import handwritten as hw
from ministral_node.training.evaluate import DEMO_MODEL, run_set

# The ratchet, in one place: per set, source and language, (action accuracy, numbers exact,
# wrong quantities published), measured on 2026-12-07 (raised after the rule parser learnt
# casual speech, issue 25, and again after it learnt corrections, radio framing, capability
# questions and colloquial verbs: test_rules_colloquial.py; and again after radio phrasing:
# test_rules_radio_phrasing.py, and verification reading an assumed unit as a complete
# reading of the action and directions; and again after test_rules_operator_talk.py and a
# rule reading of the action with a default sense beating another action) with the shipped
# demo model and the
# default configuration (`config/ministral.yaml`, arbitration=verify). Accuracies are floors
# (rounded down to 3 decimals), wrong quantities ceilings. To raise them after a change that
# improves a figure: run `pytest -s test/test_casual_speech.py` (or `ministral-eval --set
# casual` / `--set quantities`), copy the new figures here, rounded down; never lower one to
# let a change pass, and never edit a set's sentence because a source fails it.
FLOORS = {
    'casual': {
        'rules': {
            'en': (1.0, 1.0, 0), 'fr': (0.986, 0.977, 0), 'de': (1.0, 1.0, 0),
            'es': (1.0, 1.0, 0), 'it': (1.0, 1.0, 0), 'all': (0.997, 0.995, 0),
        },
        'chain+verify': {
            'en': (0.987, 1.0, 0), 'fr': (0.986, 0.977, 0), 'de': (0.985, 1.0, 0),
            'es': (1.0, 1.0, 0), 'it': (1.0, 1.0, 0), 'all': (0.991, 0.995, 0),
        },
    },
    'quantities': {
        'rules': {
            'en': (1.0, 1.0, 0), 'fr': (1.0, 1.0, 0), 'de': (1.0, 1.0, 0),
            'es': (1.0, 1.0, 0), 'it': (1.0, 1.0, 0), 'all': (1.0, 1.0, 0),
        },
        'chain+verify': {
            'en': (1.0, 1.0, 0), 'fr': (1.0, 1.0, 0), 'de': (1.0, 1.0, 0),
            'es': (1.0, 1.0, 0), 'it': (1.0, 1.0, 0), 'all': (1.0, 1.0, 0),
        },
    },
}
# Cases a model-based floor may lose per language (a greedy 4-bit model can flip a near-tie
# on another CPU); the rule parser is deterministic and gets none. 'all' gets one per language.
MODEL_SLACK_CASES = 1

ENTRY_KEYS = {'lang', 'text', 'action', 'params', 'tags', 'mission'}
CASUAL_TAGS = {'filler', 'particle', 'colloquial', 'typo', 'abbrev', 'infinitive', 'verb_final',
               'multi_clause', 'words', 'unit', 'negation', 'radio', 'missing', 'target',
               'question', 'nonsense'}
QUANTITY_KINDS = {'altitude', 'distance', 'speed', 'angle', 'duration'}


@pytest.fixture(scope='module')
def sets():
    return {name: hw.load_set(name) for name in ('casual', 'quantities')}


def _params_specs():
    schema = load_schema()
    return {action: [spec for key, spec in schema['$defs']['params'].items()
                             if key == action or key.startswith(action + '_')]
                    for action in schema['$defs']['actions']['enum']}


def test_every_entry_is_valid_against_the_decision_contract(sets):
    specs = _params_specs()
    for name, cases in sets.items():
        assert len({(c.language, c.text) for c in cases}) == len(cases), name
        for case in cases:
            assert case.language in hw.LANGUAGES and case.text.strip() and case.tags, case
            assert set(case.actions) <= set(specs), case.text
            if case.mission:
                assert case.actions == ('mission',), case.text
                continue
            acting = set(case.actions) - hw.ASKS
            # the expected params are a whole params object of one form of an expected action
            assert not acting or any(
                jsonschema.Draft202012Validator(spec).is_valid(dict(case.params))
                for action in acting for spec in specs[action]), (case.text, case.params)


def test_raw_entries_use_the_hand_written_schema():
    import yaml

    casual = yaml.safe_load(hw.SETS['casual'].read_text(encoding='utf-8'))
    written = yaml.safe_load(hw.SETS['quantities'].read_text(encoding='utf-8'))['cases']
    for entry in [*casual, *written]:
        assert set(entry) <= ENTRY_KEYS and {'lang', 'text', 'action', 'tags'} <= set(entry)
        assert not entry.get('mission') or entry['action'] == 'clarify', entry['text']


def test_the_casual_set_has_300_commands_60_per_language_and_every_kind(sets):
    cases = sets['casual']
    counts = Counter(case.language for case in cases)
    assert len(cases) >= 300 and set(counts) == set(hw.LANGUAGES), counts
    assert min(counts.values()) >= 60, counts
    tags = Counter(tag for case in cases for tag in case.tags)
    assert CASUAL_TAGS <= set(tags), CASUAL_TAGS - set(tags)
    actions = {action for case in cases for action in case.actions}
    assert set(load_schema()['$defs']['actions']['enum']) <= actions
    for language in hw.LANGUAGES:
        mine = [case for case in cases if case.language == language]
        assert {'negation', 'missing', 'multi_clause', 'typo', 'words'} <= \
            {tag for case in mine for tag in case.tags}, language
    print('\ncasual tags:', dict(sorted(tags.items(), key=lambda kv: -kv[1])))


def test_the_quantity_set_covers_every_unit_kind_in_every_language(sets):
    cases = sets['quantities']
    written = [case for case in cases if 'generated' not in case.tags]
    generated = [case for case in cases if 'generated' in case.tags]
    assert len(written) >= 60 and set(Counter(c.language for c in written)) == set(hw.LANGUAGES)
    for language in hw.LANGUAGES:
        kinds = {tag for case in generated if case.language == language for tag in case.tags}
        assert QUANTITY_KINDS | {'words'} <= kinds, language
    assert all(case.numeric for case in cases)


@pytest.mark.parametrize('text, param, value', [
    ('setz die Geschwindigkeit auf 18 km/h', 'speed_mps', 5.0),
    ('climb to 150 ft', 'altitude_m', 45.72),
    ('climb to a hundred feet', 'altitude_m', 30.48),
    ('règle la vitesse à 10 nœuds', 'speed_mps', 5.14),
    ('pon la velocidad a 20 mph', 'speed_mps', 8.94),
    ('vola 1,5 km verso nord', 'distance_m', 1500.0),
    ('aspetta 2 min', 'duration_s', 120.0),
])
def test_the_unit_table_converts_to_the_contracts_units(sets, text, param, value):
    [case] = [case for case in sets['quantities'] if case.text == text]
    assert case.params[param] == value


def test_a_wrong_quantity_is_a_published_number_the_command_did_not_say():
    case = hw.Case('fr', 'mettre la vitesse à 18 km/h', ('set_speed',), {'speed_mps': 5.0})
    assert hw.score(case, Proposal('set_speed', {'speed_mps': 18.0})).wrong_quantities == 1
    assert hw.score(case, Proposal('set_speed', {'speed_mps': 5.0})).wrong_quantities == 0
    asked = Proposal('clarify', {'question': 'Which speed?'})
    assert hw.score(case, asked).wrong_quantities == 0
    down = hw.Case('de', 'zehn Meter runter', ('change_altitude',), {'delta_m': -10})
    offset = Proposal('goto', {'forward_m': 0.0, 'right_m': 0.0, 'up_m': -10.0})
    assert hw.score(down, offset).wrong_quantities == 0  # same quantity, other action
    mission = Proposal('mission', {'steps': [
        {'action': 'takeoff', 'params': {'altitude_m': 10.0}, 'target': None},
        {'action': 'set_speed', 'params': {'speed_mps': 18.0}, 'target': None}]})
    assert hw.score(case, mission).wrong_quantities == 2
    table = hw.summarise([hw.score(case, Proposal('set_speed', {'speed_mps': 18.0}))])
    assert '| 1 |' in hw.markdown({'rules': table}, quantities=True)


def _check_floors(name, source, scores, slack_cases):
    table = hw.summarise(scores)
    print(f'\n{name} ({len(scores)} commands), {source}:')
    print(hw.markdown({source: table}, quantities=True))
    below = []
    for language, (action, numbers, wrong) in FLOORS[name][source].items():
        row = table[language]
        slack = slack_cases * (len(hw.LANGUAGES) if language == 'all' else 1)
        numeric = max(row['numbers_n'], 1)
        if row['action'] < action - slack / row['n'] - 1e-9:
            below.append(f'{language} action {row["action"]:.3f} < {action}')
        if row['numbers'] < numbers - slack / numeric - 1e-9:
            below.append(f'{language} numbers {row["numbers"]:.3f} < {numbers}')
        if row['wrong_quantities'] > wrong + slack:
            below.append(f'{language} wrong quantities {row["wrong_quantities"]} > {wrong}')
    return below


@pytest.mark.parametrize('name', ['casual', 'quantities'])
def test_the_rule_parser_holds_its_floor(sets, name):
    run = hw.evaluate(sets[name], None, {})
    assert set(run.scores) == {'rules'} and len(run.scores['rules']) == len(sets[name])
    assert not _check_floors(name, 'rules', run.scores['rules'], 0)


def _chain(name):
    model_dir = resolve_model_dir(DEMO_MODEL)
    if not (model_dir / 'config.json').is_file():
        pytest.fail(f'the demo model is missing from {model_dir} (make train writes it)')
    _, run, _ = run_set(model_dir, name)
    return run.scores['chain+verify']


def test_the_default_chain_holds_its_floor_on_quantities():
    # about 20 s on 2 busy cores (233 commands, one model decision each)
    assert not _check_floors('quantities', 'chain+verify', _chain('quantities'),
                             MODEL_SLACK_CASES)


@pytest.mark.slow
def test_the_default_chain_holds_its_floor_on_casual_speech():
    # about 35 s on 2 busy cores (359 commands): marked slow, `make test` runs it
    assert not _check_floors('casual', 'chain+verify', _chain('casual'), MODEL_SLACK_CASES)


def test_the_simulator_suite_has_30_casual_scenarios_in_every_language():
    from ministral_node.sim.scenario import load_suite

    casual = load_suite(subset='casual')
    counts = Counter(scenario.language for scenario in casual)
    assert len(casual) >= 30 and set(counts) == set(hw.LANGUAGES) and min(counts.values()) >= 6
    assert all(s.category == 'casual' and s.name.startswith('casual_') for s in casual)
    assert {s.name for s in casual} == {s.name for s in load_suite() if s.category == 'casual'}


def test_visited_is_met_when_the_vehicle_passed_near_the_point_at_any_time():
    from types import SimpleNamespace

    from ministral_node.sim.scoring import CRITERIA

    path = [(0.0, 0.0, 0.0), (0.0, 20.0, 15.0), (0.0, 39.0, 15.0), (0.0, 0.0, 0.0)]
    sim = SimpleNamespace(trace=SimpleNamespace(
        samples=[SimpleNamespace(position=p) for p in path]))
    assert CRITERIA['visited'](sim, [0, 40]).ok
    assert not CRITERIA['visited'](sim, [-30, 0]).ok  # never went west
    assert CRITERIA['visited'](sim, {'east': 0, 'north': 20, 'up': 15}).ok
    assert not CRITERIA['visited'](sim, {'east': 0, 'north': 0, 'up': 15}).ok


@pytest.mark.parametrize('seed', [1, 2, 3])
def test_property_the_rule_parser_publishes_the_converted_quantity_or_asks(seed):
    """Generated from the quantity table with random values (every digit form, five
    languages): a published number always equals the command's value converted to the
    contract's unit, or the decision asks back. Measured: 0 wrong in 3 x 131 draws."""
    import random

    import yaml

    table = yaml.safe_load(hw.SETS['quantities'].read_text(encoding='utf-8'))['table']
    cases = hw.cases_of(hw.table_entries(table, random.Random(seed)))
    assert len(cases) >= 120
    run = hw.evaluate(cases, None, {})
    wrong = [f'{c.text!r} -> {s.got} (want {dict(c.params)})'
             for c, s in zip(cases, run.scores['rules']) if s.wrong_quantities]
    assert not wrong, wrong


def test_the_fast_path_check_counts_complete_readings_and_names_differences():
    cases = [hw.Case('en', 'climb to 30 m', ('change_altitude',), {'altitude_m': 30}),
             hw.Case('en', 'follow the red car', ('follow',), {}),
             hw.Case('en', 'land now', ('land',), {})]
    climb = hw.score(cases[0], Proposal('change_altitude', {'altitude_m': 30.0}))
    follow = hw.score(cases[1], Proposal('follow', {'distance_m': None}))
    land, hold = (hw.score(cases[2], Proposal(a, p)) for a, p in
                  (('land', {}), ('hold', {'duration_s': None})))
    run = hw.Run({'rules': [climb, follow, land], 'chain+verify': [climb, follow, hold]})
    fast = hw.fast_path_agreement(cases, run)
    assert (fast['complete'], fast['same']) == (2, 1)  # the target command is not complete
    assert len(fast['differ']) == 1 and "'land now'" in fast['differ'][0]
