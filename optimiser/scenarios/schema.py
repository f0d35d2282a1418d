"""The scenario file's schema: strict, frozen pydantic models of a file, its scenarios, their
overrides and sweep ranges.
"""

from __future__ import annotations

import math
import re
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from optimiser.scenarios.overrides import MAX_CASES, Op, Scalar, pydantic_message, parse_compact


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RangeSpec(_Frozen):
    """``{start: 0.5, stop: 1.5, step: 0.1}``: start, start+step, ... up to stop (inclusive)."""

    start: float
    stop: float
    step: float

    @model_validator(mode="after")
    def _sane(self) -> RangeSpec:
        for name in ("start", "stop", "step"):
            if not math.isfinite(getattr(self, name)):
                raise ValueError(f"{name} must be a finite number")
        if self.step == 0 or (self.stop - self.start) * self.step < 0:
            raise ValueError("step must be non-zero and go from start towards stop")
        if len(self.values()) > MAX_CASES:
            raise ValueError(f"the range has more than {MAX_CASES} values")
        return self

    def values(self) -> list[float]:
        count = int(math.floor((self.stop - self.start) / self.step + 1e-9)) + 1
        return [round_value(self.start + i * self.step) for i in range(min(count, MAX_CASES + 1))]


def round_value(x: float) -> float:
    """Tidy floating-point noise of ``start + i * step`` (0.30000000000000004 -> 0.3)."""
    return float(f"{x:.12g}")


def evenly_spaced(start: float, stop: float, count: int) -> list[float]:
    """``count`` values from ``start`` to ``stop`` (both included), tidied as a range's values are."""
    if count <= 1:
        return [round_value(start)]
    return [round_value(start + (stop - start) * i / (count - 1)) for i in range(count)]


class OverrideSpec(_Frozen):
    """One override as written in a scenario file (structured, or the compact string)."""

    target: str = Field(pattern=r"^[A-Za-z_]\w*\.[A-Za-z_]\w*$")
    where: dict[str, Scalar | list[Scalar]] = Field(default_factory=dict)
    set_: Any = Field(default=None, alias="set")
    scale: float | list[float] | RangeSpec | None = None
    add: float | list[float] | RangeSpec | None = None
    label: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_.-]+$")

    @model_validator(mode="before")
    @classmethod
    def _compact(cls, data: Any) -> Any:
        if isinstance(data, str):
            return parse_compact(data)
        value = data.get("set") if isinstance(data, dict) else None
        if isinstance(value, dict) and set(value) == {"start", "stop", "step"}:  # a range of set values
            try:
                return {**data, "set": RangeSpec.model_validate(value)}
            except ValidationError as exc:
                raise ValueError("set: " + "; ".join(pydantic_message(e) for e in exc.errors())) from None
        return data

    @model_validator(mode="after")
    def _one_operation(self) -> OverrideSpec:
        given = [op for op, name in (("set", "set_"), ("scale", "scale"), ("add", "add"))
                 if name in self.model_fields_set]
        if len(given) != 1:
            raise ValueError("give exactly one of set, scale or add" + (f" (found {', '.join(given)})" if given else ""))
        return self

    @property
    def op(self) -> Op:
        return "set" if "set_" in self.model_fields_set else "scale" if "scale" in self.model_fields_set else "add"

    @property
    def raw_value(self) -> Any:
        return {"set": self.set_, "scale": self.scale, "add": self.add}[self.op]


class ScenarioSpec(_Frozen):
    """A named scenario: settings, then overrides, applied in order over the base dataset."""

    description: str | None = None
    settings: dict[str, Any] = Field(default_factory=dict)
    overrides: list[OverrideSpec] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        if data is None:
            return {}
        if isinstance(data, list):
            return {"overrides": data}
        return data


_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+=-]{0,99}$")


def check_name(name: Any) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(f"scenario name {name!r} must be 1-100 letters, digits, '_', '.', '-', '+' or '=', "
                         "starting with a letter or digit (it names a results folder)")
    return name


ScenarioName = Annotated[str, BeforeValidator(check_name)]


class ScenarioFile(_Frozen):
    """The whole file: an optional base dataset and the named scenarios."""

    base: str | None = None
    description: str | None = None
    scenarios: dict[ScenarioName, ScenarioSpec] = Field(min_length=1)
