"""The mission executor flying the simulated PX4 through the link, no ROS: executor output ->
ExecutorBridge -> OffboardLink -> Px4Wire -> SimAutopilot, and the autopilot's status and
pose back into the link and the executor (as the node will wire it)."""

import pytest

from ministral_node.decision import Proposal, make_decision
from ministral_node.inputs.vehicle import VehicleState
from ministral_node.mission.executor import (
    ABORTED,
    COMPLETED,
    ExecutorOutput,
    ExecutorSettings,
    MissionExecutor,
    Setpoint,
)
from ministral_node.parameters import ParameterError, defaults
from ministral_node.vehicle_link import offboard as ol
from ministral_node.vehicle_link.config import VehicleLinkConfig, missing_message_package
from ministral_node.vehicle_link.executor_bridge import BridgeOutput, ExecutorBridge
from ministral_node.vehicle_link.px4 import Px4Wire, pose_from_px4
from ministral_node.vehicle_link.sim_autopilot import (
    NAV_LAND,
    NAV_LOITER,
    NAV_OFFBOARD,
    SimAutopilot,
    SimFaults,
)
from ministral_node.vehicle_link.vocabulary import CAPTURE_PHOTO, SET_SPEED, LinkCommand

DT = 0.05


class Mission:
    """The node's setpoint timer in miniature, with vehicle_interface px4."""

    def __init__(self, faults=None):
        self.now = 100.0
        self.sim = SimAutopilot(self.now, faults or SimFaults())
        self.link = ol.OffboardLink()
        self.executor = MissionExecutor(ExecutorSettings())
        self.bridge = ExecutorBridge(self.link, self.executor.current)
        self.wire = Px4Wire()
        self.statuses, self.aborts = [], []
        self._ids = 0
        self.vehicle = VehicleState()
        self._status_at = 0.0

    def decide(self, action, **params):
        self._ids += 1
        decision = make_decision(Proposal(action, params, None, 1.0, 'test'), source='rules',
                                 stamp=self.now, latency_ms=1.0, decision_id=f'd{self._ids}')
        self._publish(self.bridge.apply(self._collect(
            self.executor.submit(decision, self.now, self.vehicle)), self.now))

    def run(self, seconds, until=None):
        for _ in range(int(round(seconds / DT))):
            self.now = round(self.now + DT, 6)
            self.sim.step(self.now)
            self._read_autopilot()
            out = self._collect(self.executor.update(self.now, self.vehicle))
            self._publish(self.bridge.tick(out, self.now))
            if until is not None and until(self):
                return

    @property
    def mission_state(self):
        return self.statuses[-1]['state']

    def _collect(self, out: ExecutorOutput) -> ExecutorOutput:
        self.statuses += out.statuses
        return out

    def _publish(self, merged):
        for reason in merged.aborts:  # the node's wiring: the link's reasons end the mission
            self.aborts.append(reason)
            self._collect(self.executor.abort(reason, self.now, self.vehicle))
        for role, message in self.wire.outgoing(merged.as_link_output(), self.now):
            self.sim.receive(role, message, self.now)

    def _read_autopilot(self):
        for message in self.sim.take_acks():
            ack = self.wire.ack(message)
            if ack is not None:
                self._publish_link(self.link.on_ack(self.now, ack))
        if self.now - self._status_at >= 0.2 - 1e-9:
            self._status_at = self.now
            self.wire.land_detected(self.sim.vehicle_land_detected())
            status = self.wire.status(self.sim.vehicle_status())
            self._publish_link(self.link.on_status(self.now, status))
        position, heading = pose_from_px4(self.sim.vehicle_local_position(), self.wire.origin)
        self.vehicle = self.vehicle.with_pose(*position, heading, self.now,
                                              in_air=not self.sim.landed)

    def _publish_link(self, out):
        self._publish(BridgeOutput.of(out))


