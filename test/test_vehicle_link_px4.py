"""PX4 translation: VehicleCommand numbers, setpoints in NED with NaN for unused fields,
nav_state and acks read back, topic names; field lists checked against px4_msgs."""

import math
import os
import subprocess
from pathlib import Path

import pytest

from ministral_node.mission.executor import Setpoint
from ministral_node.vehicle_link import px4
from ministral_node.vehicle_link.frames import LocalOrigin
from ministral_node.vehicle_link.vocabulary import (
    HOLD,
    LAND,
    MANUAL,
    OFFBOARD,
    OTHER,
    RTL,
    LinkCommand,
)

STAMP = 1_234_567_890


def command(kind, **kw):
    return px4.vehicle_command(LinkCommand(kind, **kw), STAMP)


def params(message):
    return [message[f'param{i}'] for i in range(1, 8)]


def test_every_vehicle_command_fills_exactly_the_message_fields():
    for kind, kw in [('arm', {}), ('disarm', {}), ('set_mode', {'mode': OFFBOARD}),
                     ('set_mode', {'mode': LAND}), ('set_speed', {'value': 4.0}),
                     ('capture_photo', {'value': 2.0})]:
        message = command(kind, **kw)
        assert list(message) == list(px4.FIELDS['VehicleCommand']), kind
        assert message['timestamp'] == STAMP and message['from_external'] is True
        assert (message['target_system'], message['target_component']) == (1, 1)


@pytest.mark.parametrize(('kind', 'kw', 'number', 'first'), [
    ('arm', {}, 400, [1.0]),
    ('disarm', {}, 400, [0.0]),
    ('set_mode', {'mode': OFFBOARD}, 176, [1.0, 6.0, 0.0]),  # custom mode, main mode OFFBOARD
    ('set_mode', {'mode': HOLD}, 176, [1.0, 4.0, 3.0]),  # AUTO, sub mode LOITER
    ('set_mode', {'mode': LAND}, 21, [0.0, 0.0, 0.0]),  # NAV_LAND
    ('set_mode', {'mode': RTL}, 20, [0.0, 0.0, 0.0]),  # NAV_RETURN_TO_LAUNCH
    ('set_speed', {'value': 4.5}, 178, [1.0, 4.5, -1.0]),  # ground speed, m/s, throttle kept
    ('capture_photo', {'value': 3.0}, 2000, [0.0, 0.0, 1.0, 3.0]),  # one image, sequence 3
])
def test_command_numbers_and_params(kind, kw, number, first):
    message = command(kind, **kw)
    assert message['command'] == number
    assert params(message)[:len(first)] == first


def test_land_here_leaves_yaw_and_position_to_px4():
    assert all(math.isnan(v) for v in params(command('set_mode', mode=LAND))[3:])


def test_takeoff_needs_the_home_altitude():
    with pytest.raises(ValueError, match='AMSL'):
        command('takeoff', value=10.0)
    message = px4.vehicle_command(LinkCommand('takeoff', value=10.0), STAMP,
                                  home_amsl_m=488.0)
    assert message['command'] == 22 and message['param7'] == 498.0


def test_offboard_control_mode_asks_for_position_control_only():
    message = px4.offboard_control_mode(STAMP)
    assert list(message) == list(px4.FIELDS['OffboardControlMode'])
    assert message['position'] is True
    assert not any(v for k, v in message.items() if k not in ('timestamp', 'position'))


def test_trajectory_setpoint_is_ned_with_nan_for_unused_fields():
    # 3 m east, 4 m north, 10 m up, facing east (ENU yaw 0)
    message = px4.trajectory_setpoint(Setpoint(3.0, 4.0, 10.0, 0.0), LocalOrigin(), STAMP)
    assert list(message) == list(px4.FIELDS['TrajectorySetpoint'])
    assert message['position'] == [4.0, 3.0, -10.0]
    assert message['yaw'] == pytest.approx(math.pi / 2)  # east is NED yaw +pi/2
    for name in ('velocity', 'acceleration', 'jerk'):
        assert len(message[name]) == 3 and all(math.isnan(v) for v in message[name])
    assert math.isnan(message['yawspeed'])
    shifted = px4.trajectory_setpoint(Setpoint(0.0, 0.0, 0.0, 0.0), LocalOrigin((1, 2, -3)), 0)
    assert shifted['position'] == [1.0, 2.0, -3.0]


@pytest.mark.parametrize(('nav_state', 'mode', 'name'), [
    (14, OFFBOARD, 'OFFBOARD'), (4, HOLD, 'AUTO.LOITER'), (5, RTL, 'AUTO.RTL'),
    (18, LAND, 'AUTO.LAND'), (2, MANUAL, 'POSCTL'), (13, OTHER, 'TERMINATION'),
    (99, OTHER, 'nav_state 99'),
])
def test_nav_states(nav_state, mode, name):
    status = px4.status_from_px4({'nav_state': nav_state, 'arming_state': 2, 'failsafe': False})
    assert (status.mode, status.mode_name, status.armed) == (mode, name, True)


