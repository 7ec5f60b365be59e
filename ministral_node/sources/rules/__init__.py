"""Deterministic multilingual rule-based command parser; imports no ROS.

The first decision source and the last fallback below the models. `parse_command(text)` turns
one operator command in English, French, German, Spanish or Italian (accents optional) into a
schema-valid `Proposal` and never raises; `analyse(text)` also gives the detected language and
why the result came out as it did; `RuleDecider` is the `Decider` the pipeline runs.
`CommandAnalysis(text)` keeps the reading of one command with the quantities it says (number
and unit provenance, `provenance`) for whoever looks at it more than once (the verify stage).

Behaviour, in short:
- Numbers in digits (decimal comma outside English) or words; units converted to SI. A number
  without a unit is metres (altitude, distance, radius), m/s (speed), degrees (angles),
  seconds (durations) or a count (photos), and lowers the confidence to 0.8.
- Values are passed through as said (the safety envelope clamps them); impossible ones
  (negative speed, zero distance, 500 photos, a 720° turn) are asked back.
- It asks back (`clarify`, in the operator's language) instead of guessing: missing amounts,
  words it cannot place, several actions, negations, conditions, contradictions, empty text.
  Scene questions are rejected (they need the vision model); "what can you do?" is answered.
- It reads radio speech: fillers and particles are read past, colloquial verbs, infinitives,
  abbreviations and digits said one by one are known, a typo of an action or direction is
  read by edit distance (`spelling`), and up to two unknown words that are no negation,
  number, unit, verb or target are read past. Such a reading is `partial` (`RuleResult`
  `.reason == 'partial'`, `.ignored`; the rationale says what, the confidence drops).
- "stop" in a clause that is not negated or conditional wins over everything else.
"""

from ministral_node.sources.rules.decider import RuleDecider
from ministral_node.sources.rules.numbers import LANGUAGES
from ministral_node.sources.rules.parser import (
    CommandAnalysis,
    RuleResult,
    analyse,
    detect_language,
    parse_command,
)

__all__ = ['LANGUAGES', 'CommandAnalysis', 'RuleDecider', 'RuleResult', 'analyse',
           'detect_language', 'parse_command']
