"""`ministral-sim`: fly a scenario suite in the headless simulator against the real node.

For each source configuration (`--sources rules|onboard,rules`) and each scenario: build the
scenario's world, start the simulated vehicle (`ministral_node.ros.sim_over_dds`), the node
(`MinistralNode`, in-process on a MultiThreadedExecutor, `use_sim_time`, missions executed) and
an operator that sends the scenario's commands on `~/command` at their simulated times; step
the simulation (paced at `--speed` x real time at most, and never more than 0.1 s ahead of the
node's clock: a node short of CPU slows the simulation instead of reacting late), then score
the flight in the simulated world. Prints one line per flight, a table (per source
configuration and vehicle interface, category, language) and the real-time factor; writes a
picture per flight (and a GIF with `--video`) and `--json OUT`. Exit code 1 when any safety
invariant broke, 2 on bad arguments.

`--vehicle json|px4|mavros` (several joined by commas) sets the node's `vehicle_interface`:
json flies the simulator through `setpoint_position` and `~/vehicle_command`; px4 and mavros
through a simulated PX4 (`sim.flight_controller`) behind PX4's uXRCE-DDS topics or MAVROS,
which runs the offboard handshake, arming checks, land detection and its failsafes, and takes
the scenario's autopilot faults (rc_takeover, offboard_rejected, arming_denied). A scenario
that lists `interfaces` is flown only through those.

Every process sets ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST and its own ROS_DOMAIN_ID
(`--domain-id`, default $ROS_DOMAIN_ID or 42).
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

from ministral_node import parameters
from ministral_node.mission.executor import FINAL, IDLE
from ministral_node.resources import config_path
from ministral_node.safety.invariants import Limits
from ministral_node.sim.scenario import (
    DEFAULT_SUITE,
    INTERFACES,
    Scenario,
    SuiteError,
    load_suite,
)
from ministral_node.sim.scoring import Result, score, summary, table
from ministral_node.vehicle_link.config import missing_message_package

log = logging.getLogger(__name__)

DEFAULT_PARAMS = config_path('ministral.yaml')
NODE = parameters.NODE_NAME
# After the last command: landed this long (and every command answered) ends a flight early.
SETTLE_S = 4.0
LOCKSTEP_LAG_S = 0.1  # how far the node's clock may trail the simulation's
LOCKSTEP_TIMEOUT_S = 5.0
# The video draws a decision's boxes on the frames of this long after it (simulated seconds).
BOX_SHOWN_S = 2.0


def parse_sources(values: list[str]) -> list[list[str]]:
    """Source configurations from `rules|onboard,rules` (or several arguments)."""
    configs = []
    for value in values:
        for config in value.split('|'):
            sources = [s.strip() for s in config.split(',') if s.strip()]
            bad = [s for s in sources if s not in parameters.SOURCE_CHOICES]
            if not sources or bad:
                raise ValueError(f'bad source configuration {config!r}: use '
                                 f'{", ".join(parameters.SOURCE_CHOICES)} joined by commas')
            configs.append(sources)
    return configs


def parse_vehicles(value: str) -> list[str]:
    """Vehicle interfaces from `json,px4,mavros` (each once, in order)."""
    interfaces = list(dict.fromkeys(v.strip() for v in value.split(',') if v.strip()))
    bad = [i for i in interfaces if i not in INTERFACES]
    if not interfaces or bad:
        raise ValueError(f'bad vehicle interface(s) {value!r}: use {", ".join(INTERFACES)} '
                         'joined by commas')
    for interface in interfaces:
        missing = missing_message_package(interface)
        if missing:
            raise ValueError(missing)
    return interfaces


def node_values(base: dict[str, Any], scenario: Scenario, sources: list[str],
                interface: str = 'json') -> dict[str, Any]:
    """The node's parameter values for one flight."""
    return {**base, **scenario.params, 'decision_sources': list(sources),
            'execute_missions': True, 'vehicle_interface': interface,
            'camera_mount_pitch_deg': float(scenario.camera.get('pitch_deg', 45.0))}


