"""The watchdog over real DDS: link loss failsafe, camera stopped, a model cut off by its
deadline. Durations are printed (run with -s); assertions are on what the node reports (its
own silence measurement, outcomes, order), never on wall-clock upper bounds."""

import time

import numpy as np
import pytest
from engine_models import model
from ros_harness import Harness
from std_msgs.msg import Header

from ministral_node.health import STALE
from ministral_node.inputs.image_conversion import encode_raw
from ministral_node.ros.node import MinistralNode

FRAME = encode_raw(np.zeros((56, 84, 3), np.uint8), 'rgb8')


def _level(status) -> int:
    return status.level[0] if isinstance(status.level, bytes) else status.level


def test_heartbeat_stop_publishes_hold_then_return_home_within_the_timeout():
    timeout, hold = 1.0, 1.0
    h = Harness(MinistralNode, {'link_loss_timeout_s': timeout, 'failsafe_hold_s': hold})
    try:
        beat = h.client.create_publisher(Header, f'{h.namespace}/ground_heartbeat', 10)
        h.wait_for(lambda: beat.get_subscription_count() > 0, what='heartbeat subscription')
        seen = len(h.decisions)
        for _ in range(5):
            beat.publish(Header(frame_id='gcs'))
            stopped = time.monotonic()
            time.sleep(0.1)
        h.wait_for(lambda: h.statuses and h.statuses[-1]['link']['state'] == 'up', what='up')
        h.wait_for(lambda: len(h.decisions) > seen, timeout + 3, 'the hold')
        held_after = time.monotonic() - stopped
        hold_decision = h.decisions[seen]
        assert (hold_decision['action'], hold_decision['source']) == ('hold', 'failsafe')
        assert hold_decision['command'] is None and 'ground link lost' in hold_decision['notes'][0]
        h.wait_for(lambda: any(s['link']['state'] == 'lost' for s in h.statuses), what='lost')
        lost = next(s for s in h.statuses if s['link']['state'] == 'lost')
        assert lost['link']['silent_s'] >= timeout and lost['link']['failsafe_active']
        h.wait_for(lambda: len(h.decisions) > seen + 1, hold + 3, 'the return home')
        rth_after = time.monotonic() - stopped
        assert h.decisions[seen + 1]['action'] == 'return_to_home'
        assert rth_after >= timeout + hold
        print(f'\nfailsafe: hold {held_after:.2f} s and return_to_home {rth_after:.2f} s after '
              f'the last heartbeat (timeout {timeout} s, hold {hold} s)')
        assert h.statuses[-1]['link']['state'] == 'lost'
        time.sleep(1.5)
        assert len(h.decisions) == seen + 2  # once per escalation step
        beat.publish(Header(frame_id='gcs'))
        h.wait_for(lambda: h.statuses[-1]['link']['state'] == 'up'
                   and not h.statuses[-1]['link']['failsafe_active'], what='link regained')
    finally:
        h.close()


def test_camera_stopped_mid_mission_goes_stale_and_decisions_say_so():
    h = Harness(MinistralNode, {'max_frame_age_s': 0.5, 'camera_expected_rate_hz': 10.0})
    try:
        for _ in range(12):
            h.image(FRAME)
            time.sleep(0.1)
        h.wait_for(lambda: h.node.loop.health.snapshot_of('camera').message.endswith('Hz'),
                   what='camera OK with a rate')
        assert h.command('take a photo')['frame'] is not None
        time.sleep(0.8)  # the camera stops
        decision = h.command('take a photo')
        assert decision['frame'] is None
        assert 'no camera frame newer than 0.5 s' in decision['notes'][0]
        since = len(h.diagnostics)
        h.wait_for(lambda: any(_level(s) == STALE and 'no frame for' in s.message
                               for s in h.diagnostic('camera', since)), what='camera STALE')
    finally:
        h.close()


@pytest.mark.parametrize('budget_s', [0.3])
def test_a_slow_onboard_model_is_cut_off_by_its_deadline(budget_s):
    h = Harness(MinistralNode, {
        'decision_sources': ['onboard', 'rules'], 'model_dir': str(model('slow')),
        'onboard_timeout_s': budget_s, 'prefix_cache': False, 'max_new_tokens': 384})
    try:
        h.wait_for(lambda: h.node.loop.health.snapshot_of('onboard').message.startswith('loaded'),
                   what='the onboard model loaded')
        overshoots = []
        # A long command makes the prefill alone outlast the budget on any machine (a short
        # one can be decided inside 0.3 s by a fast, quiet CPU).
        padding = ' please hurry up now,' * 90
        for text in ('take off to 10 m', 'land'):
            decision = h.command(text + padding)
            onboard, rules = decision['attempts'][:2]
            assert onboard['source'] == 'onboard' and onboard['outcome'] == 'timeout'
            assert rules['outcome'] == 'ok' and decision['source'] == 'rules'
            overshoots.append(onboard['latency_ms'] / 1000 - budget_s)
        print(f'\nonboard deadline {budget_s} s: overshoot '
              + ', '.join(f'{o * 1000:.0f} ms' for o in overshoots))
    finally:
        h.close()
