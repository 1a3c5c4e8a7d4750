"""Profiles and the model catalog, read from the package's JSON data files once."""

from __future__ import annotations

import dataclasses
import functools
import json
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from mockspike.model.errors import ApiError


def _data(name: str) -> Any:
    return json.loads(resources.files(__package__).joinpath(name).read_text("utf-8"))


@dataclass(frozen=True)
class Model:
    id: str
    aliases: tuple[str, ...]
    family: str
    display_name: str
    created_at: str
    max_tokens: int
    context_window: int
    cache_min_tokens: int
    price_input: float
    price_output: float
    quirks: frozenset[str] = field(default_factory=frozenset)
    unsupported: tuple[str, ...] = ()
    features: frozenset[str] = field(default_factory=frozenset)
    """What only some models take: `system_messages` (`role: "system"` turns), `context_1m`
    (the `context-1m` beta widens the context window to 1M tokens)."""
    effort: tuple[str, ...] = ()
    """The `output_config.effort` levels the model takes (empty: no effort parameter)."""
    lifecycle: str = "active"
    """`active`, `deprecated` (still served) or `retired` (listed by `/v1/models` on request,
    refused by every other endpoint as the API refuses an unknown model)."""
    deprecated_at: str | None = None
    retires_at: str | None = None

    def info(self) -> dict[str, Any]:
        """The ModelInfo object `GET /v1/models` returns, with the fields the API has today."""
        return {
            "type": "model",
            "id": self.id,
            "display_name": self.display_name,
            "created_at": self.created_at,
            "max_input_tokens": self.context_window,
            "max_tokens": self.max_tokens,
            "lifecycle": self.lifecycle,
            "line": self.family,
            "deprecated_at": self.deprecated_at,
            "retires_at": self.retires_at,
            "capabilities": self.capabilities(),
        }

    def capabilities(self) -> dict[str, Any]:
        """`capabilities` as the API describes a model: every key present, `supported` each."""

        def yes(flag: bool = True) -> dict[str, bool]:
            return {"supported": flag}

        levels = ("low", "medium", "high", "xhigh", "max")
        adaptive = "thinking.adaptive" not in self.unsupported
        return {
            "batch": yes(),
            "citations": yes(),
            "code_execution": yes(),
            "context_management": yes(),
            "effort": {
                "supported": bool(self.effort),
                **{x: yes(x in self.effort) for x in levels},
            },
            "image_input": yes(),
            "pdf_input": yes(),
            "server_tools": {"supported": True, "code_execution": yes(), "web_search": yes()},
            "structured_outputs": yes(),
            "thinking": {
                "supported": True,
                "types": {
                    "adaptive": yes(adaptive),
                    "between_tools": yes(False),
                    "disabled": yes(),
                    "enabled": yes(),
                },
            },
        }


