"""The node deciding through a real ground-station server (`ministral-serve` on 127.0.0.1)
over real DDS: healthy, stopped, slow, garbage, out of the envelope, and link lost."""


import numpy as np
import pytest
from ros_harness import Harness
from serve_support import engine, running
from std_msgs.msg import Header

from ministral_node.ground.server import Faults
from ministral_node.inputs.image_conversion import encode_raw
from ministral_node.ros.node import MinistralNode

BUDGET_S = 1.0


@pytest.fixture(scope='module')
def server():
    with running(engine('random')) as chat_server:
        yield chat_server


@pytest.fixture
def node(server):
    server.faults = Faults()
    h = Harness(MinistralNode, {'decision_sources': ['remote', 'rules'], 'rules_fast_path': False,
                                'remote_url': server.url, 'remote_timeout_s': BUDGET_S,
                                'remote_health_period_s': 0.0, 'breaker_failures': 100})
    h.node.loop.pipeline.chain.verify = None  # a random model: its answers are what is tested here
    yield h
    h.close()


def test_a_healthy_ground_station_decides_and_sees_the_camera(node, server):
    node.image(encode_raw(np.full((56, 84, 3), 90, np.uint8), 'rgb8'))
    node.wait_for(lambda: node.node.loop.frames.newest() is not None, what='a frame')
    decision = node.command('fly to the red pad')
    assert decision['source'] == 'remote' and decision['attempts'][0]['outcome'] == 'ok'
    assert decision['model']['name']
    assert server.last_request.image is not None


def test_a_stopped_ground_station_hands_over_to_the_rules():
    with running(engine('random')) as stopped:
        url = stopped.url
    h = Harness(MinistralNode, {'decision_sources': ['remote', 'rules'], 'rules_fast_path': False,
                                'remote_url': url, 'remote_health_period_s': 0.0})
    try:
        decision = h.command('take off to 10 m')  # not a reflex: the chain decides it
        assert decision['source'] == 'rules' and decision['action'] == 'takeoff'
        remote = decision['attempts'][0]
        assert remote['outcome'] == 'unavailable' and 'refused' in remote['detail']
    finally:
        h.close()


def test_a_slow_ground_station_is_cut_at_its_deadline(node, server):
    server.faults = Faults(delay_s=30.0)
    decision = node.command('take off to 10 m')
    remote = decision['attempts'][0]
    assert remote['outcome'] == 'timeout' and decision['source'] == 'rules'
    overshoot_ms = remote['latency_ms'] - BUDGET_S * 1000
    print(f'\nremote deadline {BUDGET_S} s: overshoot {overshoot_ms:.1f} ms')


@pytest.mark.parametrize('garbage', ['content', 'proposal', 'body'])
def test_garbage_from_the_ground_station_is_not_published(node, server, garbage):
    server.faults = Faults(garbage=garbage)
    decision = node.command('fly 20 m north')
    assert decision['source'] == 'rules' and decision['action'] == 'goto'
    # A reply that is not JSON is a protocol error; output that is no proposal is invalid.
    assert decision['attempts'][0]['outcome'] == ('error' if garbage == 'body' else 'invalid')


def test_an_out_of_envelope_decision_from_the_ground_station_is_clamped(node, server):
    server.faults = Faults(response='{"action":"change_altitude","params":{"altitude_m":900},'
                                    '"target":null,"confidence":0.9,"rationale":"climb"}')
    decision = node.command('climb to 900 m')
    assert decision['source'] == 'remote'
    assert decision['params'] == {'altitude_m': 120.0}
    assert decision['safety']['changes'][0]['requested'] == 900


def test_the_remote_source_is_skipped_while_the_link_is_lost(server):
    server.faults = Faults()
    h = Harness(MinistralNode, {'decision_sources': ['remote', 'rules'], 'rules_fast_path': False,
                                'remote_url': server.url, 'remote_health_period_s': 0.0,
                                'link_loss_timeout_s': 0.5, 'failsafe_action': 'none'})
    try:
        beat = h.client.create_publisher(Header, f'{h.namespace}/ground_heartbeat', 10)
        h.wait_for(lambda: beat.get_subscription_count() > 0, what='heartbeat subscription')
        beat.publish(Header())
        h.wait_for(lambda: h.node.loop.status()['link']['state'] == 'up', what='link up')
        h.wait_for(lambda: h.node.loop.status()['link']['state'] == 'lost', what='link lost')
        decision = h.command('take off to 10 m')
        assert decision['attempts'][0] == {'source': 'remote', 'outcome': 'skipped',
                                           'detail': 'ground link lost', 'latency_ms': 0.0}
        assert decision['source'] == 'rules'
    finally:
        h.close()
