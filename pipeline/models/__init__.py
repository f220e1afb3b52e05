"""Model families behind one registry: build, count, save and load any of them by spec."""

from pipeline.models.registry import (build_model, check_input_size, count_parameters, families, load_model,
                                      normalise_spec, register_family, save_model)

__all__ = ["build_model", "check_input_size", "count_parameters", "families", "load_model", "normalise_spec",
           "register_family", "save_model"]
