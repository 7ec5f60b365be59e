#!/usr/bin/env python3
"""Sample N decisions from a server on 127.0.0.1 and count how many are valid and finite.

    PYTHONPATH=. python scripts/interop/grammar_trials.py --url http://127.0.0.1:8080 [--n 50]
        [--form grammar|schema] [--max-tokens 384]

Each trial is one remote decision at temperature 1 with its own seed, through `RemoteDecider`
(`remote_dialect: auto`). `--form grammar` sends what the detected dialect sends (the GBNF
grammar on llama.cpp servers); `--form schema` sends the server's own schema form instead
(json_schema on llama-server, json_object+schema on llama-cpp-python), to compare with the
server's own schema-to-grammar conversion. Prints one JSON line of counts.
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
import time

from ministral_node.decision import CommandInfo
from ministral_node.sources import dialects
from ministral_node.sources.base import DeciderError, DecisionRequest
from ministral_node.sources.remote import InvalidOutput, RemoteDecider, RemoteSettings
from ministral_node.timing import Cancellation, Cancelled, Deadline, MonotonicClock

SCHEMA_FORMS = {'llama_cpp': dialects.JSON_SCHEMA, 'llama_cpp_python': dialects.JSON_OBJECT}


def main() -> int:
    cli = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    cli.add_argument('--url', required=True)
    cli.add_argument('--n', type=int, default=50)
    cli.add_argument('--form', choices=('grammar', 'schema'), default='grammar')
    cli.add_argument('--max-tokens', type=int, default=384)
    cli.add_argument('--budget-s', type=float, default=120.0)
    args = cli.parse_args()
    clock = MonotonicClock()
    decider = RemoteDecider(RemoteSettings(url=args.url, max_tokens=args.max_tokens,
                                           temperature=1.0, image_edge=0))
    probe = decider.probe()
    dialect = decider.dialect()
    if args.form == 'schema':
        dialect = dialects.Dialect(dialect.name, SCHEMA_FORMS.get(dialect.name,
                                                                  dialect.structured))
        decider.dialect = lambda: dialect  # this run only: the server's own schema form
    counts: collections.Counter[str] = collections.Counter()
    problems: collections.Counter[str] = collections.Counter()
    sizes, began = [], time.monotonic()
    examples: dict[str, str] = {}
    for trial in range(args.n):
        decider.configure_settings(RemoteSettings(
            url=args.url, max_tokens=args.max_tokens, temperature=1.0, image_edge=0,
            seed=1000 + trial))
        if args.form == 'schema':
            decider.dialect = lambda: dialect
        request = DecisionRequest(CommandInfo(f'c{trial}', 'land here', 0.0))
        try:
            proposal = decider.decide(request, Cancellation(Deadline(clock, args.budget_s)))
            counts['valid'] += 1
            sizes.append(len(json.dumps(proposal.to_dict(), ensure_ascii=False).encode()))
        except InvalidOutput as exc:
            counts['invalid'] += 1
            problems[f'{exc.problem}:{exc.where}'] += 1
            examples.setdefault(exc.problem, str(exc)[:160])
        except (DeciderError, Cancelled) as exc:
            counts['error'] += 1
            problems[str(exc)[:80]] += 1
            examples.setdefault('error', str(exc)[:240])
    print(json.dumps({'url': args.url, 'dialect': dialect.name, 'form': args.form,
                      'probe': probe.reason, 'n': args.n, **counts,
                      'problems': dict(problems.most_common(6)), 'examples': examples,
                      'max_output_bytes': max(sizes, default=0),
                      'seconds': round(time.monotonic() - began, 1)}))
    return 0


if __name__ == '__main__':
    sys.exit(main())