def test_takeoff_then_land_through_px4():
    m = Mission()
    m.run(0.5)
    m.decide('takeoff', altitude_m=10.0)
    m.run(30.0, until=lambda m: m.statuses and m.mission_state == COMPLETED)
    assert m.mission_state == COMPLETED
    assert m.sim.position[2] == pytest.approx(-10.0, abs=0.6) and m.sim.armed
    m.run(1.0)  # the executor stops streaming and sends hold: PX4's AUTO.LOITER
    assert m.link.state == ol.AUTOPILOT and m.sim.nav_state == 4
    m.decide('land')
    m.run(40.0, until=lambda m: m.link.state == ol.IDLE)
    assert m.sim.modes[-1] == NAV_LAND and not m.sim.armed and m.sim.landed
    assert m.mission_state == COMPLETED and m.aborts == []
    assert m.link.reason == 'landed and disarmed (AUTO.LAND)'


def test_an_rc_takeover_aborts_the_mission_and_later_decisions_do_not_reenter_offboard():
    m = Mission()
    m.run(0.5)
    m.decide('takeoff', altitude_m=30.0)
    m.run(6.0)
    switch_at = m.now
    m.sim.faults = SimFaults(rc_takeover_at=switch_at)
    m.run(1.0)
    assert m.aborts == ['autopilot took over (mode POSCTL)']
    assert m.mission_state == ABORTED
    assert m.statuses[-1]['reason'] == 'autopilot took over (mode POSCTL)'
    # said before a decision goes out: what moves the vehicle waits, a speed change does not
    waiting = 'autopilot took over (mode POSCTL): waiting for an operator resume'
    assert [m.bridge.refusal(_decision(action, params)) for action, params in (
        ('goto', {'heading_deg': 90.0, 'distance_m': 10.0}), ('hold', {'duration_s': None}),
        ('set_speed', {'speed_mps': 3.0}), ('answer', {'text': 'a red pad'}),
        ('mission', {'steps': [{'action': 'set_speed', 'params': {'speed_mps': 3.0},
                                'target': None},
                               {'action': 'land', 'params': {}, 'target': None}]}))] == \
        [waiting, waiting, None, None, waiting]
    m.decide('takeoff', altitude_m=30.0)
    m.run(5.0)
    assert m.mission_state == ABORTED
    assert m.aborts[-1] == 'autopilot took over (mode POSCTL): waiting for an operator resume'
    offboard_after = [c for c in m.sim.commands if c['command'] == 176
                      and c['param2'] == 6 and c['timestamp'] >= switch_at * 1e6]
    assert offboard_after == [] and m.sim.nav_state == 2


def test_a_setpoint_of_a_mission_aborted_since_it_was_computed_does_not_reengage_offboard():
    # The node's setpoint timer computes a tick under the executor's lock and hands it to the
    # link after releasing it: a takeover's abort and the operator's resume can come between.
    m = Mission()
    m.run(0.5)
    m.decide('takeoff', altitude_m=30.0)
    m.run(6.0)
    late = m.executor.update(m.now, m.vehicle)  # computed, not yet handed on
    assert late.setpoint is not None and m.executor.current(late)
    switch_at = m.now
    m.sim.faults = SimFaults(rc_takeover_at=switch_at)
    m.run(1.0)
    assert m.aborts == ['autopilot took over (mode POSCTL)'] and not m.executor.current(late)
    m.link.resume(m.now)
    assert m.link.state == ol.IDLE
    m._publish(m.bridge.apply(late, m.now))
    m.run(2.0)
    assert _offboard_requests(m, switch_at) == [] and m.link.state == ol.IDLE
    assert m.sim.nav_state == 2  # still the pilot's POSCTL


def _decision(action, params):
    return make_decision(Proposal(action, params, None, 1.0, 'test'), source='rules',
                         stamp=0.0, latency_ms=1.0, decision_id='x')


def test_nothing_is_refused_before_a_takeover():
    m = Mission()
    m.run(0.5)
    assert m.bridge.refusal(_decision('goto', {'heading_deg': 0.0, 'distance_m': 5.0})) is None


def _offboard_requests(m, since):
    return [c for c in m.sim.commands if c['command'] == 176 and c['param2'] == 6
            and c['timestamp'] >= since * 1e6]


