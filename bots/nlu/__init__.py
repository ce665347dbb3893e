"""Embedded intent classifier: calibrated intents for English and Chinese, with an out-of-scope answer."""

from bots.nlu.classifier import MODES, HeldOut, IntentClassifier, TrainingSummary
from bots.nlu.errors import MissingExtraError, ModelFormatError
from bots.nlu.types import Prediction, Progress, TrainingExample

__all__ = [
    "MODES",
    "HeldOut",
    "IntentClassifier",
    "MissingExtraError",
    "ModelFormatError",
    "Prediction",
    "Progress",
    "TrainingExample",
    "TrainingSummary",
]
