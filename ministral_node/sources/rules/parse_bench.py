"""Time the rule parser: `python -m ministral_node.sources.rules.parse_bench [--rounds N]`.

Prints the median, 99th percentile and worst time of one `parse_command` call over a fixed
mix of commands in the five languages (clean parses, clarifications, questions, gibberish).
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time

from ministral_node.sources.rules.parser import parse_command

COMMANDS = (
    'take off to 30 m', 'fly north-east 50 m', 'follow the blue car at 10 m',
    'search for a person in a red jacket within 200 m', 'turn left 90°', 'what do you see?',
    'take off and then fly north 50 m', 'asdf qwer zxcv',
    "décolle à trente mètres", "vole vers l'est 100 m", 'suis la voiture bleue',
    'tourne autour de la tour à 20 m dans le sens horaire',
    'starte auf dreißig Meter', 'flieg 2,5 km nach Nordosten', 'folge dem roten Auto',
    'steig fünfundzwanzig Meter höher',
    'despega a treinta metros', 'gira a la izquierda 90 grados', 'sigue al coche azul',
    'busca un coche blanco en un radio de 100 metros',
    'decolla a venticinque metri', "segui l'auto blu", 'sali di 10 metri',
    'gira intorno alla torre a 20 metri in senso orario',
)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--rounds', type=int, default=200, help='passes over the command mix')
    args = parser.parse_args(argv)
    cold = []
    for command in COMMANDS:
        start = time.perf_counter()
        parse_command(command)
        cold.append(time.perf_counter() - start)
    samples = []
    for _ in range(args.rounds):
        for command in COMMANDS:
            start = time.perf_counter()
            parse_command(command)
            samples.append(time.perf_counter() - start)
    samples.sort()
    p99 = samples[int(0.99 * (len(samples) - 1))]
    print(f'machine: {platform.machine()} {platform.processor() or ""} '
          f'Python {platform.python_version()}')
    print(f'{len(COMMANDS)} commands x {args.rounds} rounds = {len(samples)} calls')
    print(f'first call per command (cold caches): median {statistics.median(cold) * 1e6:.0f} us,'
          f' max {max(cold) * 1e6:.0f} us')
    print(f'warm: median {statistics.median(samples) * 1e6:.0f} us, p99 {p99 * 1e6:.0f} us, '
          f'max {samples[-1] * 1e6:.0f} us')
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