class Flight:
    """One scenario flown with one source configuration over DDS, in its own ROS context,
    through the vehicle interface `values['vehicle_interface']` (json unless set)."""

    def __init__(self, scenario: Scenario, sources: list[str], values: dict[str, Any],
                 args: argparse.Namespace) -> None:
        self.scenario, self.sources, self.values, self.args = scenario, sources, values, args
        self.interface = str(values.get('vehicle_interface', 'json'))
        self.frames: list[Any] = []
        self.boxes: list[tuple[str, list[float]]] = []
        self.caption = ''
        self.sim: Any = None
        self.relay: Any = None
        self.boxes_t = -math.inf

    def now(self) -> float:
        """The simulated time (0 before the flight starts)."""
        return 0.0 if self.sim is None else self.sim.t

    def run(self) -> tuple[Result, Any]:
        import rclpy
        import rclpy.logging
        from rclpy.executors import MultiThreadedExecutor
        from rclpy.parameter import Parameter

        from ministral_node.ros.node import MinistralNode
        from ministral_node.sim.simulator import Simulator

        scenario, args = self.scenario, self.args
        if 'remote' in self.sources:
            self._relay_remote()
        limits = Limits.from_params(self.values)
        sim = Simulator.for_scenario(scenario, limits)
        self.sim = sim
        context = rclpy.Context()
        rclpy.init(context=context, domain_id=args.domain_id)
        if not args.verbose:
            rclpy.logging.set_logger_level(NODE, rclpy.logging.LoggingSeverity.WARN)
        defaults = parameters.defaults()
        overrides = [Parameter('use_sim_time', value=True)] + [
            Parameter(name, value=value) for name, value in self.values.items()
            if name in parameters.SPECS and value != defaults.get(name) and value != []]
        nodes = []
        executor = MultiThreadedExecutor(num_threads=4, context=context)
        spinner = threading.Thread(target=executor.spin, daemon=True)
        try:
            node = MinistralNode(context=context, parameter_overrides=overrides)
            vehicle = _vehicle_node(sim, context, self.interface)
            operator = _Operator(context, self)
            nodes = [node, vehicle, operator]
            for item in nodes:
                executor.add_node(item)
            node.trigger_configure()
            node.trigger_activate()
            spinner.start()
            _wait_for_discovery(operator, vehicle)
            if args.video:
                vehicle.on_frame = self._record
            on_sim_time = [n for n in nodes if n not in (vehicle, operator)]
            wall = self._fly(sim, vehicle, operator, on_sim_time)
            sim.trace.decisions = operator.decisions
            sim.trace.missions = operator.missions
            result = score(scenario, sim, ','.join(self.sources),
                           real_time_factor=sim.t / max(wall, 1e-6), interface=self.interface)
            result.simulator_rtf = sim.real_time_factor()
            return result, sim
        finally:
            if nodes and nodes[0].loop is not None:
                nodes[0].trigger_deactivate()
            if nodes:
                nodes[0].finish()  # closes the flight recording
            for item in nodes:  # out of the wait set before anything is destroyed
                executor.remove_node(item)
            time.sleep(0.2)
            executor.shutdown(timeout_sec=2.0)
            if spinner.is_alive():
                spinner.join(timeout=2.0)
            for item in nodes:
                item.destroy_node()
            context.try_shutdown()
            if sim.world is not None:
                sim.close()
            if self.relay is not None:
                self.relay.close()

    def _relay_remote(self) -> None:
        """Point the node's remote_url at a relay the scenario's remote_down fault cuts."""
        from urllib.parse import urlsplit

        from ministral_node.sim.link import FaultyRelay

        url = self.args.remote_url or str(self.values.get('remote_url') or '')
        parts = urlsplit(url)
        if not parts.hostname:
            raise RuntimeError('the remote source needs --remote-url (an OpenAI-compatible '
                               'server, e.g. ministral-serve on 127.0.0.1)')
        port = parts.port or (443 if parts.scheme == 'https' else 80)
        self.relay = FaultyRelay(parts.hostname, port).start()
        self.values = {**self.values, 'remote_url': self.relay.url + parts.path}

    def _fly(self, sim: Any, vehicle: Any, operator: _Operator, followers: list[Any]) -> float:
        scenario = self.scenario
        speed = min(self.args.speed or math.inf, scenario.speed or math.inf)
        speed = 0.0 if math.isinf(speed) else speed
        commands = list(scenario.commands)
        last = commands[-1].at if commands else 0.0
        landed_since = None
        began = time.perf_counter()
        # Paced: one step at a time, so timers on the simulated clock (the executor's setpoint
        # stream) see every /clock tick; unpaced: 0.1 s at a time.
        chunk = 1 if speed > 0 else max(1, int(0.1 / sim.step_s))
        while sim.t < scenario.duration_s:
            while commands and commands[0].at <= sim.t + 1e-9:
                command = commands.pop(0)
                sim.trace.sent.append((sim.t, command.text))
                operator.send(command.text)
            vehicle.advance(chunk)
            followers = _lockstep(followers, sim.t)
            if self.relay is not None and self.relay.down == sim.remote_up():
                self.relay.set_down(not sim.remote_up())
            if speed > 0:
                ahead = began + sim.t / speed - time.perf_counter()
                if ahead > 0:
                    time.sleep(ahead)
            landed = sim.vehicle.mode == 'landed'
            landed_since = (landed_since if landed_since is not None else sim.t) if landed \
                else None
            if not commands and sim.t >= last + SETTLE_S and landed_since is not None and \
                    sim.t - landed_since >= SETTLE_S and \
                    len(operator.decisions) >= len(scenario.commands) and \
                    (not operator.decisions or
                     sim.t - operator.decisions[-1]['t'] >= SETTLE_S) and \
                    _missions_ended(operator) and self._failsafe_done(sim):
                break
        return time.perf_counter() - began

    def _failsafe_done(self, sim: Any) -> bool:
        fault = sim.faults.first('link_loss')
        if fault is None:
            return True
        lim = sim.limits
        return sim.t >= fault.at + lim.link_loss_timeout_s + lim.failsafe_hold_s + 2.0

    def _record(self, frame: Any) -> None:
        from ministral_node.sim.pictures import annotate

        if round(frame.t * self.args.video_fps) != round((frame.t - 1e-3) * self.args.video_fps) \
                or not self.frames:
            recent = frame.t - self.boxes_t <= BOX_SHOWN_S
            try:
                self.frames.append(annotate(frame.image, list(self.boxes) if recent else [],
                                            f't={frame.t:5.1f}s {self.caption}'))
            except Exception as exc:  # noqa: BLE001 - a frame not drawn never stops a flight
                log.warning('%s: a video frame at t=%.1f s was not drawn (%s: %s)',
                            self.scenario.name, frame.t, type(exc).__name__, exc)

    def decision(self, decision: dict) -> None:
        """Keep the boxes of the latest decision that has any (drawn on the next frames)."""
        boxes = []
        for item in [decision] + list((decision.get('params') or {}).get('steps') or []):
            target = item.get('target') or {}
            if target.get('box'):
                boxes.append((str(target.get('label', '')), list(target['box'])))
        if boxes:
            self.boxes, self.boxes_t = boxes, self.now()
        self.caption = f'{decision.get("source")}: {decision.get("action")}'


