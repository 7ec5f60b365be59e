"""Decide one operator command in Python, without ROS, and print the decision JSON.

The same pipeline `ministral-decide` and the node run: input screening, the fallback chain,
the safety envelope. The rule parser is enough here, so no model is loaded.

    python examples/decide_one.py "Monte à 30 mètres"
"""

import sys

from ministral_node import parameters
from ministral_node.core.pipeline import DecisionPipeline
from ministral_node.core.settings import Settings
from ministral_node.decision import Decision
from ministral_node.health import HealthBoard
from ministral_node.inputs.camera import LatestFrame
from ministral_node.resources import config_path
from ministral_node.sources.factory import build_sources, close_sources
from ministral_node.timing import MonotonicClock, WallClock


def decide(command: str) -> Decision:
    """The published decision for `command`, decided by the rule parser."""
    values = parameters.load_params_file(config_path('ministral.yaml'))
    values = parameters.with_changes(values, {'decision_sources': ['rules']})
    clock = MonotonicClock()
    health = HealthBoard(clock)
    frames = LatestFrame(int(values['max_image_pixels']))  # no camera: decided on words alone
    sources = build_sources(values, health)
    try:
        pipeline = DecisionPipeline.from_settings(Settings.from_values(values), sources, frames,
                                                  clock, WallClock(), health)
        return pipeline.decide(command)
    finally:
        close_sources(sources)


if __name__ == '__main__':
    print(decide(sys.argv[1] if len(sys.argv) > 1 else 'take off to 20 m').to_json())
