"""The decision loop without ROS: every command answered once, failsafes first, lifecycle,
link and simulation-clock supervision, all on injected clocks."""

from __future__ import annotations

import threading

import pytest
from support import BlockingDecider, ScriptedDecider
from support import LoopRig as Rig

from ministral_node.decision import Proposal, Refusal, RefusalKind
from ministral_node.health import ERROR, OK, WARN
from ministral_node.inputs.image_conversion import RawImage
from ministral_node.mission.projection import CameraIntrinsics
from ministral_node.sources.base import DecisionRequest

LAND = Proposal('land', {}, None, 0.9, 'asked')


def _answered_ids(published):
    return [d.command.id for d in published if d.command is not None]


def test_a_command_before_activation_is_refused_with_the_reason():
    rig = Rig()
    rig.loop.command('land')
    [decision] = rig.published
    assert decision.action == 'reject' and decision.command.text == 'land'
    assert decision.refusal == Refusal(RefusalKind.INACTIVE, 'node inactive: not deciding')
    assert decision.attempts == ()


def test_unreadable_bytes_are_refused_at_once():
    rig = Rig()
    rig.loop.activate()
    rig.loop.command(b'\x00\x01\x00\x00\x03\x00\x00\x00\xff\xfe\x00')
    [decision] = rig.published
    assert decision.action == 'reject' and decision.refusal.kind is RefusalKind.INPUT
    assert 'not UTF-8' in decision.refusal.reason


def test_every_command_of_a_burst_is_answered_exactly_once():
    rig = Rig(command_queue_depth=4)
    rig.loop.activate()
    for i in range(50):
        rig.loop.command(f'land {i}')
    dropped = list(rig.published)
    assert len(dropped) == 46 and {d.action for d in dropped} == {'reject'}
    assert all(d.refusal.kind is RefusalKind.QUEUE_FULL for d in dropped)
    assert all('command_queue_depth=4' in d.refusal.reason for d in dropped)
    rig.loop.drain()
    assert len(rig.published) == 50
    assert sorted(d.command.text for d in rig.published) == \
        sorted(f'land {i}' for i in range(50))
    assert len(set(_answered_ids(rig.published))) == 50
    assert rig.actions()[-4:] == ['land'] * 4  # the four newest were decided
    assert rig.loop.status()['commands_received'] == 50


def test_link_loss_on_the_state_clock_publishes_hold_then_the_action():
    rig = Rig(link_loss_timeout_s=2.0, failsafe_hold_s=3.0, failsafe_action='land')
    rig.loop.activate()
    rig.loop.heartbeat('gcs')
    rig.clock.advance(2.0)
    rig.loop.supervise()
    rig.loop.drain()
    assert rig.published == [] and rig.loop.status()['link']['state'] == 'up'
    rig.clock.advance(0.05)
    rig.loop.supervise()
    rig.loop.drain()
    assert [(d.action, d.source, d.command) for d in rig.published] == \
        [('hold', 'failsafe', None)]
    rig.clock.advance(2.9)
    rig.loop.supervise()
    rig.loop.drain()
    assert rig.actions() == ['hold']
    rig.clock.advance(0.2)
    rig.loop.supervise()
    rig.loop.drain()
    assert rig.actions() == ['hold', 'land']
    assert rig.loop.health.level('link') == ERROR
    rig.loop.heartbeat('gcs')
    assert rig.loop.status()['link'] == {'state': 'up', 'silent_s': 0.0,
                                         'failsafe_active': False}


def test_a_failsafe_preempts_the_decision_in_progress_and_comes_first():
    rig = Rig(link_loss_timeout_s=1.0)

    def link_dies_meanwhile(request: DecisionRequest) -> None:
        rig.clock.advance(1.5)
        rig.loop.supervise()

    slow = ScriptedDecider('onboard', LAND, clock=rig.steady, takes_s=5.0,
                           on_call=link_dies_meanwhile)
    rig.sources = [slow, ScriptedDecider('rules', LAND)]
    rig.loop.activate()
    rig.loop.heartbeat('gcs')
    rig.loop.command('land on the pad')
    rig.loop.command('then take a photo')
    rig.loop.drain()
    first, hold, second = rig.published
    assert first.action == 'reject' and first.command.text == 'land on the pad'
    assert first.refusal == Refusal(RefusalKind.PREEMPTED,
                                    'not decided: preempted by the failsafe hold')
    assert (hold.action, hold.source) == ('hold', 'failsafe')
    assert second.command.text == 'then take a photo'