@dataclass(frozen=True)
class Profile:
    """Everything that differs between the gateway and the upstream API, as data."""

    name: str
    base_url: str
    models: tuple[Model, ...]
    echo_model: bool
    message_id_prefix: str
    unsupported_param_status: int
    credits_header: str | None
    statuses: frozenset[int]
    max_body_bytes: int
    full_usage: bool
    default_rate_limits: dict[str, int]
    """Per key, when the configuration sets none: requests and tokens a minute."""
    upstream_errors: dict[str, Any] | None
    """How the gateway wraps 5xx: a message prefix and headers (None: passed as is)."""
    retired: tuple[Model, ...] = ()
    """Models the profile once served, now retired: described by `/v1/models` (listed only
    when asked for), refused everywhere else as unknown."""
    not_served: frozenset[str] = frozenset()
    """Endpoint names (`engine/endpoints.py`) this profile answers with 404, as a path it
    does not route (docs/contract.md says why)."""
    _by_name: dict[str, Model] = field(default_factory=dict, repr=False, compare=False)
    _retired_by_name: dict[str, Model] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        for models, names in ((self.models, self._by_name), (self.retired, self._retired_by_name)):
            for model in models:
                names[model.id] = model
                for alias in model.aliases:
                    names[alias] = model

    @property
    def model_names(self) -> frozenset[str]:
        """Every id and alias the profile serves."""
        return frozenset(self._by_name)

    def model(self, name: str) -> Model:
        """Resolve an id or alias; unknown and retired names are the API's 404 (it words a
        retired model as an unknown one)."""
        try:
            return self._by_name[name]
        except KeyError:
            raise ApiError(404, f"model: {name}") from None

    def model_info(self, name: str) -> Model:
        """Resolve an id or alias, retired ones too (`GET /v1/models/{id}` still describes
        them: the catalogue keeps the record of a retirement)."""
        found = self._retired_by_name.get(name)
        return found if found is not None else self.model(name)

    def with_retired_served(self) -> Profile:
        """This profile with its retired models served again, as they were before they
        retired: `mockspike cassette check` judges a recording made then as the API did."""
        revived = tuple(dataclasses.replace(m, lifecycle="active") for m in self.retired)
        return dataclasses.replace(
            self, models=self.models + revived, retired=(), _by_name={}, _retired_by_name={}
        )

    def response_model(self, requested: str, model: Model) -> str:
        """The `model` field of a reply: echoed (gateway) or the dated id (upstream)."""
        return requested if self.echo_model else model.id

    def message_id_stem(self, model: Model) -> str:
        return self.message_id_prefix.format(family=model.family)


@functools.cache
def _catalog() -> dict[str, Model]:
    out = {}
    for m in _data("models.json")["models"]:
        out[m["id"]] = Model(
            id=m["id"],
            aliases=tuple(m["aliases"]),
            family=m["family"],
            display_name=m["display_name"],
            created_at=m["created_at"],
            max_tokens=m["max_tokens"],
            context_window=m["context_window"],
            cache_min_tokens=m["cache_min_tokens"],
            price_input=m["price"]["input"],
            price_output=m["price"]["output"],
            quirks=frozenset(m["quirks"]),
            unsupported=tuple(m["unsupported"]),
            features=frozenset(m.get("features", ())),
            effort=tuple(m.get("effort", ())),
            lifecycle=m.get("lifecycle", "active"),
            deprecated_at=m.get("deprecated_at"),
            retires_at=m.get("retires_at"),
        )
    return out


@functools.cache
def cache_price_multipliers() -> dict[str, float]:
    """Cache writes (5m, 1h) and reads as multiples of a model's input price."""
    multipliers: dict[str, float] = _data("models.json")["cache_price_multipliers"]
    return multipliers


def profile_names() -> list[str]:
    files = resources.files(__package__).joinpath("profiles").iterdir()
    return sorted(f.name.removesuffix(".json") for f in files if f.name.endswith(".json"))


@functools.cache
def load_profile(name: str) -> Profile:
    """The named profile; a clear ValueError names the ones that exist."""
    if name not in profile_names():
        raise ValueError(f"unknown profile {name!r}; choose one of: {', '.join(profile_names())}")
    raw = _data(f"profiles/{name}.json")
    catalog = _catalog()
    models = [
        dataclasses.replace(catalog[i], **raw.get("model_overrides", {}).get(i, {}))
        for i in raw["models"]
    ]
    return Profile(
        name=raw["name"],
        base_url=raw["base_url"],
        models=tuple(m for m in models if m.lifecycle != "retired"),
        retired=tuple(m for m in models if m.lifecycle == "retired"),
        echo_model=raw["echo_model"],
        message_id_prefix=raw["message_id_prefix"],
        unsupported_param_status=raw["unsupported_param_status"],
        credits_header=raw["credits_header"],
        statuses=frozenset(raw["statuses"]),
        max_body_bytes=raw["max_body_bytes"],
        full_usage=raw["full_usage"],
        upstream_errors=raw["upstream_errors"],
        default_rate_limits=raw["default_rate_limits"],
        not_served=frozenset(raw.get("not_served", ())),
    )
