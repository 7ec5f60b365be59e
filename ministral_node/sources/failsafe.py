"""The failsafe source: the bottom of the fallback chain, which always answers."""

from __future__ import annotations

from ministral_node.decision import Proposal
from ministral_node.sources.base import DecisionRequest, ModelFreeSource
from ministral_node.timing import Cancellation


class FailsafeDecider(ModelFreeSource):
    """The bottom of the chain: holds position when no other source could decide."""

    source = 'failsafe'

    def decide(self, request: DecisionRequest, cancel: Cancellation) -> Proposal:
        return Proposal('hold', {'duration_s': None}, None, 1.0,
                        'no decision source could answer; holding position')
