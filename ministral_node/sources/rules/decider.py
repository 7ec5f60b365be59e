"""The rule parser as a decision source."""

from __future__ import annotations

from ministral_node.decision import Proposal, targets_of
from ministral_node.sources.base import DecisionRequest, ModelFreeSource
from ministral_node.sources.rules.parser import RuleResult, analyse, parse_command
from ministral_node.timing import Cancellation

# The parser's confidence when it read the whole command (lower: other words were present and
# "stop" won over them, or a number came without its unit).
COMPLETE = 1.0


def complete_reading(text: str, takeoff_altitude_m: float | None = None) -> RuleResult | None:
    """The parser's reading of `text` when it is complete, else None: parsed at full
    confidence, naming no target (in no step: a target needs the camera), not a question."""
    if '?' in text:
        return None
    result = analyse(text, takeoff_altitude_m=takeoff_altitude_m)
    proposal = result.proposal
    if result.reason != 'parsed' or proposal.confidence < COMPLETE or targets_of(proposal):
        return None
    return result


class RuleDecider(ModelFreeSource):
    """Decides from the command text alone with the rule parser; needs no model or camera."""

    source = 'rules'

    def __init__(self, takeoff_altitude_m: float | None = None) -> None:
        """`takeoff_altitude_m`: altitude for a bare "take off"; None asks the operator."""
        self.takeoff_altitude_m = takeoff_altitude_m

    def decide(self, request: DecisionRequest, cancel: Cancellation) -> Proposal:
        """The rule parser's proposal for the request's command text."""
        cancel.check()
        return parse_command(request.command.text, takeoff_altitude_m=self.takeoff_altitude_m)

    def complete(self, text: str) -> Proposal | None:
        """The proposal when the parser reads `text` completely (`complete_reading`)."""
        result = complete_reading(text, self.takeoff_altitude_m)
        return None if result is None else result.proposal
