"""What a network is fed: the input contract a checkpoint carries, and the one preprocessing implementation.

Kept apart from ``pipeline/dataset`` (the data stages' code) so that training-time normalisation
changes never re-run generate/validate/prepare, and apart from ``pipeline/training`` so that the
evaluate stages do not depend on the trainer.
"""
