"""params.yaml as every stage loads it: the schema (pipeline/core/params.py) plus each model and loss spec
run through its own registry (load), and the versioned profiles applied on top of it (profiles).

A layer of its own, above pipeline/models and pipeline/training, because the one strict check asks
their registries: pipeline/core stays below every package that reads the schema.
"""
