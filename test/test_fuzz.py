"""ministral-fuzz: a CI-sized seeded run finds no crash, and it does notice one."""

import pytest

from ministral_node.inputs import camera
from ministral_node.tools import fuzz


def _cases(report, kind):
    return sum(n for name, n in report.cases.items() if name.startswith(kind))


def test_a_ci_sized_run_has_no_crash_and_no_schema_failure(capsys):
    assert fuzz.main(['--seed', '3', '--images', '400', '--commands', '300']) == 0
    out = capsys.readouterr().out
    assert 'images: 400 cases, crashes 0, schema failures 0' in out
    assert 'commands: 300 cases, crashes 0, schema failures 0' in out


def test_cases_cover_every_kind_and_outcomes_account_for_every_case():
    report = fuzz.run(seed=5, images=300, commands=200)
    assert not report.failed
    assert {name.split()[1] for name in report.cases if name.startswith('image')} == \
        {'raw', 'compressed'}
    assert {name.split()[1] for name in report.cases if name.startswith('command')} == \
        set(fuzz.COMMAND_KINDS)
    assert sum(report.image_outcomes.values()) == _cases(report, 'image')
    assert sum(report.command_outcomes.values()) == _cases(report, 'command')
    outcomes = ' | '.join(report.image_outcomes)
    for expected in ('raw: fresh', 'compressed: fresh', 'compressed: unusable',
                     'is not a JPEG or PNG', 'raw: refused by the callback'):
        assert expected in outcomes


def test_the_same_seed_gives_the_same_cases():
    samples = fuzz.sample_images(1)
    assert fuzz.image_case(9, 17, samples) == fuzz.image_case(9, 17, samples)
    assert fuzz.command_case(9, 17) == fuzz.command_case(9, 17)
    assert fuzz.command_case(9, 17) != fuzz.command_case(10, 17)


def test_an_escaping_exception_is_counted_as_a_crash(monkeypatch, capsys):
    def explode(*args, **kwargs):
        raise NotImplementedError('Unknown pixel format flags 0')
    monkeypatch.setattr(camera, 'decode_compressed', explode)
    monkeypatch.setattr(camera, 'decode_raw', explode)
    assert fuzz.main(['--seed', '3', '--images', '200', '--commands', '0']) == 1
    out = capsys.readouterr().out
    assert 'crashes 0' not in out.splitlines()[1]
    assert 'NotImplementedError: Unknown pixel format flags 0' in out


@pytest.mark.parametrize('case', ['image:3', 'command:3'])
def test_a_case_can_be_replayed(case, capsys):
    assert fuzz.main(['--seed', '3', '--replay', case]) == 0
    assert capsys.readouterr().out
