"""Number and unit provenance: the quantities a command says, in the five languages."""

import math

import pytest

from ministral_node.sources.rules import CommandAnalysis, analyse
from ministral_node.sources.rules.provenance import (
    command_numbers,
    command_quantities,
    measure,
    param_dimension,
)
from ministral_node.sources.rules.units import ANGLE, COUNT, LENGTH, SPEED, TIME


def _said(text, *values):
    said = command_numbers(text)
    return all(any(abs(v - s) < 1e-6 for s in said) for v in values)


@pytest.mark.parametrize('text, values', [
    ('take off to 10 m', [10]),
    ('climb to 100 ft', [100, 30.48]),
    ('fly at 20 km/h', [20, 5.555556]),
    ('hover for half a minute', [30]),
    ('wait 2 minutes', [2, 120]),
    ('décolle à trente mètres', [30]),
    ('monte a cent pieds', [30.48]),
    ('warte zwei Minuten', [120]),
    ('steig auf fünfundzwanzig Meter', [25]),
    ('vuela 1,5 km al sur', [1.5, 1500, 180]),
    ('sali a venticinque metri', [25]),
    ('head NE for 200 m', [45, 200]),
    ('flieg nach Nordosten', [45]),
    ('fais demi-tour', [180]),
    ('turn left 90 degrees', [90]),
])
def test_numbers_the_command_says_in_digits_words_units_and_compass(text, values):
    assert _said(text, *values), sorted(command_numbers(text))


def test_an_article_alone_is_not_a_number_but_a_minute_is():
    assert not _said('take a photo of the car', 1)
    assert _said('hold for a minute', 60)


def test_quantities_carry_their_dimension_and_how_they_were_written():
    said = {(q.value, q.dim): q for q in command_quantities('fly north 2 km at 18 km/h')}
    assert said[(2000.0, LENGTH)].written == '2 km' and said[(2000.0, LENGTH)].number == 2.0
    assert said[(5.0, SPEED)].written == '18 km/h'
    assert math.isnan(said[(0.0, ANGLE)].number)  # a compass word: no number written
    assert [q.dim for q in command_quantities('wait 30')] == [None]  # bare: any dimension


def test_a_param_name_says_what_it_measures():
    assert param_dimension('steps[2].speed_mps') == SPEED and param_dimension('count') == COUNT
    assert param_dimension('duration_s') == TIME and param_dimension('label') is None
    assert (measure(LENGTH), measure(ANGLE), measure(None)) == \
        ('a length in m', 'an angle in deg', 'a number')


def test_an_analysis_reads_its_command_once_whatever_is_asked_of_it(monkeypatch):
    from ministral_node.sources.rules import parser

    calls = []
    monkeypatch.setattr(parser, 'analyse', lambda text: calls.append(text) or analyse(text))
    analysis = CommandAnalysis('climb to 30 m')
    assert analysis.result.proposal.action == 'change_altitude'
    assert analysis.result is analysis.result and calls == ['climb to 30 m']
    assert analysis.quantities is analysis.quantities
    assert (30.0, LENGTH) in {(q.value, q.dim) for q in analysis.quantities}
    assert analysis.languages == {'en'}