def _missions_ended(operator: Any) -> bool:
    """No mission pending, running or holding (an autopilot's refusal can end one seconds
    after its command, once the handshake has run out of attempts)."""
    return not operator.missions or operator.missions[-1]['key'][1] in FINAL | {IDLE}


def _vehicle_node(sim: Any, context: Any, interface: str) -> Any:
    from ministral_node.ros.sim_over_dds import SimVehicleNode

    return SimVehicleNode(sim, context=context, interface=interface)


class _Operator:
    """Sends commands on the node's ~/command and records its decisions."""

    def __new__(cls, context: Any, flight: Flight) -> Any:
        from rclpy.node import Node
        from rclpy.qos import QoSProfile, ReliabilityPolicy
        from std_msgs.msg import String

        class Operator(Node):
            def __init__(self) -> None:
                super().__init__('sim_operator', context=context)
                qos = QoSProfile(depth=100, reliability=ReliabilityPolicy.RELIABLE)
                self.publisher = self.create_publisher(String, f'/{NODE}/command', qos)
                self.create_subscription(String, f'/{NODE}/decision', self._on_decision, qos)
                self.create_subscription(String, f'/{NODE}/mission', self._on_mission, qos)
                self.decisions: list[dict] = []
                self.missions: list[dict] = []

            def _on_mission(self, msg: String) -> None:
                status = json.loads(msg.data)
                key = (status.get('mission_id'), status.get('state'), status.get('step_index'))
                if not self.missions or self.missions[-1]['key'] != list(key):
                    stamp = status.get('stamp')
                    self.missions.append({'t': round(flight.now(), 2), 'key': list(key),
                                          'step_action': status.get('step_action'),
                                          'reason': status.get('reason'),
                                          'stamp': None if stamp is None else round(stamp, 3)})

            def send(self, text: str) -> None:
                self.publisher.publish(String(data=text))

            def _on_decision(self, msg: String) -> None:
                decision = json.loads(msg.data)
                flight.decision(decision)
                self.decisions.append({'t': round(flight.now(), 2)} | {
                    k: decision.get(k) for k in ('action', 'params', 'target', 'source',
                                                 'latency_ms', 'rationale')}
                    | {'command': (decision.get('command') or {}).get('text')})

        return Operator()