def test_a_hold_in_the_autopilots_hold_mode_stays_there_and_one_during_a_landing_loiters():
    m = Mission()
    m.run(0.5)
    m.decide('takeoff', altitude_m=10.0)
    m.run(30.0, until=lambda m: m.statuses and m.mission_state == COMPLETED)
    m.run(1.0)
    assert m.link.state == ol.AUTOPILOT and m.sim.nav_state == NAV_LOITER
    since = m.now
    m.decide('hold', duration_s=None)
    m.run(3.0)  # the autopilot already holds: no offboard handshake, nothing streamed
    assert _offboard_requests(m, since) == [] and m.sim.nav_state == NAV_LOITER
    assert m.statuses[-1]['state'] == 'running' and m.aborts == []
    m.decide('land')
    m.run(1.0)
    assert m.sim.nav_state == NAV_LAND
    m.decide('stop')  # a stop during the landing: the autopilot's hold, where it is
    m.run(2.0)
    assert m.link.state == ol.AUTOPILOT and m.sim.nav_state == NAV_LOITER
    assert _offboard_requests(m, since) == [] and m.sim.armed and not m.sim.landed


def test_a_hold_on_the_ground_neither_arms_nor_asks_for_offboard():
    m = Mission()
    m.run(0.5)
    m.decide('hold', duration_s=None)
    m.run(3.0)
    assert m.sim.commands == [] and not m.sim.armed and m.link.state == ol.IDLE


def test_a_hold_in_offboard_holds_the_setpoint_in_offboard():
    m = Mission()
    m.run(0.5)
    m.decide('takeoff', altitude_m=30.0)
    m.run(6.0)  # climbing in offboard
    assert m.link.state == ol.ACTIVE
    m.decide('hold', duration_s=None)
    m.run(2.0)
    assert m.link.state == ol.ACTIVE and m.sim.nav_state == NAV_OFFBOARD


def test_arming_denied_aborts_the_mission_with_the_reason():
    m = Mission(SimFaults(arming_denied=True))
    m.run(0.5)
    m.decide('takeoff', altitude_m=10.0)
    m.run(5.0)
    assert m.aborts[0] == 'arming denied by the autopilot: denied'
    assert m.mission_state == ABORTED and not m.sim.armed


def test_speed_and_photo_commands_pass_through():
    link = ol.OffboardLink()
    bridge = ExecutorBridge(link)
    out = bridge.apply(ExecutorOutput(commands=[{'command': 'set_speed', 'speed_mps': 4.0},
                                                {'command': 'capture_photo', 'index': 2,
                                                 'count': 3}]), 0.0)
    assert out.commands == [LinkCommand(SET_SPEED, value=4.0),
                            LinkCommand(CAPTURE_PHOTO, value=2.0)]
    engaged = bridge.apply(ExecutorOutput(setpoint=Setpoint(0, 0, 5, 0),
                                          commands=[{'command': 'takeoff', 'altitude_m': 5.0}]),
                           0.0)
    assert engaged.state == ol.PRIMING and engaged.stream


def test_config_from_the_declared_defaults():
    config = VehicleLinkConfig.from_params(defaults())
    assert config.interface == 'json'
    assert config.px4_topics.names()['vehicle_status'] == '/fmu/out/vehicle_status_v1'
    assert config.settings == ol.LinkSettings()
    ardupilot = VehicleLinkConfig.from_params({**defaults(), 'vehicle_interface': 'mavros',
                                               'autopilot': 'ardupilot', 'px4_version': '1.15',
                                               'mavros_namespace': '/uav1/mavros'})
    assert ardupilot.settings.takeoff_command
    assert ardupilot.px4_topics.names()['vehicle_status'] == '/fmu/out/vehicle_status'
    assert ardupilot.mavros_topics.names()['state'] == '/uav1/mavros/state'
    for name, bad in (('px4_namespace', 'fmu'), ('mavros_namespace', '/mavros/')):
        with pytest.raises(ParameterError, match=name):
            VehicleLinkConfig.from_params({**defaults(), name: bad})


def test_a_missing_message_package_is_one_clear_sentence():
    assert missing_message_package('json') is None
    for interface, package in (('px4', 'px4_msgs'), ('mavros', 'mavros_msgs')):
        problem = missing_message_package(interface)
        if problem is not None:  # not installed here
            assert problem.startswith(f'vehicle_interface {interface} needs the {package}')
            assert 'build' in problem or 'install' in problem

