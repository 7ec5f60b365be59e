"""The message packages kept in interfaces/ (built into the venv by `make setup`): the
definition files are PX4's and MAVROS's of the stated releases, they cover what the link uses,
and the built types carry the fields the wire dicts fill."""

from __future__ import annotations

import importlib
import importlib.util
import math
import subprocess
from pathlib import Path

import pytest

from ministral_node.mission.executor import Setpoint
from ministral_node.vehicle_link import mavros, px4
from ministral_node.vehicle_link.offboard import LinkOutput
from ministral_node.vehicle_link.vocabulary import (
    ARM,
    SET_MODE,
    SET_SPEED,
    TAKEOFF_COMMAND,
    LinkCommand,
)

ROOT = Path(__file__).resolve().parent.parent
INTERFACES = ROOT / 'interfaces'
ORIGINALS = {  # package -> (fetched repository, release tag, folder of the package in it)
    'px4_msgs': (Path('/work/.mirror/PX4+px4_msgs/repo'), 'v1.16.2', ''),
    'mavros_msgs': (Path('/work/.mirror/mavlink+mavros/repo'), '2.12.0', 'mavros_msgs/'),
}
PX4_USED = sorted({*px4.FIELDS, *px4.READ_FIELDS, 'BatteryStatus'})
MAVROS_USED = ['msg/ExtendedState.msg', 'msg/State.msg', 'srv/CommandBool.srv',
               'srv/CommandLong.srv', 'srv/CommandTOL.srv', 'srv/SetMode.srv']


def _kept(package: str) -> list[Path]:
    return sorted(p for p in (INTERFACES / package).rglob('*') if p.suffix in ('.msg', '.srv'))


def test_the_kept_subsets_are_what_the_link_uses():
    assert [p.stem for p in _kept('px4_msgs')] == PX4_USED
    assert [str(p.relative_to(INTERFACES / 'mavros_msgs')) for p in _kept('mavros_msgs')] \
        == MAVROS_USED
    for package in ORIGINALS:  # each with its licence and package metadata
        folder = INTERFACES / package
        assert (folder / 'package.xml').exists() and (folder / 'CMakeLists.txt').exists()
        assert any(p.name.startswith('LICENSE') for p in folder.iterdir())


@pytest.mark.parametrize('package', sorted(ORIGINALS))
def test_the_kept_definitions_are_the_originals_unchanged(package):
    repo, tag, prefix = ORIGINALS[package]
    if not repo.exists():
        pytest.skip(f'{repo} not here: fetch {package} to compare with the originals')
    for path in _kept(package):
        relative = path.relative_to(INTERFACES / package)
        original = subprocess.run(['git', '--git-dir', str(repo), 'show',
                                   f'{tag}:{prefix}{relative}'],
                                  capture_output=True, text=True, check=True).stdout
        assert path.read_text() == original, f'{package} {relative} differs from {tag}'


def _built(module: str):
    if importlib.util.find_spec(module.split('.')[0]) is None:
        pytest.skip(f'{module} not importable: run `make setup` (builds interfaces/)')
    return importlib.import_module(module)


def test_px4_wire_messages_fill_the_built_types():
    from ministral_node.ros.vehicle_link import fill, to_dict

    msg = _built('px4_msgs.msg')
    out = LinkOutput('offboard', stream=True, setpoint=Setpoint(3.0, 4.0, 10.0, 0.0),
                     commands=[LinkCommand(SET_MODE, mode='offboard'), LinkCommand(ARM)])
    sent = px4.Px4Wire().outgoing(out, 12.5)
    assert [role for role, _ in sent] == ['offboard_control_mode', 'trajectory_setpoint',
                                          'vehicle_command', 'vehicle_command']
    kinds = {'offboard_control_mode': msg.OffboardControlMode,
             'trajectory_setpoint': msg.TrajectorySetpoint, 'vehicle_command': msg.VehicleCommand}
    for role, fields in sent:
        back = to_dict(fill(kinds[role](), fields))
        assert list(back) == list(fields)  # every field, in the message's order
        for name, value in fields.items():
            if isinstance(value, float) and math.isnan(value):
                assert math.isnan(back[name])
            elif isinstance(value, list):
                assert [round(v, 4) if not math.isnan(v) else 'nan' for v in back[name]] == \
                    [round(v, 4) if not math.isnan(v) else 'nan' for v in value]
            else:
                assert back[name] == pytest.approx(value)
    setpoint = to_dict(fill(msg.TrajectorySetpoint(), sent[1][1]))
    assert setpoint['position'][:2] == [4.0, 3.0] and setpoint['position'][2] == -10.0  # NED
    assert msg.VehicleStatus.MESSAGE_VERSION == 1  # hence /fmu/out/vehicle_status_v1


def test_mavros_service_requests_fill_the_built_types():
    from ministral_node.ros.vehicle_link import fill, to_dict

    srv = _built('mavros_msgs.srv')
    kinds = {'arming': srv.CommandBool, 'set_mode': srv.SetMode, 'takeoff': srv.CommandTOL,
             'command': srv.CommandLong}
    commands = [LinkCommand(SET_MODE, mode='offboard'), LinkCommand(ARM),
                LinkCommand(TAKEOFF_COMMAND, value=10.0), LinkCommand(SET_SPEED, value=4.0)]
    for command in commands:
        call = mavros.service_call(command, 'ardupilot' if command.kind == TAKEOFF_COMMAND
                                   else 'px4')
        request = to_dict(fill(kinds[call.role].Request(), call.request))
        assert set(request) == set(call.request)
    assert to_dict(fill(srv.SetMode.Request(), mavros.service_call(
        commands[0], 'px4').request)) == {'base_mode': 0, 'custom_mode': 'OFFBOARD'}
