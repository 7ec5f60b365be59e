"""Actions that wait for the operator: the envelope asks, the gate releases, expiry on a clock."""

import pytest
from safety_fixtures import check, envelope, proposal, vehicle

from ministral_node.safety.envelope import (
    CONFIRMED,
    DECLINED,
    EXPIRED,
    NOT_A_REPLY,
    ConfirmationGate,
    reply_kind,
)
from ministral_node.timing import FakeClock


@pytest.mark.parametrize('text', [
    'confirm', 'CONFIRM.', ' yes ', 'Yes!', 'yes please', 'yes, confirm', 'oui', 'Oui merci',
    'ja', 'Ja bitte', 'sí', 'Sí', 'si', 'sì', 'confermo', 'confirmo', 'go ahead yes'])
def test_confirmations_in_several_languages(text):
    assert reply_kind(text) == CONFIRMED


@pytest.mark.parametrize('text', ['no', 'No.', 'non', 'nein', 'cancel', 'abort', 'annuler'])
def test_refusals_in_several_languages(text):
    assert reply_kind(text) == DECLINED


@pytest.mark.parametrize('text', [
    '', '   ', 'please', 'yes land now', 'take off to 10 m', 'yesterday', 'oui non',
    'confirm the red car is there'])
def test_other_commands_are_not_replies(text):
    assert reply_kind(text) == NOT_A_REPLY


def takeoff_envelope(**params):
    return envelope(confirm_actions=['takeoff'], confirmation_timeout_s=30.0, **params)


def test_a_confirm_action_becomes_a_question_holding_the_checked_proposal():
    env = takeoff_envelope()
    out, report = check(env, proposal('takeoff', altitude_m=900), vehicle())
    assert out.action == 'clarify'
    assert 'Confirm takeoff (altitude_m=120)' in out.params['question']
    assert '30 s' in out.params['question']
    assert [c.field for c in report.changes] == ['params.altitude_m', 'action']
    assert report.changes[-1].requested == 'takeoff' and report.status == 'modified'
    pending = env.pending_confirmation
    assert pending.proposal.params == {'altitude_m': 120.0} and pending.source == 'onboard'


def test_a_confirmation_releases_it_and_a_second_check_lets_it_through():
    env = takeoff_envelope()
    check(env, proposal('takeoff', altitude_m=10), vehicle(), source='rules')
    env.clock.advance(29)
    reply = env.settle_confirmation('Oui')
    assert reply.outcome == CONFIRMED and reply.response() is None
    out, report = check(env, reply.pending.proposal, vehicle(stamp=env.clock.now()),
                        source=reply.pending.source, confirmed=True)
    assert out.action == 'takeoff' and out.params == {'altitude_m': 10}
    assert report.status == 'passed'
    assert env.pending_confirmation is None


def test_a_late_confirmation_expires():
    env = takeoff_envelope()
    check(env, proposal('takeoff', altitude_m=10), vehicle())
    env.clock.advance(30)
    assert env.pending_confirmation is None
    reply = env.settle_confirmation('yes')
    assert reply.outcome == EXPIRED
    response = reply.response()
    assert response.action == 'reject' and 'too late' in response.params['reason']
    assert '30 s' in response.params['reason']


def test_declining_cancels_it():
    env = takeoff_envelope()
    check(env, proposal('takeoff', altitude_m=10), vehicle())
    reply = env.settle_confirmation('nein')
    assert reply.outcome == DECLINED
    assert reply.response().action == 'answer'
    assert 'Cancelled: takeoff' in reply.response().params['text']
    assert env.settle_confirmation('ja').outcome == NOT_A_REPLY


def test_another_command_drops_the_pending_one():
    env = takeoff_envelope()
    check(env, proposal('takeoff', altitude_m=10), vehicle())
    reply = env.settle_confirmation('what do you see?')
    assert reply.outcome == NOT_A_REPLY and reply.pending.proposal.action == 'takeoff'
    assert reply.response() is None  # the command goes on to the deciders
    later = env.settle_confirmation('yes')
    assert later.outcome == NOT_A_REPLY and later.pending is None


def test_a_newer_request_replaces_the_older_one():
    env = envelope(confirm_actions=['takeoff', 'goto'])
    check(env, proposal('takeoff', altitude_m=10), vehicle())
    check(env, proposal('goto', heading_deg=0, distance_m=20), vehicle())
    assert env.settle_confirmation('yes').pending.proposal.action == 'goto'


def test_the_released_proposal_meets_the_state_at_release_time():
    env = takeoff_envelope()
    check(env, proposal('takeoff', altitude_m=10), vehicle(battery=90))
    pending = env.settle_confirmation('confirm').pending
    out, report = check(env, pending.proposal, vehicle(battery=20), confirmed=True)
    assert out.action == 'reject' and 'takeoff' in report.refused


def test_without_the_confirmed_flag_the_same_proposal_asks_again():
    env = takeoff_envelope()
    check(env, proposal('takeoff', altitude_m=10), vehicle())
    pending = env.settle_confirmation('yes').pending
    out, _ = check(env, pending.proposal, vehicle())
    assert out.action == 'clarify'


def test_refused_proposals_are_not_held():
    env = takeoff_envelope()
    out, _ = check(env, proposal('takeoff', altitude_m=10), vehicle(battery=5))
    assert out.action == 'reject' and env.pending_confirmation is None


@pytest.mark.parametrize('prop', [
    proposal('land'), proposal('stop'), proposal('return_to_home'),
    proposal('goto', heading_deg=0, distance_m=10)])
def test_other_actions_do_not_wait(prop):
    out, _ = check(takeoff_envelope(), prop, vehicle())
    assert out.action == prop.action


def test_failsafe_never_waits_for_confirmation():
    env = takeoff_envelope()
    out, report = check(env, proposal('takeoff', altitude_m=10), vehicle(), source='failsafe')
    assert out.action == 'takeoff' and report.status == 'passed'
    assert env.pending_confirmation is None


def test_nothing_is_asked_by_default():
    out, _ = check(envelope(), proposal('takeoff', altitude_m=10), vehicle())
    assert out.action == 'takeoff'


def test_gate_on_its_own():
    clock = FakeClock(0.0)
    gate = ConfirmationGate(clock, timeout_s=5.0)
    assert gate.reply('yes').outcome == NOT_A_REPLY
    held = gate.hold(proposal('land'), 'remote')
    assert (held.asked_at, held.expires_at) == (0.0, 5.0)
    clock.advance(4.9)
    assert gate.pending == held
    gate.cancel()
    assert gate.pending is None and gate.reply('yes').outcome == NOT_A_REPLY