def test_deactivation_answers_the_running_and_waiting_commands_before_freeing_models():
    blocking = BlockingDecider()
    rig = Rig(sources=[blocking])
    rig.loop.activate()
    rig.loop.command('search the field')
    rig.loop.command('land')
    rig.loop.command('hover')
    drainer = threading.Thread(target=rig.loop.drain)
    drainer.start()
    assert blocking.started.wait(10)
    rig.loop.deactivate('node deactivating')
    drainer.join(10)
    assert not drainer.is_alive()
    texts = [d.command.text for d in rig.published]
    assert sorted(texts) == ['hover', 'land', 'search the field']
    assert all(d.action == 'reject' for d in rig.published)
    running = next(d for d in rig.published if d.command.text == 'search the field')
    assert running.refusal == Refusal(RefusalKind.DEACTIVATING, 'not decided: node deactivating')
    waiting = [d.refusal for d in rig.published if d is not running]
    assert waiting == [Refusal(RefusalKind.DEACTIVATING, 'node deactivating')] * 2
    assert blocking.closed and not blocking.closed_while_running
    assert rig.loop.state == 'inactive' and rig.loop.sources == []
    rig.loop.command('land')
    assert rig.published[-1].refusal.kind is RefusalKind.INACTIVE


def test_shutdown_answers_the_running_and_waiting_commands_as_shutting_down():
    blocking = BlockingDecider()
    rig = Rig(sources=[blocking])
    rig.loop.activate()
    rig.loop.command('search the field')
    rig.loop.command('land')
    drainer = threading.Thread(target=rig.loop.drain)
    drainer.start()
    assert blocking.started.wait(10)
    rig.loop.shutdown()
    drainer.join(10)
    assert {d.command.text: d.refusal for d in rig.published} == {
        'search the field': Refusal(RefusalKind.SHUTTING_DOWN, 'not decided: node shutting down'),
        'land': Refusal(RefusalKind.SHUTTING_DOWN, 'node shutting down')}


@pytest.mark.parametrize('payload, kind, reason', [
    ('land', RefusalKind.UNCONFIGURED, 'node unconfigured: not deciding'),
    (b'\x00\x01\x00\x00\x03\x00\x00\x00\xff\xfe\x00', RefusalKind.INPUT, 'not UTF-8'),
])
def test_a_command_to_an_unconfigured_node_is_refused_with_its_kind(payload, kind, reason):
    from ministral_node.core.decision_loop import unconfigured_refusal
    from ministral_node.timing import FakeClock

    decision = unconfigured_refusal(payload, FakeClock(7.0))
    assert decision.action == 'reject' and decision.attempts == ()
    assert decision.refusal.kind is kind and reason in decision.refusal.reason
    assert decision.to_dict()['refusal']['kind'] == kind.value


def test_reactivation_decides_again_with_fresh_sources():
    rig = Rig()
    rig.loop.activate()
    rig.loop.deactivate()
    rig.loop.activate()
    rig.loop.command('land')
    rig.loop.drain()
    assert rig.actions() == ['land'] and rig.published[0].source == 'rules'


def test_settings_apply_to_every_component():
    rig = Rig()
    rig.loop.activate()
    changed = rig.loop.settings.with_changes({'command_queue_depth': 1,
                                              'link_loss_timeout_s': 0.5,
                                              'max_altitude_m': 40})
    rig.loop.apply(changed)
    assert rig.loop.envelope.limits.max_altitude_m == 40.0
    assert rig.loop.pipeline.envelope is rig.loop.envelope
    rig.loop.command('one')
    rig.loop.command('two')
    assert len(rig.published) == 1 and 'command_queue_depth=1' in \
        rig.published[0].refusal.reason
    rig.loop.heartbeat('gcs')
    rig.clock.advance(0.6)
    rig.loop.supervise()
    assert rig.loop.status()['link']['state'] == 'lost'  # link_loss_timeout_s=0.5


