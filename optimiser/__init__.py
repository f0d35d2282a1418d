"""Training commission optimiser for the psychological professions in England."""

__version__ = "0.1.0"
