"""Reflexes: stop, hold, land, return to home and resume obeyed at once, whatever the models
are doing; negated, conditional, targeted or compound forms never."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest
from support import BlockingDecider, LoopRig, ScriptedDecider

from ministral_node.decision import Proposal, Refusal, RefusalKind
from ministral_node.health import ERROR
from ministral_node.sources.rules.reflex import REFLEX_ACTIONS, ReflexReader, trigger_words

URGENT = {
    'stop': ['STOP!', 'stop stop', 'halt!', 'arrête !', 'para ya', 'fermati subito', 'Stopp!',
             'abort', 'emergency stop', 'ARRÊTEZ', 'detente ya', 'ferma subito'],
    'land': ['land now', 'LAND!', 'lande sofort', 'atterris maintenant', 'aterriza ya',
             'atterra subito', 'please land'],
    'return_to_home': ['come home now', 'RTL', 'return to home please', 'rentre à la maison',
                       'komm zurück', 'vuelve a casa', 'torna a casa',
                       'ja gut, dann flieg halt heim'],  # fillers, and halt as a particle
    'hold': ['hold position', 'hover', 'stai fermo', 'warte', 'quieto', 'hold for 10 seconds'],
    'resume': ['resume', 'Resume control now!', 'ok, take back control please',
               'reprends la main', 'Reprenez le contrôle !', 'übernimm wieder', 'bitte übernehmen',
               'retoma el control, por favor', 'reanuda', 'riprendi il controllo'],
}

# Negations and conditions of each language, wrapped around a reflex verb.
NEGATED = {
    'en': ["don't {v}", 'do not {v}', 'never {v}', 'no, do not {v}'],
    'fr': ['ne {v} pas', 'ne {v} jamais', "n'{v} pas"],
    'de': ['nicht {v}', '{v} nicht', 'bitte nicht {v}', 'niemals {v}'],
    'es': ['no {v}', 'nunca {v}', 'no, no {v}'],
    'it': ['non {v}', 'mai {v}', 'no, non {v}'],
}
CONDITIONAL = {
    'en': ['{v} when you reach the pad', '{v} if the battery is low',
           'if you see the car, {v}', '{v} once you are over the pad'],
    'fr': ['{v} quand tu arrives à la plateforme', 'si la batterie est faible, {v}',
           '{v} si tu vois la voiture'],
    'de': ['{v}, wenn du die Plattform erreichst', 'falls der Akku schwach ist, {v}',
           'wenn du das Auto siehst, {v}'],
    'es': ['{v} cuando llegues a la plataforma', 'si la batería está baja, {v}',
           '{v} si ves el coche'],
    'it': ['{v} quando arrivi alla piattaforma', 'se la batteria è scarica, {v}',
           '{v} se vedi la macchina'],
}
# Not reflexes either: a target, another action, a question.
NOT_REFLEXES = ['stop taking photos', 'stop following the car', 'stop and land',
                'land on the red pad', 'atterris sur la plateforme rouge', 'land?',
                'why did you stop?', 'land and then take off to 10 m', 'wait 5 s then land',
                'take off to 10 m', 'fly 20 m north',
                'resume the mission to the red pad', 'resume?', 'resume and land',
                'reprends la mission et pose-toi']


def _generated(templates: dict[str, list[str]]) -> list[str]:
    """Every template of a language with every reflex verb of that language (and 'stop')."""
    out = []
    for action in REFLEX_ACTIONS:
        words = trigger_words(action)
        for lang, forms in templates.items():
            for verb in words.get(lang, []) + words.get('all', []):
                out += [form.format(v=verb) for form in forms]
    return out


@pytest.mark.parametrize('action', REFLEX_ACTIONS)
def test_urgent_commands_in_five_languages_are_reflexes(action):
    reader = ReflexReader()
    for text in URGENT[action]:
        reflex = reader.read(text)
        assert reflex is not None and reflex.action == action, text


def test_no_negated_or_conditional_command_is_a_reflex():
    reader = ReflexReader()
    generated = _generated(NEGATED) + _generated(CONDITIONAL)
    assert len(generated) > 500
    triggered = [text for text in generated + NOT_REFLEXES if reader.read(text) is not None]
    assert triggered == []


def test_only_the_enabled_reflexes_trigger():
    reader = ReflexReader(['stop'])
    assert reader.read('stop').action == 'stop'
    assert reader.read('land now') is None
    assert ReflexReader([]).read('STOP!') is None
    with pytest.raises(ValueError, match='not reflex actions'):
        ReflexReader(['takeoff'])


def test_trigger_words_are_the_parsers_verbs():
    words = trigger_words('stop')
    assert 'stop' in words['all'] and 'halt' in words['en'] and 'para' in words['es']
    assert all(ReflexReader().read(w) is not None for w in words['en'])


# ---- the loop -------------------------------------------------------------------------------

def _busy(rig: LoopRig, blocking: BlockingDecider) -> threading.Thread:
    drainer = threading.Thread(target=rig.loop.drain)
    drainer.start()
    assert blocking.started.wait(10)
    return drainer


def _by_text(published: list[dict]) -> dict[str, dict]:
    return {d.command.text: d for d in published if d.command is not None}


def test_a_stop_preempts_the_running_decision_and_supersedes_the_waiting_ones():
    blocking = BlockingDecider()
    rig = LoopRig(sources=[blocking], reflexes=list(REFLEX_ACTIONS))
    rig.loop.activate()
    rig.loop.command('search the field for the lost hiker')
    rig.loop.command('fly 30 m north')
    drainer = _busy(rig, blocking)
    rig.loop.command('take two photos')
    rig.loop.command('STOP!')
    # Published first, on the receiving thread.
    stop = rig.published[0]
    assert stop.command.text == 'STOP!'
    assert stop.action == 'stop' and stop.source == 'rules'
    [attempt] = stop.attempts
    assert attempt.source == 'reflex' and attempt.outcome == 'ok'
    assert 'search the field' in attempt.detail and '2 waiting command(s)' in attempt.detail
    drainer.join(10)
    answered = _by_text(rig.published)
    assert set(answered) == {'search the field for the lost hiker', 'fly 30 m north',
                             'take two photos', 'STOP!'}
    assert len(rig.published) == 4  # each command answered exactly once
    running = answered['search the field for the lost hiker']
    assert running.action == 'reject'
    assert running.refusal.kind is RefusalKind.PREEMPTED and running.attempts == ()
    assert running.refusal.reason.startswith('not decided: preempted by the reflex stop')
    # The model was cancelled, not late: no timeout, no failure held against it.
    assert rig.loop.health.snapshot_of('onboard') is None or \
        rig.loop.health.snapshot_of('onboard').level != ERROR
    for superseded in ('fly 30 m north', 'take two photos'):
        assert answered[superseded].refusal.kind is RefusalKind.SUPERSEDED
        assert 'superseded by the reflex stop' in answered[superseded].refusal.reason
    assert rig.loop.status()['reflexes'] == 1


def test_a_hold_reflex_can_keep_the_waiting_commands():
    blocking = BlockingDecider()
    rig = LoopRig(sources=[blocking], reflexes=['hold'], reflex_hold_keeps_queue=True)
    rig.loop.activate()
    rig.loop.command('search the field')
    drainer = _busy(rig, blocking)
    rig.loop.command('take two photos')
    rig.loop.command('hold position')
    assert [d.action for d in rig.published] == ['hold']
    blocking.started.clear()
    assert blocking.started.wait(10)  # the kept command is being decided now
    rig.loop.deactivate()
    drainer.join(10)
    answered = _by_text(rig.published)
    assert answered['take two photos'].refusal == Refusal(RefusalKind.DEACTIVATING,
                                                          'not decided: node deactivating')
    assert answered['search the field'].refusal.kind is RefusalKind.PREEMPTED
    assert 'preempted by the reflex hold' in answered['search the field'].refusal.reason


@pytest.mark.parametrize('text', ["don't land", 'stop taking photos', 'land on the red pad'])
def test_what_is_not_a_reflex_waits_its_turn(text):
    blocking = BlockingDecider()
    rig = LoopRig(sources=[blocking], reflexes=list(REFLEX_ACTIONS))
    rig.loop.activate()
    rig.loop.command('search the field')
    drainer = _busy(rig, blocking)
    rig.loop.command(text)
    assert rig.published == [] and rig.loop.status()['queued_commands'] == 1
    rig.loop.deactivate()
    drainer.join(10)


def test_reflexes_off_queue_a_stop_like_any_command():
    rig = LoopRig(sources=[ScriptedDecider('rules', Proposal('stop', {}, None, 1.0, 'x'))])
    rig.loop.activate()
    rig.loop.command('stop')
    assert rig.published == []
    rig.loop.drain()
    assert rig.published[0].attempts[0].source == 'rules'


def test_a_reflex_on_an_inactive_node_is_refused_like_any_command():
    rig = LoopRig(reflexes=list(REFLEX_ACTIONS))
    rig.loop.command('STOP!')
    [decision] = rig.published
    assert decision.action == 'reject' and decision.refusal == Refusal(
        RefusalKind.INACTIVE, 'node inactive: not deciding')


def test_a_reflex_preempts_the_mission_and_the_executor_holds_at_once():
    rig = LoopRig(sources=[ScriptedDecider('rules', Proposal(
        'goto', {'heading_deg': 0.0, 'distance_m': 50.0}, None, 1.0, 'north'))],
        reflexes=list(REFLEX_ACTIONS), execute_missions=True)
    rig.loop.activate()
    rig.loop.pose(0.0, 0.0, 20.0, 0.0)
    rig.loop.command('fly 50 m north')
    rig.loop.drain()
    for _ in range(5):
        rig.clock.advance(0.1)
        rig.loop.pose(0.0, 0.5 * (_ + 1), 20.0, 0.0)
        rig.loop.execute()
    assert rig.loop.mission_status()['state'] == 'running'
    rig.executed.clear()
    rig.loop.command('stop stop')
    stop = rig.published[-1]
    assert stop.action == 'stop' and 'mission-1 (step 1/1 goto)' in \
        stop.attempts[0].detail
    # Without any executor tick: the mission is preempted and a setpoint holds where we are.
    statuses = [s for out in rig.executed for s in out.statuses]
    assert any(s['mission_id'] == 'mission-1' and s['state'] == 'preempted'
               and 'reflex' in s['reason'] for s in statuses)
    setpoints = [out.setpoint for out in rig.executed if out.setpoint is not None]
    assert setpoints and setpoints[0].y == pytest.approx(2.5) and setpoints[0].z == 20.0


def test_a_resume_hands_the_control_back_through_the_vehicle_link_and_holds():
    rig = LoopRig(reflexes=list(REFLEX_ACTIONS), execute_missions=True)
    rig.loop.activate()
    rig.loop.pose(0.0, 0.0, 20.0, 0.0)
    asked: list[str] = []
    rig.loop.vehicle_resume = lambda: asked.append('resume') or \
        'resumed after: autopilot took over (mode POSCTL)'
    rig.loop.command('reprends la main')
    decision = rig.published[-1]
    assert asked == ['resume']
    assert (decision.action, decision.params) == ('hold', {'duration_s': None})
    assert 'vehicle link: resumed after: autopilot took over (mode POSCTL)' in decision.notes
    assert decision.attempts[0].detail.startswith('resume read as a reflex (fr)')
    rig.loop.vehicle_resume = None  # vehicle_interface json: nothing to hand back
    rig.loop.command('resume')
    assert 'vehicle link: no autopilot link to resume (vehicle_interface json)' in \
        rig.published[-1].notes


def test_the_pipeline_reads_no_reflex_in_a_command_the_input_check_refuses():
    rig = LoopRig(reflexes=list(REFLEX_ACTIONS))
    assert rig.loop.pipeline.read_reflex('stop').action == 'stop'
    assert rig.loop.pipeline.read_reflex('stop\x07\x1b[31m') is None
    assert rig.loop.pipeline.read_reflex('stop ' * 1000) is None


def test_the_reflex_page_lists_the_words_that_trigger_each_reflex():
    root = Path(__file__).resolve().parent.parent
    table = subprocess.run([sys.executable, str(root / 'scripts' / 'reflex_words')],
                           capture_output=True, text=True, check=True).stdout
    assert table in (root / 'docs' / 'reflexes.md').read_text(), \
        'docs/reflexes.md reflex table is stale: paste the output of scripts/reflex_words'