def test_new_settings_reach_the_frame_store_and_the_camera_rate():
    rig = Rig(camera_expected_rate_hz=10.0)
    rig.loop.activate()
    frame = RawImage(8, 8, 'mono8', 8, bytes(64))
    for _ in range(4):  # 2 Hz over the 2 s window
        rig.clock.advance(0.5)
        assert rig.loop.frame(frame, rig.clock.now()) is None
    rig.loop.supervise()
    assert rig.loop.health.snapshot_of('camera').message == '2.0 Hz, expected 10 Hz'
    rig.loop.apply(rig.loop.settings.with_changes({'camera_expected_rate_hz': 2.0,
                                                   'max_image_pixels': 32}))
    rig.loop.supervise()
    assert rig.loop.health.snapshot_of('camera').message == '2.0 Hz'
    assert 'max_image_pixels' in rig.loop.frame(frame, rig.clock.now())
    assert rig.loop.status()['camera']['frames_received'] == 4


def test_a_mission_step_is_checked_against_the_limits_in_force_when_it_starts():
    takeoff = Proposal('takeoff', {'altitude_m': 100.0}, None, 1.0, 'asked')
    rig = Rig(sources=[ScriptedDecider('rules', takeoff)], execute_missions=True)
    rig.loop.activate()
    rig.loop.pose(0.0, 0.0, 0.0, 0.0, in_air=False)
    rig.loop.command('take off to 100 m')
    rig.loop.drain()
    assert rig.published[-1].params == {'altitude_m': 100.0}
    rig.loop.apply(rig.loop.settings.with_changes({'max_altitude_m': 40}))
    rig.loop.execute()
    [command] = [c for out in rig.executed for c in out.commands]
    assert command == {'command': 'takeoff', 'altitude_m': 40.0}


def test_a_stopped_simulation_clock_pauses_the_watchdog_and_says_so():
    rig = Rig(sim_time=True, link_loss_timeout_s=1.0)
    rig.loop.activate()
    rig.loop.heartbeat('gcs')
    rig.loop.supervise()
    rig.steady.advance(3.0)  # real time passes, /clock does not
    rig.loop.supervise()
    assert rig.loop.health.snapshot_of('clock').level == WARN
    assert 'simulation clock stopped' in rig.loop.health.snapshot_of('clock').message
    assert 'watchdog paused' in rig.loop.health.snapshot_of('link').message
    assert rig.loop.status()['link']['state'] == 'up' and rig.published == []
    rig.clock.advance(0.1)
    rig.steady.advance(0.1)
    rig.loop.supervise()
    assert rig.loop.health.snapshot_of('clock').level == OK
    assert rig.loop.status()['clock']['source'] == 'sim'


def test_a_clock_jumping_back_restarts_the_watchdog_timers():
    rig = Rig(sim_time=True, link_loss_timeout_s=2.0)
    rig.loop.activate()
    rig.clock.set(100.0)
    rig.loop.supervise()
    rig.loop.heartbeat('gcs')
    rig.clock.set(10.0)  # the simulator was reset
    rig.loop.supervise()
    assert rig.loop.health.snapshot_of('clock').level == ERROR
    assert rig.loop.status()['link']['silent_s'] == 0.0
    rig.clock.advance(2.5)
    rig.loop.supervise()
    assert rig.loop.status()['link']['state'] == 'lost'


@pytest.mark.parametrize('state_change', ['deactivate', 'shutdown'])
def test_nothing_is_decided_after_the_loop_stops(state_change):
    rig = Rig()
    rig.loop.activate()
    getattr(rig.loop, state_change)()
    rig.loop.command('land')
    rig.loop.drain()
    assert rig.actions() == ['reject']
    assert rig.published[0].refusal == {
        'deactivate': Refusal(RefusalKind.INACTIVE, 'node inactive: not deciding'),
        'shutdown': Refusal(RefusalKind.SHUTTING_DOWN, 'node finalized: not deciding'),
    }[state_change]


