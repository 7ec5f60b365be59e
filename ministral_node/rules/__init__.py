"""Deterministic multilingual rule-based command parser (English, French, German, Spanish,
Italian): the first decision source and the last fallback below the models. Imports no ROS.
"""

from ministral_node.rules.decider import RuleDecider
from ministral_node.rules.numbers import LANGUAGES
from ministral_node.rules.parser import RuleResult, analyse, detect_language, parse_command

__all__ = ['LANGUAGES', 'RuleDecider', 'RuleResult', 'analyse', 'detect_language',
           'parse_command']
