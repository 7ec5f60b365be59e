"""The rule parser as a decision source."""

from __future__ import annotations

from ministral_node.decision import Proposal
from ministral_node.sources.base import DecisionRequest, ModelFreeSource
from ministral_node.sources.rules.parser import parse_command
from ministral_node.timing import Cancellation


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