def test_a_matched_camera_that_delivers_nothing_is_a_warning_that_says_why():
    rig = Rig(max_frame_age_s=0.5)
    rig.loop.activate()
    rig.clock.advance(4.0)
    rig.loop.supervise(camera_publishers=1, camera_topic='/cam/image_raw')
    assert rig.loop.health.snapshot_of('camera').message == 'waiting for frames'
    rig.clock.advance(1.5)
    rig.loop.supervise(camera_publishers=1, camera_topic='/cam/image_raw')
    camera = rig.loop.health.snapshot_of('camera')
    assert camera.level == WARN and '1 publisher(s) matched on /cam/image_raw' in camera.message
    assert 'camera_transport: compressed' in camera.message
    rig.loop.supervise(camera_publishers=0)
    assert rig.loop.health.snapshot_of('camera').message == 'waiting for frames'


@pytest.mark.parametrize('up, action', [(0.0, 'reject'), (0.25, 'reject'), (12.0, 'rotate')])
def test_a_move_on_the_ground_is_refused_from_the_pose_altitude(up, action):
    turn = Proposal('rotate', {'yaw_deg': -90.0}, None, 1.0, 'asked')
    rig = Rig(sources=[ScriptedDecider('rules', turn)], landed_altitude_m=0.3)
    rig.loop.activate()
    rig.loop.pose(0.0, 0.0, up, 0.0)
    assert rig.loop.vehicle.in_air is (up > 0.3)
    rig.loop.command('turn left 90 degrees')
    rig.loop.drain()
    [decision] = rig.published
    assert decision.action == action
    if action == 'reject':
        assert 'take off first' in decision.safety.refused


@pytest.mark.parametrize('execute_missions', [False, True])
def test_camera_info_reaches_the_pipeline_with_or_without_missions(execute_missions):
    rig = Rig(execute_missions=execute_missions)
    k = [160.0, 0.0, 160.0, 0.0, 160.0, 120.0, 0.0, 0.0, 1.0]
    rig.loop.camera_info(k, 320, 240)
    rig.loop.activate()  # a new pipeline: it reads the loop's intrinsics, not a copy
    assert rig.loop.pipeline.camera() == CameraIntrinsics(160.0, 160.0, 160.0, 120.0, 320, 240)
    if execute_missions:
        assert rig.loop.executor.intrinsics == rig.loop.pipeline.camera()
    rig.loop.camera_info([0.0] * 9, 320, 240)  # unset K: unknown again
    assert rig.loop.pipeline.camera() is None


def test_a_step_whose_target_is_not_in_view_looks_through_the_pipeline():
    from ministral_node.decision import Target, mission

    steps = mission([Proposal('takeoff', {'altitude_m': 20.0}, None, 1.0, 'asked'),
                     Proposal('land', {}, Target('red pad', None), 1.0, 'asked')], 'asked')
    rig = Rig(sources=[ScriptedDecider('rules', steps)], execute_missions=True)
    rig.loop.activate()  # no detector_model: the search cannot look
    rig.loop.camera_info([160.0, 0.0, 160.0, 0.0, 160.0, 120.0, 0.0, 0.0, 1.0], 320, 240)
    rig.loop.pose(0.0, 0.0, 20.0, 0.0, in_air=True)
    rig.loop.command('take off to 20 m then land on the red pad')
    rig.loop.drain()
    for _ in range(20):  # the takeoff is done; the search settles 1 s, then looks
        rig.clock.advance(0.1)
        rig.loop.pose(0.0, 0.0, 20.0, 0.0, in_air=True)
        rig.loop.execute()
    status = rig.loop.mission_status()
    assert status['state'] == 'aborted'
    assert status['reason'] == ("steps[1] (land): cannot search for 'red pad': no object "
                                'detector configured (detector_model)')