def test_status_reads_disarmed_landed_and_failsafe():
    status = px4.status_from_px4({'nav_state': 18, 'arming_state': 1, 'failsafe': True},
                                 {'landed': True})
    assert (status.armed, status.landed, status.failsafe) == (False, True, True)
    assert px4.status_from_px4({'nav_state': 4, 'arming_state': 2}).landed is None


def test_acks_are_matched_to_what_was_sent_in_order():
    acks = px4.Px4Acks()
    offboard = LinkCommand('set_mode', mode=OFFBOARD)
    hold = LinkCommand('set_mode', mode=HOLD)
    for sent in (offboard, offboard, hold):  # all three are DO_SET_MODE (176)
        acks.sent(sent, px4.vehicle_command(sent, STAMP))
    assert acks.read({'command': 400, 'result': 0}) is None  # not ours
    assert acks.read({'command': 176, 'result': 5}) is None  # in progress: still pending
    later = acks.read({'command': 176, 'result': 1})
    assert (later.mode, later.accepted, later.temporary, later.reason) == (
        OFFBOARD, False, True, 'temporarily rejected')
    granted = acks.read({'command': 176, 'result': 0})
    assert (granted.kind, granted.mode, granted.accepted) == ('set_mode', OFFBOARD, True)
    denied = acks.read({'command': 176, 'result': 2, 'result_param1': 7})
    assert (denied.mode, denied.temporary, denied.reason) == (HOLD, False, 'denied (reason 7)')
    assert acks.read({'command': 176, 'result': 0}) is None  # nothing left unanswered


def test_topics_follow_the_release_and_namespace():
    names = px4.Px4Topics().names()
    assert names['vehicle_status'] == '/fmu/out/vehicle_status_v1'
    assert names['trajectory_setpoint'] == '/fmu/in/trajectory_setpoint'
    assert px4.Px4Topics(status_suffix='').names()['vehicle_status'] == \
        '/fmu/out/vehicle_status'
    assert px4.Px4Topics('/px4_1/fmu').names()['vehicle_command'] == \
        '/px4_1/fmu/in/vehicle_command'
    for bad in ('fmu', '/fmu/'):
        with pytest.raises(ValueError):
            px4.Px4Topics(bad)
    with pytest.raises(ValueError):
        px4.Px4Topics(status_suffix='_v2')


def test_pose_from_local_position():
    local = {'xy_valid': True, 'z_valid': True, 'x': 4.0, 'y': 3.0, 'z': -10.0,
             'heading': math.pi / 2}
    position, heading = px4.pose_from_px4(local, LocalOrigin())
    assert position == pytest.approx((3.0, 4.0, 10.0)) and heading == pytest.approx(90.0)
    assert px4.pose_from_px4({**local, 'xy_valid': False}, LocalOrigin())[0] is None
    assert px4.pose_from_px4({**local, 'heading': math.nan}, LocalOrigin())[1] is None


# -- the field lists against px4_msgs -------------------------------------------------------
# PX4_MSGS_DIR: a px4_msgs checkout (msg/*.msg); else the mirror fetched while developing.
MIRROR = Path('/work/.mirror/PX4+px4_msgs/repo')
TAGS = ('v1.15.4', 'v1.16.2')


def _original(tag: str, message: str) -> str | None:
    folder = os.environ.get('PX4_MSGS_DIR')
    if folder:
        path = Path(folder) / 'msg' / f'{message}.msg'
        return path.read_text() if path.exists() else None
    if not MIRROR.exists():
        return None
    done = subprocess.run(['git', '--git-dir', str(MIRROR), 'show', f'{tag}:msg/{message}.msg'],
                          capture_output=True, text=True, check=False)
    return done.stdout if done.returncode == 0 else None


def _fields_of(text: str) -> dict[str, str]:
    fields = {}
    for line in text.splitlines():
        words = line.split('#', 1)[0].split()
        if len(words) == 2 and '=' not in line.split('#', 1)[0]:
            fields[words[1]] = words[0]
    return fields


@pytest.mark.parametrize('tag', TAGS)
@pytest.mark.parametrize('message', sorted({**px4.FIELDS, **px4.READ_FIELDS}))
def test_field_lists_match_px4_msgs(tag, message):
    text = _original(tag, message)
    if text is None:
        pytest.skip(f'px4_msgs {tag} {message}.msg not here: set PX4_MSGS_DIR to a checkout')
    original = _fields_of(text)
    if message in px4.FIELDS:  # published: every field, in order, same types
        assert px4.FIELDS[message] == original
        assert list(px4.FIELDS[message]) == list(original)
    else:  # read: the fields used exist with the same types
        used = px4.READ_FIELDS[message]
        assert {k: original.get(k) for k in used} == used
