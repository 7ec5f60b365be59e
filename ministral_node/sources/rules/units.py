"""Units in all five languages and their factors to SI (metres, m/s, degrees, seconds).

A number without a unit takes the default of what it measures (`DEFAULT_UNITS`): metres for
altitudes, distances and radii, m/s for speeds, degrees for angles, seconds for durations,
and plain counts for photos. The parser lowers its confidence when it had to assume one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ministral_node.sources.rules.numbers import match_words, parse_digits
from ministral_node.sources.rules.text import phrase_keys

LENGTH, SPEED, ANGLE, TIME, COUNT = 'length', 'speed', 'angle', 'time', 'count'
TURN = 'turn'  # the symbol of a whole turn, 360 degrees
DEFAULT_UNITS = {LENGTH: 'm', SPEED: 'm/s', ANGLE: 'deg', TIME: 's', COUNT: ''}


@dataclass(frozen=True)
class Unit:
    """A unit: what it measures, its factor to the SI unit, and a short symbol."""

    dim: str
    factor: float
    symbol: str


_KNOT = 1852.0 / 3600.0
_TABLE: dict[Unit, str] = {
    Unit(LENGTH, 1.0, 'm'): 'm|meter|meters|metre|metres|mètre|mètres|metern|metro|metros|metri'
    '|mt|mts|mtr|mtrs',
    Unit(LENGTH, 1000.0, 'km'): 'km|kms|kilometer|kilometers|kilometre|kilometres|kilomètre'
    '|kilomètres|kilometern|kilómetro|kilómetros|chilometro|chilometri|klick|klicks|click'
    '|clicks',
    Unit(LENGTH, 0.01, 'cm'): 'cm|centimeter|centimeters|centimetre|centimetres|centimètre'
    '|centimètres|zentimeter|centímetro|centímetros|centimetro|centimetri',
    Unit(LENGTH, 0.3048, 'ft'): 'ft|foot|feet|pied|pieds|fuß|füße|fuss|pie|pies|piede|piedi',
    Unit(LENGTH, 0.9144, 'yd'): 'yd|yds|yard|yards|yarda|yardas|iarda|iarde',
    Unit(LENGTH, 1609.344, 'mi'): 'mi|mile|miles|meile|meilen|milla|millas|miglio|miglia',
    Unit(LENGTH, 1852.0, 'nmi'): 'nmi|nautical mile|nautical miles|mille marin|milles marins'
    '|seemeile|seemeilen|milla náutica|millas náuticas|miglio nautico|miglia nautiche',
    Unit(SPEED, 1.0, 'm/s'): 'm/s|mps|m per s|meter per second|meters per second'
    '|metre per second|metres per second|mètre par seconde|mètres par seconde'
    '|meter pro sekunde|metern pro sekunde|meter in der sekunde|metro por segundo'
    '|metros por segundo|metro al secondo|metri al secondo|metri per secondo|meters a second'
    '|metres a second|meter a second|metre a second|mètres à la seconde|mètres seconde'
    '|meter die sekunde|metros al segundo|metri al secondo',
    Unit(SPEED, 1.0 / 3.6, 'km/h'): 'km/h|kmh|kph|km/std|kmph|km/hr|km per hour|km an hour'
    '|km par heure|km pro stunde|km por hora|km all ora|km orari|km/ora|kilometer per hour'
    '|kilometers per hour'
    '|kilometre per hour|kilometres per hour|kilomètre par heure|kilomètres par heure'
    '|kilomètres heure|stundenkilometer|kilometer pro stunde|kilómetros por hora'
    '|kilómetros hora|chilometri orari|chilometri all ora|chilometri l ora|chilometri per ora'
    '|kilometres an hour|kilometers an hour|kilomètres à l heure|km à l heure'
    '|kilometer die stunde|kilómetros a la hora|km a la hora|chilometri all\'ora'
    "|all'ora|à l'heure|por hora|stundenkilometern",  # "a 30 all'ora": said as on the road
    Unit(SPEED, 0.44704, 'mph'): 'mph|mi/h|miles an hour|mile per hour|miles per hour'
    '|meilen pro stunde'
    '|millas por hora|miglia orarie|miglia all ora',
    Unit(SPEED, _KNOT, 'kn'): 'kn|kt|kts|knot|knots|nœud|nœuds|knoten|nudo|nudos|nodo|nodi',
    Unit(SPEED, 0.3048, 'ft/s'): 'ft/s|fps|feet per second|foot per second',
    Unit(ANGLE, 1.0, 'deg'): '°|deg|degs|degree|degrees|degré|degrés|grad|grade|grado|grados'
    '|gradi',
    # "un quart de tour", "un cuarto de vuelta", "un quarto di giro": read for fractions only
    Unit(ANGLE, 360.0, TURN): 'tour|tours|vuelta|vueltas|giro|drehung|drehungen'
    '|umdrehung|umdrehungen',
    Unit(ANGLE, 90.0, 'quarter turn'): 'vierteldrehung|vierteldrehungen',
    Unit(TIME, 1.0, 's'): 's|sec|secs|second|seconds|seconde|secondes|sekunde|sekunden|sek'
    '|segundo|segundos|seg|secondo|secondi',
    Unit(TIME, 60.0, 'min'): 'min|mins|minute|minutes|minuten|minuto|minutos|minuti',
    Unit(TIME, 3600.0, 'h'): 'h|hr|hrs|hour|hours|heure|heures|stunde|stunden|std|hora|horas'
    '|ora|ore',
    Unit(TIME, 900.0, 'quarter h'): 'viertelstunde|viertelstunden',
    Unit(COUNT, 1.0, 'x'): 'x|times|fois|mal|veces|volte',
}


# Unit words that tell the operator's language ("100 pieds", "20 Fuß"); symbols (m, km/h, ft)
# and words several languages share count for each of them.
_LANGUAGE_WORDS = {
    'en': 'meter|meters|metre|metres|kilometer|kilometers|kilometre|kilometres|foot|feet|yard'
          '|yards|mile|miles|knot|knots|degree|degrees|second|seconds|minute|minutes|hour'
          '|hours|times|nautical',
    'fr': 'mètre|mètres|kilomètre|kilomètres|pied|pieds|nœud|nœuds|degré|degrés|seconde'
          '|secondes|minute|minutes|heure|heures|fois|mille|milles|marin|marins|tour|tours',
    'de': 'meter|metern|kilometer|kilometern|fuß|füße|fuss|meile|meilen|seemeile|seemeilen'
          '|knoten|grad|sekunde|sekunden|minute|minuten|stunde|stunden|mal|stundenkilometer'
          '|drehung|umdrehung|vierteldrehung',
    'es': 'metro|metros|kilómetro|kilómetros|pie|pies|yarda|yardas|milla|millas|nudo|nudos'
          '|grado|grados|segundo|segundos|minuto|minutos|hora|horas|veces|vuelta|vueltas',
    'it': 'metro|metri|chilometro|chilometri|piede|piedi|iarda|iarde|miglio|miglia|nodo|nodi'
          '|grado|gradi|secondo|secondi|minuto|minuti|ora|ore|volte|giro',
}


def _word_languages() -> dict[str, frozenset[str]]:
    table: dict[str, set[str]] = {}
    for lang, words in _LANGUAGE_WORDS.items():
        for word in words.split('|'):
            for key in phrase_keys(word):
                table.setdefault(key[0], set()).add(lang)
    return {word: frozenset(langs) for word, langs in table.items()}


UNIT_WORD_LANGUAGES = _word_languages()


def unit_languages(norms: Sequence[str]) -> set[str]:
    """The languages whose unit words `norms` (a unit phrase as said) uses."""
    return {lang for norm in norms for lang in UNIT_WORD_LANGUAGES.get(norm, ())}


def _compile() -> dict[tuple[str, ...], Unit]:
    table: dict[tuple[str, ...], Unit] = {}
    for unit, phrases in _TABLE.items():
        for phrase in phrases.split('|'):
            for key in phrase_keys(phrase):
                if table.setdefault(key, unit) != unit:
                    raise ValueError(f'unit phrase {phrase!r} has two meanings')
    return table


UNITS = _compile()
_LONGEST = max(map(len, UNITS))


_LINKS = frozenset({'and', 'et', 'und', 'y', 'e'})
_NEXT_SMALLER = {3600.0: 60.0, 60.0: 1.0}  # "1 h 15", "2 min 30": the smaller unit unsaid


def match_time_rest(norms: Sequence[str], start: int, unit: Unit,
                    lang: str) -> tuple[float, int] | None:
    """The smaller part of a duration said in two units after `unit` at `norms[start]`
    ("2 minutes [and] 30 seconds", "1 min 30", "zwei Minuten und dreißig Sekunden"): its
    value in `unit` and the tokens it spans, or None. A bare number counts only below 60 and
    at the end of a clause ("wait 2 minutes 3 photos" says no seconds)."""
    if unit.dim != TIME or unit.factor not in _NEXT_SMALLER:
        return None
    i = start + (start < len(norms) and norms[start] in _LINKS)
    if i >= len(norms):
        return None
    if norms[i][:1].isdigit():
        value, size = parse_digits(norms[i], lang), 1
    else:
        words = match_words(norms, i, lang)
        value, size = (None, 0) if words is None or words[2] else words[:2]
    if value is None:
        return None
    smaller = match_unit(norms, i + size)
    if smaller is not None:
        if smaller[0].dim != TIME or smaller[0].factor >= unit.factor:
            return None
        return value * smaller[0].factor / unit.factor, i + size + smaller[1] - start
    ends = i + size >= len(norms) or not norms[i + size][:1].isalnum()
    if value >= 60 or not ends:
        return None
    return value * _NEXT_SMALLER[unit.factor] / unit.factor, i + size - start


def match_unit(norms: Sequence[str], start: int) -> tuple[Unit, int] | None:
    """The longest unit phrase at `norms[start]` and how many tokens it spans, or None."""
    for size in range(min(_LONGEST, len(norms) - start), 0, -1):
        unit = UNITS.get(tuple(norms[start:start + size]))
        if unit is not None:
            return unit, size
    return None
