"""The simulated PX4 flying the simulator's multirotor (`sim.flight_controller`), driven by the
node's offboard link through PX4's messages and through MAVROS, without ROS: the handshake,
hand-overs, the scenario's autopilot faults, and what the scoring reads of it."""

from __future__ import annotations

import pytest
from vehicle_link_support import Flight

from ministral_node.mission.executor import Setpoint
from ministral_node.safety.invariants import Limits
from ministral_node.sim.flight_controller import FlightController
from ministral_node.sim.scenario import scenario_from_dict
from ministral_node.sim.scoring import score
from ministral_node.sim.simulator import Simulator
from ministral_node.vehicle_link import offboard as link
from ministral_node.vehicle_link.sim_autopilot import NAV_LAND, NAV_LOITER, NAV_OFFBOARD
from ministral_node.vehicle_link.vocabulary import LAND, RTL

UP_10 = Setpoint(0.0, 0.0, 10.0, 0.0)


def _scenario(**extra):
    return scenario_from_dict({'name': 's', 'language': 'en', 'category': 'autopilot',
                               'expect': {'stays_on_ground': True},
                               'interfaces': ['px4', 'mavros'], **extra})


def _flight(interface: str, **scenario) -> tuple[Flight, Simulator]:
    sim = Simulator.for_scenario(_scenario(**scenario), Limits(), render=False)
    controller = FlightController(sim)

    def advance(now: float) -> None:
        sim.run_until(now)
        controller.step()

    return Flight(interface, autopilot=controller.autopilot, advance=advance), sim


def _altitude(sim: Simulator) -> float:
    return sim.vehicle.position[2]


@pytest.mark.parametrize('interface', ['px4', 'mavros'])
def test_the_handshake_flies_the_multirotor_and_the_autopilot_lands_it(interface):
    flight, sim = _flight(interface)
    flight.engage(UP_10, 10.0)
    flight.run(20.0, until=lambda f: _altitude(sim) > 9.8)
    assert flight.link.state == link.ACTIVE and sim.vehicle.mode == 'offboard'
    assert flight.sim.modes == [NAV_LOITER, NAV_OFFBOARD] and flight.sim.armed
    assert sim.trace.setpoints[-1][1] == pytest.approx((0.0, 0.0, 10.0))  # ENU, from NED
    flight.hand_over(LAND)
    flight.run(30.0, until=lambda f: f.link.state == link.IDLE)
    assert sim.vehicle.mode == 'landed' and not flight.sim.armed and flight.sim.landed
    assert [c['command'] for _, c in sim.vehicle.commands] == ['land']
    assert [mode for _, mode in sim.trace.autopilot_modes] == [NAV_LOITER, NAV_OFFBOARD,
                                                                NAV_LAND]
    assert sim.monitor.violations == []


def test_rtl_is_the_multirotors_return_and_the_land_detector_disarms():
    flight, sim = _flight('px4')
    flight.engage(Setpoint(0.0, 20.0, 10.0, 0.0), 10.0)
    flight.run(30.0, until=lambda f: sim.vehicle.position[1] > 19.5)
    flight.hand_over(RTL)
    flight.run(60.0, until=lambda f: f.link.state == link.IDLE)
    assert [c['command'] for _, c in sim.vehicle.commands] == ['return_to_home']
    assert sim.vehicle.mode == 'landed' and abs(sim.vehicle.position[1]) < 0.5
    assert flight.events[-1] == ('idle', 'landed and disarmed (AUTO.RTL)')


@pytest.mark.parametrize('interface', ['px4', 'mavros'])
def test_an_rc_takeover_from_the_scenario_holds_and_latches(interface):
    flight, sim = _flight(interface, faults=[{'kind': 'rc_takeover', 'at': 6.0}])
    flight.engage(Setpoint(0.0, 80.0, 10.0, 0.0), 10.0)
    flight.run(15.0)
    assert flight.aborts == ['autopilot took over (mode POSCTL)']
    assert flight.link.state == link.TAKEN_OVER and sim.vehicle.mode == 'hold'
    asked = len(flight.sim.commands)
    flight.engage(Setpoint(20.0, 0.0, 10.0, 0.0))
    flight.run(5.0)
    assert flight.aborts[-1] == 'autopilot took over (mode POSCTL): waiting for an operator resume'
    assert len(flight.sim.commands) == asked  # nothing more was asked of the autopilot


