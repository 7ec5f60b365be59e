"""MAVROS translation: mode names for PX4 and ArduPilot, service requests, State read back,
responses as acknowledgements; field lists checked against mavros_msgs."""

import math
import os
import subprocess
from pathlib import Path

import pytest

from ministral_node.mission.executor import Setpoint
from ministral_node.vehicle_link import mavros
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


@pytest.mark.parametrize(('autopilot', 'mode', 'name'), [
    ('px4', OFFBOARD, 'OFFBOARD'), ('px4', LAND, 'AUTO.LAND'), ('px4', RTL, 'AUTO.RTL'),
    ('px4', HOLD, 'AUTO.LOITER'), ('ardupilot', OFFBOARD, 'GUIDED'),
    ('ardupilot', LAND, 'LAND'), ('ardupilot', RTL, 'RTL'), ('ardupilot', HOLD, 'BRAKE'),
])
def test_set_mode_names(autopilot, mode, name):
    call = mavros.service_call(LinkCommand('set_mode', mode=mode), autopilot)
    assert call == mavros.ServiceCall('set_mode', {'base_mode': 0, 'custom_mode': name})
    status = mavros.status_from_mavros({'mode': name, 'armed': True, 'connected': True},
                                       autopilot)
    assert (status.mode, status.mode_name) == (mode, name)


def test_other_services():
    assert mavros.service_call(LinkCommand('arm'), 'px4') == \
        mavros.ServiceCall('arming', {'value': True})
    assert mavros.service_call(LinkCommand('disarm'), 'ardupilot').request == {'value': False}
    takeoff = mavros.service_call(LinkCommand('takeoff', value=15.0), 'ardupilot')
    assert takeoff.role == 'takeoff' and takeoff.request['altitude'] == 15.0
    speed = mavros.service_call(LinkCommand('set_speed', value=3.0), 'px4')
    assert speed.role == 'command'
    assert [speed.request[k] for k in ('command', 'param1', 'param2', 'param3')] == \
        [178, 1.0, 3.0, -1.0]
    photo = mavros.service_call(LinkCommand('capture_photo', value=2.0), 'px4')
    assert [photo.request[k] for k in ('command', 'param3', 'param4')] == [2000, 1.0, 2.0]
    assert set(speed.request) == {k for k in mavros.FIELDS['srv/CommandLong']
                                  if k != '---'} - {'success', 'result'}
    with pytest.raises(ValueError):
        mavros.service_call(LinkCommand('arm'), 'inav')


@pytest.mark.parametrize(('autopilot', 'name', 'mode'), [
    ('px4', 'POSCTL', MANUAL), ('px4', 'ALTCTL', MANUAL), ('px4', 'AUTO.MISSION', 'mission'),
    ('px4', 'SOMETHING', OTHER), ('ardupilot', 'LOITER', HOLD), ('ardupilot', 'STABILIZE',
                                                                 MANUAL),
])
def test_reported_modes(autopilot, name, mode):
    assert mavros.status_from_mavros({'mode': name, 'armed': False, 'connected': True},
                                     autopilot).mode == mode


def test_state_and_extended_state():
    state = {'mode': 'OFFBOARD', 'armed': True, 'connected': False}
    status = mavros.status_from_mavros(state, 'px4', {'landed_state': 1})
    assert (status.connected, status.armed, status.landed) == (False, True, True)
    assert mavros.status_from_mavros(state, 'px4', {'landed_state': 2}).landed is False
    assert mavros.status_from_mavros(state, 'px4', {'landed_state': 0}).landed is None


def test_responses():
    mode = LinkCommand('set_mode', mode=OFFBOARD)
    assert mavros.ack_from_response(mode, {'mode_sent': True}) is None  # wait for State
    refused = mavros.ack_from_response(mode, {'mode_sent': False})
    assert (refused.accepted, refused.temporary) == (False, False)
    arm = LinkCommand('arm')
    assert mavros.ack_from_response(arm, {'success': True, 'result': 0}).accepted
    denied = mavros.ack_from_response(arm, {'success': False, 'result': 2})
    assert (denied.accepted, denied.reason, denied.temporary) == (False, 'denied', False)
    lost = mavros.ack_from_response(arm, None)
    assert (lost.accepted, lost.temporary) == (False, True)


def test_autopilot_from_mode_vocabulary():
    assert mavros.autopilot_of_mode('AUTO.LOITER') == 'px4'
    assert mavros.autopilot_of_mode('GUIDED') == 'ardupilot'
    assert mavros.autopilot_of_mode('RTL') is None  # ArduPilot's, but also a word anyone uses


def test_setpoint_pose_is_enu_with_yaw_quaternion():
    pose = mavros.setpoint_pose(Setpoint(3.0, 4.0, 10.0, math.pi / 2), LocalOrigin())
    assert pose['position'] == pytest.approx({'x': 3.0, 'y': 4.0, 'z': 10.0})
    q = pose['orientation']
    assert (q['z'], q['w']) == pytest.approx((math.sqrt(0.5), math.sqrt(0.5)))
    shifted = mavros.setpoint_pose(Setpoint(0.0, 0.0, 0.0, 0.0), LocalOrigin((1.0, 2.0, -3.0)))
    assert shifted['position'] == pytest.approx({'x': 2.0, 'y': 1.0, 'z': 3.0})
    back = mavros.pose_from_mavros(shifted, LocalOrigin((1.0, 2.0, -3.0)))
    assert back == pytest.approx((0.0, 0.0, 0.0))


def test_topics():
    names = mavros.MavrosTopics('/uav1/mavros').names()
    assert names['setpoint'] == '/uav1/mavros/setpoint_position/local'
    assert names['set_mode'] == '/uav1/mavros/set_mode'
    assert mavros.MavrosTopics().names()['arming'] == '/mavros/cmd/arming'


# -- the field lists against mavros_msgs ----------------------------------------------------
# MAVROS_MSGS_DIR: a mavros_msgs folder (msg/, srv/); else the mirror fetched while developing.
MIRROR = Path('/work/.mirror/mavlink+mavros/repo')
TAG = '2.12.0'


def _original(name: str) -> str | None:
    folder = os.environ.get('MAVROS_MSGS_DIR')
    if folder:
        path = Path(folder) / f'{name}.{name.split("/")[0]}'
        return path.read_text() if path.exists() else None
    if not MIRROR.exists():
        return None
    done = subprocess.run(['git', '--git-dir', str(MIRROR), 'show',
                           f'{TAG}:mavros_msgs/{name}.{name.split("/")[0]}'],
                          capture_output=True, text=True, check=False)
    return done.stdout if done.returncode == 0 else None


def _fields_of(text: str) -> dict[str, str]:
    fields = {}
    for line in text.splitlines():
        code = line.split('#', 1)[0]
        if code.strip() == '---':
            fields['---'] = ''
        elif len(code.split()) == 2 and '=' not in code:
            kind, name = code.split()
            fields[name] = kind
    return fields


@pytest.mark.parametrize('name', sorted(mavros.FIELDS))
def test_field_lists_match_mavros_msgs(name):
    text = _original(name)
    if text is None:
        pytest.skip(f'mavros_msgs {TAG} {name} not here: set MAVROS_MSGS_DIR')
    assert mavros.FIELDS[name] == _fields_of(text)
    assert list(mavros.FIELDS[name]) == list(_fields_of(text))
