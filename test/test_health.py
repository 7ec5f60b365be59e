"""Health board: steady levels, error events held long enough to be seen."""

from ministral_node.health import ERROR, OK, STALE, WARN, HealthBoard
from ministral_node.timing import FakeClock


def test_components_start_stale_and_take_their_set_level():
    board = HealthBoard(FakeClock())
    assert board.level('camera') == STALE
    board.set('camera', WARN, 'waiting for frames', frames=0)
    view = board.snapshot_of('camera')
    assert (view.level, view.message, view.values) == (WARN, 'waiting for frames',
                                                        {'frames': '0'})


def test_an_error_event_shows_for_the_hold_time_then_clears():
    clock = FakeClock()
    board = HealthBoard(clock, hold_s=5.0)
    board.set('camera', OK, 'receiving frames')
    board.error('camera', 'frame rejected: zero-size image (0x0)')
    board.set('camera', OK, 'receiving frames')  # a good frame right after
    view = board.snapshot_of('camera')
    assert view.level == ERROR and view.message == 'frame rejected: zero-size image (0x0)'
    assert view.values['errors_total'] == '1'
    clock.advance(5.1)
    view = board.snapshot_of('camera')
    assert view.level == OK and view.values['last_error'].startswith('frame rejected')


def test_snapshot_lists_components_in_order():
    board = HealthBoard(FakeClock())
    for name in ('camera', 'command', 'rules'):
        board.set(name, OK, 'fine')
    assert [h.name for h in board.snapshot()] == ['camera', 'command', 'rules']