@pytest.mark.parametrize(('kind', 'interface', 'reason'), [
    ('offboard_rejected', 'px4', 'offboard not granted after 3 attempts: temporarily rejected'),
    ('offboard_rejected', 'mavros', 'offboard not granted after 3 attempts'),
    ('arming_denied', 'px4', 'arming denied by the autopilot: denied'),
    ('arming_denied', 'mavros', 'arming denied by the autopilot: denied'),
])
def test_a_denial_from_the_scenario_aborts_and_the_vehicle_stays_down(kind, interface, reason):
    flight, sim = _flight(interface, faults=[{'kind': kind, 'at': 0.0}])
    flight.engage(UP_10, 10.0)
    flight.run(10.0)
    assert flight.aborts == [reason] and flight.link.state == link.FAILED
    assert sim.vehicle.mode == 'landed' and max(s.position[2] for s in sim.trace.samples) == 0.0


def test_an_autopilot_fault_only_while_it_is_active():
    flight, sim = _flight('px4', faults=[{'kind': 'arming_denied', 'at': 0.0, 'duration_s': 3.0}])
    flight.run(4.0)  # the pre-flight check passes again at 3 s
    flight.engage(UP_10, 10.0)
    flight.run(20.0, until=lambda f: _altitude(sim) > 9.8)
    assert flight.aborts == [] and flight.link.state == link.ACTIVE


def _mission(t: float, state: str, reason: str = '') -> dict:
    """A ~/mission change as the operator records it (heard 0.3 s after the node's stamp)."""
    return {'t': t + 0.3, 'key': ['mission-1', state, 0], 'step_action': 'goto',
            'reason': reason, 'stamp': t}


def test_the_autopilot_abort_criterion_reads_the_reason_and_any_later_offboard():
    spec = _scenario(expect={'autopilot_abort': 'autopilot took over (mode POSCTL)'})
    sim = Simulator.for_scenario(spec, Limits(), render=False)
    FlightController(sim)
    sim.step()
    sim.trace.missions = [_mission(1.0, 'running'),
                          _mission(5.0, 'aborted', 'autopilot took over (mode POSCTL)')]
    sim.trace.autopilot_modes += [(2.0, NAV_OFFBOARD), (4.9, 2)]
    kept = score(spec, sim, 'rules', interface='px4')
    assert kept.succeeded and kept.interface == 'px4'
    assert kept.checks[0].measured == {'reason': 'autopilot took over (mode POSCTL)',
                                       'aborted_at_s': 5.0, 'reaction_s': 0.1,
                                       'offboard_requests_after': 0,
                                       'offboard_entries_after': 0}
    assert kept.to_dict()['autopilot_modes'] == [[0.0, 'AUTO.LOITER'], [2.0, 'OFFBOARD'],
                                                 [4.9, 'POSCTL']]
    offboard = {'command': 176, 'param1': 1.0, 'param2': 6.0, 'param3': 0.0}
    sim.trace.autopilot_commands.append((7.0, offboard))
    sim.trace.autopilot_modes.append((7.1, NAV_OFFBOARD))
    taken_back = score(spec, sim, 'rules', interface='px4')
    assert not taken_back.succeeded
    assert taken_back.checks[0].measured['offboard_requests_after'] == 1
    assert taken_back.checks[0].measured['offboard_entries_after'] == 1
    sim.trace.missions = [_mission(5.0, 'aborted', 'autopilot link lost: no autopilot status')]
    assert score(spec, sim).checks[0].measured['reason'].startswith('autopilot link lost')
    sim.trace.missions = [_mission(5.0, 'completed')]
    assert score(spec, sim).checks[0].measured == {'reason': None}


def test_a_vehicle_that_starts_in_the_air_is_armed_and_loitering():
    flight, sim = _flight('mavros', vehicle={'start': [0.0, 0.0, 20.0]})
    assert flight.sim.armed and not flight.sim.landed
    flight.engage(Setpoint(0.0, 10.0, 20.0, 0.0))
    flight.run(20.0, until=lambda f: sim.vehicle.position[1] > 9.8)
    assert flight.link.state == link.ACTIVE and flight.aborts == []
    assert not [c for c in flight.sim.commands if c['command'] == 400]  # never asked to arm
    assert sim.vehicle.position[2] == pytest.approx(20.0, abs=0.3)
