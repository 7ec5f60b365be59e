"""Onboard inference for Ministral 3 (ONNX, 4-bit weights) with ONNX Runtime; no ROS here.

`VisionLanguageEngine` is the entry point; the modules below it hold one concept each:
model files, tokenizer, image preprocessing, prompt layout, sessions, and the decode loop.
"""

from ministral_node.engine.engine import EngineOptions, GenerationResult, VisionLanguageEngine
from ministral_node.engine.generation import GenerationOptions
from ministral_node.engine.model_files import ModelError

__all__ = ['EngineOptions', 'GenerationOptions', 'GenerationResult', 'ModelError',
           'VisionLanguageEngine']
