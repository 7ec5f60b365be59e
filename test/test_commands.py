"""Commands before any source sees them: raw String decoding and screening."""

import struct

import pytest

from ministral_node.inputs.commands import CommandError, decode_string_message, screen


def _cdr(body: bytes, little: bool = True) -> bytes:
    header = b'\x00\x01\x00\x00' if little else b'\x00\x00\x00\x00'
    return header + struct.pack('<I' if little else '>I', len(body) + 1) + body + b'\x00'


def test_decodes_serialized_strings_in_both_byte_orders():
    text = 'Décolle à 30 mètres, bitte höher 🚁'
    assert decode_string_message(_cdr(text.encode())) == text
    assert decode_string_message(_cdr(text.encode(), little=False)) == text


def test_matches_rclpy_serialisation():
    from rclpy.serialization import serialize_message
    from std_msgs.msg import String

    text = 'sigue al coche azul'
    assert decode_string_message(serialize_message(String(data=text))) == text


@pytest.mark.parametrize('payload, message', [
    (_cdr(b'\xff\xfe binary'), 'not UTF-8 text'),
    (b'\x00\x01', 'too short'),
    (b'\x00\x07\x00\x00\x05\x00\x00\x00abcd\x00', 'unsupported CDR encapsulation'),
    (b'\x00\x01\x00\x00\xff\x00\x00\x00abc', 'does not match'),
])
def test_unreadable_payloads_raise_a_clear_error(payload, message):
    with pytest.raises(CommandError, match=message):
        decode_string_message(payload)


@pytest.mark.parametrize('text, action, reason', [
    ('', 'clarify', 'empty'),
    ('   \n\t  ', 'clarify', 'empty'),
    ('x' * 100_000, 'reject', 'command of 100000 characters exceeds max_command_chars=2000'),
    ('take off\x00\x01\x02', 'reject', 'control or unassigned characters'),
    ('\x1b[31mland\x1b[0m', 'reject', 'control'),
])
def test_unusable_commands_get_a_proposal_and_a_reason(text, action, reason):
    proposal, why = screen(text, 2000)
    assert proposal.action == action
    assert reason in why
    proposal.validate()


def test_ordinary_commands_pass_the_screen():
    for text in ['take off', 'Steig auf 30 Meter\n', 'tourne à droite\tde 90°', 'x' * 2000]:
        assert screen(text, 2000) is None