def _lockstep(nodes: list[Any], t: float, lag_s: float = LOCKSTEP_LAG_S,
              timeout_s: float = LOCKSTEP_TIMEOUT_S) -> list[Any]:
    """Wait until every node's clock is within `lag_s` of the simulated time `t` published on
    /clock, so a node starved of CPU falls behind in wall time, never in simulated time: its
    timers (watchdog, setpoint stream) fire when the simulated vehicle is where they expect
    it. A node whose clock does not catch up within `timeout_s` of wall time is left behind
    (logged); returns the nodes still kept in step."""
    began = time.perf_counter()
    target = int(round((t - lag_s) * 1e9))
    while lagging := [n for n in nodes if n.get_clock().now().nanoseconds < target]:
        if time.perf_counter() - began > timeout_s:
            for node in lagging:
                log.warning('%s: its clock stays behind the simulation (%.2f s at t=%.2f s); '
                            'no longer waited for', node.get_name(),
                            node.get_clock().now().nanoseconds / 1e9, t)
            return [n for n in nodes if n not in lagging]
        time.sleep(0.0005)
    return nodes


def _wait_for_discovery(operator: Any, vehicle: Any, timeout_s: float = 15.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if operator.publisher.get_subscription_count() >= 1 and vehicle.node_listening():
            return
        time.sleep(0.05)
    raise RuntimeError('the node did not discover the simulator within '
                       f'{timeout_s:g} s (ROS_DOMAIN_ID / LOCALHOST discovery?)')


def _draw(sim: Any, scenario: Scenario, result: Result, frames: list[Any], folder: Path,
          args: argparse.Namespace) -> None:
    """The flight's picture (and GIF): a drawing that fails is a warning, never a lost result."""
    from ministral_node.sim.pictures import trajectory_png, write_gif

    try:
        result.picture = str(trajectory_png(sim, scenario, result,
                                            folder / f'{scenario.name}.png'))
    except Exception as exc:  # noqa: BLE001 - any drawing error; the result is kept
        log.warning('%s: the trajectory picture failed (%s: %s); the result is kept',
                    scenario.name, type(exc).__name__, exc)
    if not args.video:
        return
    try:
        gif = write_gif(frames, folder / f'{scenario.name}.gif', args.video_fps)
        result.video = None if gif is None else str(gif)
    except Exception as exc:  # noqa: BLE001 - any drawing error; the result is kept
        log.warning('%s: the camera GIF failed (%s: %s); the result is kept',
                    scenario.name, type(exc).__name__, exc)


def fly_suite(scenarios: list[Scenario], configs: list[list[str]], args: argparse.Namespace,
              out: Any = sys.stdout, interfaces: tuple[str, ...] | list[str] = ('json',)
              ) -> list[Result]:
    """Fly every scenario with every source configuration through every vehicle interface
    (a scenario only through those it lists); pictures under args.out/<sources>[-<interface>]."""
    base = parameters.load_params_file(args.params) if args.params else parameters.defaults()
    results = []
    for interface, sources in [(i, c) for i in interfaces for c in configs]:
        tag = '+'.join(sources) + ('' if interface == 'json' else f'-{interface}')
        for scenario in scenarios:
            if not scenario.flies_with(interface):
                print(f'skip {tag:<14} {interface:<6} {scenario.name:<28} flies only with '
                      f'{", ".join(scenario.interfaces)}', file=out, flush=True)
                continue
            values = node_values(base, scenario, sources, interface)
            if args.record:
                values['record_dir'] = str(Path(args.record) / tag / scenario.name)
            flight = Flight(scenario, sources, values, args)
            try:
                result, sim = flight.run()
            except RuntimeError as exc:
                print(f'ministral-sim: {scenario.name}: {exc}', file=sys.stderr)
                raise
            _draw(sim, scenario, result, flight.frames, Path(args.out) / tag, args)
            if args.record:
                result.recording = values['record_dir']
            results.append(result)
            verdict = 'ok  ' if result.succeeded else 'FAIL'
            print(f'{verdict} {tag:<14} {interface:<6} {scenario.name:<28} {scenario.language} '
                  f'{scenario.category:<8} safety={result.safety_violations} '
                  f'sim={result.sim_time_s:5.1f}s x{result.real_time_factor:.1f}  '
                  f'{"" if result.succeeded else result.reason[:110]}', file=out, flush=True)
    return results


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog='ministral-sim',
        description='Fly a scored scenario suite in the headless simulator against the node.')
    parser.add_argument('--suite', default=str(DEFAULT_SUITE),
                        help='scenario YAML (default: the suite in config/)')
    parser.add_argument('--scenario', action='append', default=[],
                        help='fly only this scenario (repeatable)')
    parser.add_argument('--set', default=None, dest='subset',
                        help='fly a named list of the suite (showcase, ci)')
    parser.add_argument('--sources', action='append', default=[],
                        help="source configurations, e.g. 'rules|onboard,rules' (default rules)")
    parser.add_argument('--vehicle', default='json',
                        help='vehicle interfaces the node flies through, joined by commas: json '
                             '(setpoint_position, ~/vehicle_command), px4 (a simulated PX4 over '
                             'uXRCE-DDS), mavros (the same behind MAVROS); default json')
    parser.add_argument('--json', default=None, help='write the summary JSON here')
    parser.add_argument('--out', default='sim_output',
                        help='folder for pictures and videos (default sim_output/)')
    parser.add_argument('--video', action='store_true',
                        help='write the camera stream with the decisions\' boxes as GIF')
    parser.add_argument('--video-fps', type=float, default=2.5)
    parser.add_argument('--record', metavar='DIR', default=None,
                        help="the node's flight recorder on: each flight as MCAP under "
                             'DIR/<sources>/<scenario>/ (ministral-replay, ros2 bag, Foxglove)')
    parser.add_argument('--speed', type=float, default=4.0,
                        help='at most this many simulated seconds per second (0: no limit; a '
                             "scenario's own speed caps it)")
    parser.add_argument('--remote-url', default=None,
                        help='remote model endpoint for the remote source (reached through a '
                             'relay that remote_down faults cut)')
    parser.add_argument('--params', default=str(DEFAULT_PARAMS),
                        help='node parameters file (default config/ministral.yaml)')
    parser.add_argument('--verbose', action='store_true', help="show the node's INFO logs")
    parser.add_argument('--domain-id', type=int,
                        default=int(os.environ.get('ROS_DOMAIN_ID', '42') or 42))
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    os.environ['ROS_AUTOMATIC_DISCOVERY_RANGE'] = 'LOCALHOST'
    os.environ['ROS_DOMAIN_ID'] = str(args.domain_id)
    try:
        configs = parse_sources(args.sources or ['rules'])
        interfaces = parse_vehicles(args.vehicle)
        scenarios = load_suite(args.suite, args.scenario or None, args.subset)
    except (ValueError, SuiteError) as exc:
        print(f'ministral-sim: {exc}', file=sys.stderr)
        return 2
    print(f'ministral-sim: {len(scenarios)} scenario(s) x {len(configs)} source '
          f'configuration(s) x vehicle {", ".join(interfaces)} from {args.suite}', flush=True)
    began = time.perf_counter()
    try:
        results = fly_suite(scenarios, configs, args, interfaces=interfaces)
    except RuntimeError:
        return 2
    wall = time.perf_counter() - began
    report = summary(results)
    flown = sum(r.sim_time_s for r in results)
    report['real_time_factor'] = round(flown / max(wall, 1e-6), 2)
    report['simulator_real_time_factor'] = round(
        flown / max(sum(r.sim_time_s / max(r.simulator_rtf, 1e-9) for r in results), 1e-6), 1)
    print()
    print(table(results))
    print(f'\n{flown:.0f} s simulated in {wall:.0f} s: real-time factor '
          f'{report["real_time_factor"]:.1f} closed loop (paced at --speed {args.speed:g} or '
          f"a scenario's own), {report['simulator_real_time_factor']:.1f} for the simulator "
          'alone')
    print(f'pictures: {Path(args.out).resolve()}/<sources>[-<vehicle>]/<scenario>.png'
          + (' (+ .gif)' if args.video else ''))
    if args.record:
        print(f'recordings: {Path(args.record).resolve()}/<sources>[-<vehicle>]/<scenario>/')
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(report, indent=1), encoding='utf-8')
        print(f'summary: {args.json}')
    return 1 if report['safety_violations'] else 0


if __name__ == '__main__':
    sys.exit(main())
