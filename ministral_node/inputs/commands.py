"""Operator commands before any decision source sees them: decoding and screening.

The node subscribes to `~/command` as raw CDR so that bytes that are not UTF-8 (possible from
C++ publishers) arrive here as a clear refusal instead of an exception inside the executor.
"""

from __future__ import annotations

import struct
import unicodedata

from ministral_node.decision import Proposal, clarify, reject

_CDR_BE, _CDR_LE = b'\x00\x00', b'\x00\x01'


class CommandError(ValueError):
    """A command cannot be read as text; the message says why."""


def decode_string_message(payload: bytes) -> str:
    """The `data` field of a serialized std_msgs/String (plain CDR, either byte order)."""
    if len(payload) < 8:
        raise CommandError(f'serialized String of {len(payload)} bytes is too short')
    kind = payload[:2]
    if kind not in (_CDR_BE, _CDR_LE):
        raise CommandError(f'unsupported CDR encapsulation {kind.hex()}')
    (length,) = struct.unpack('<I' if kind == _CDR_LE else '>I', payload[4:8])
    body = payload[8:8 + length]
    if length == 0 or len(body) != length:
        raise CommandError(f'String length {length} does not match {len(payload) - 8} bytes')
    raw = body[:-1] if body.endswith(b'\x00') else body
    try:
        return raw.decode('utf-8')
    except UnicodeDecodeError as exc:
        raise CommandError(f'command is not UTF-8 text (byte {exc.start} is '
                           f'0x{raw[exc.start]:02x})') from exc


def _control_characters(text: str) -> int:
    return sum(1 for c in text if unicodedata.category(c) in ('Cc', 'Cs', 'Co', 'Cn')
               and c not in '\t\n\r')


def screen(text: str, max_chars: int) -> tuple[Proposal, str] | None:
    """A clarify/reject proposal and a log reason if `text` is not a usable command, else None.

    Checks, in order: empty or whitespace-only, longer than `max_chars`, binary (control or
    unassigned characters).
    """
    if not text.strip():
        return (clarify('The command was empty. What should I do?',
                        'empty or whitespace-only command'),
                'empty or whitespace-only command')
    if len(text) > max_chars:
        reason = f'command of {len(text)} characters exceeds max_command_chars={max_chars}'
        return reject(f'Command too long ({len(text)} characters, limit {max_chars}). '
                      'Send a shorter command.', reason), reason
    controls = _control_characters(text)
    if controls:
        reason = f'command contains {controls} control or unassigned characters (binary data?)'
        return reject('The command is not readable text.', reason), reason
    return None
