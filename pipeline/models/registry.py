"""The model registry: ``build_model({"family": ..., ...}, num_classes)`` for any registered family.

A family is one module in ``pipeline/models/`` whose builder carries ``@register_family("name", rules)``;
its keyword arguments are the keys allowed in params.yaml ``models.<name>``, and ``rules`` give each option's
range as params schema rules, so ``width: 0`` is refused as ``models.teacher.width`` when params are loaded. save/load store the
full spec beside the weights, so a checkpoint rebuilds its model with nothing else at hand.
"""

from __future__ import annotations

import importlib
import inspect
import os
import pkgutil
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import torch
from torch import nn

from pipeline.core.specs import Float, Int, Spec

DROPOUT = Float(min=0, max=1, max_exclusive=True)  # families' rules shared by several of them
STEM_STRIDE = Int(min=1, max=2)

FAMILY_KEY = "family"
DEFAULT_FAMILY = "resemotenet"


@dataclass(frozen=True)
class Family:
    name: str
    build: Callable[..., nn.Module]  # keyword arguments = the spec's keys, plus num_classes
    options: tuple[str, ...]  # allowed spec keys (besides family)
    rules: Mapping[str, Spec] = field(default_factory=dict)  # each option's range (its default is the builder's)


_FAMILIES: dict[str, Family] = {}
_discovered = False


def register_family(name: str, rules: Mapping[str, Spec] | None = None
                    ) -> Callable[[Callable[..., nn.Module]], Callable[..., nn.Module]]:
    """Decorator: make ``build(**options, num_classes)`` the builder of family ``name``; ``rules``: option -> rule."""

    def wrap(build: Callable[..., nn.Module]) -> Callable[..., nn.Module]:
        options = tuple(p for p in inspect.signature(build).parameters if p != "num_classes")
        _FAMILIES[name] = Family(name, build, options, dict(rules or {}))
        return build

    return wrap


def families() -> dict[str, Family]:
    """Every family in the package (modules imported once, on first use)."""
    global _discovered
    if not _discovered:
        import pipeline.models as package

        for info in pkgutil.iter_modules(package.__path__):
            importlib.import_module(f"{package.__name__}.{info.name}")
        _discovered = True
    return _FAMILIES


def normalise_spec(spec: Mapping[str, Any], where: str = "model spec") -> dict[str, Any]:
    """The spec with its family filled in; unknown families and keys, and options out of their rule's range, are
    errors naming ``where`` (a ParamsError naming ``where.<option>`` for the latter)."""
    spec = {FAMILY_KEY: DEFAULT_FAMILY, **spec}
    spec.pop("num_classes", None)  # the class count comes from the data, never from params
    known = families()
    family = known.get(spec[FAMILY_KEY])
    if family is None:
        raise ValueError(f"{where}: unknown family {spec[FAMILY_KEY]!r}; known: {', '.join(sorted(known))}")
    unknown = [k for k in spec if k != FAMILY_KEY and k not in family.options]
    if unknown:
        raise ValueError(f"{where}: unknown key {unknown[0]!r} for family {family.name}; allowed: "
                         f"{', '.join(family.options)}")
    key = where.removeprefix("params.yaml: ")
    for option, rule in family.rules.items():
        if option in spec:
            rule.check(spec[option], f"{key}.{option}")  # checked only: the spec keeps the values as written
    return spec


def build_model(spec: dict[str, Any], num_classes: int, where: str = "model spec") -> nn.Module:
    """The one factory; the returned model carries ``model_spec`` (the normalised spec + num_classes)."""
    spec = normalise_spec(spec, where)
    family = families()[spec[FAMILY_KEY]]
    options = {k: v for k, v in spec.items() if k != FAMILY_KEY}
    try:
        model = family.build(**options, num_classes=int(num_classes))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{where}: {exc}") from None
    model.model_spec = {**spec, "num_classes": int(num_classes)}
    return model


def check_input_size(spec: dict[str, Any], num_classes: int, input_size: int, where: str) -> None:
    """Fail before training when ``input_size`` is too small for the architecture (one tiny forward pass)."""
    model = build_model(spec, num_classes, where).eval()
    try:
        with torch.no_grad():
            model(torch.zeros(1, 3, input_size, input_size))
    except RuntimeError as exc:
        first = str(exc).splitlines()[0]
        raise ValueError(f"params.yaml: train.input_size {input_size} is too small for {where} "
                         f"(family {spec.get(FAMILY_KEY, DEFAULT_FAMILY)}): {first}") from None


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def save_model(path: str | os.PathLike, model: nn.Module, **meta: Any) -> None:
    """Save weights plus what is needed to rebuild the model (spec) and to use it (meta: classes, input size...)."""
    from pipeline.core.atomic import save_torch

    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    meta = {k: str(v) if isinstance(v, str) else v for k, v in meta.items()}  # plain str (weights_only loading)
    save_torch(path, {"model": state, "spec": dict(model.model_spec), "meta": meta})


def load_model(path: str | os.PathLike, map_location: str | torch.device = "cpu") -> tuple[nn.Module, dict]:
    """Rebuild any family's model saved by :func:`save_model` (weights_only loading); returns (model, meta)."""
    if not os.path.exists(path):
        raise FileNotFoundError(f"model checkpoint not found: {path}")
    blob = torch.load(path, map_location=map_location, weights_only=True)
    spec = dict(blob["spec"])
    num_classes = spec.pop("num_classes")
    model = build_model(spec, num_classes, where=str(path))
    model.load_state_dict(blob["model"], strict=True)
    return model.to(map_location), dict(blob.get("meta", {}))
