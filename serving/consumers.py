"""Systems that read the resident file through the open API (`schemas/consumers.yaml`), loaded and checked.

A consumer is granted like a person's role (serving/roles.py, the same `parse_grant`): a clearance, from which the
fields it receives follow (`cleared_fields`, from the model's sensitivity classes), and the named emergency queries
it is given. So a consumer *is* a `Role` for the queries and the columns, plus what only systems have: a client id,
municipalities, a purpose, operations and a rate limit.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from schemas.loader import load_yaml
from serving.roles import Role, cleared_fields, parse_grant

FILE = "consumers.yaml"
Operation = Literal["resident", "lookup", "search", "household", "feed", "emergency_lists"]
OPERATIONS: tuple[str, ...] = Operation.__args__


class ConsumerError(ValueError):
    """consumers.yaml is inconsistent (names the file and the key)."""


class _ConsumerSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    client_id: str = Field(min_length=1)
    title_he: str
    purpose: str = Field(min_length=1)
    municipalities: list[int] = Field(min_length=1)
    clearance: str
    operations: list[Operation] = Field(min_length=1)
    queries: list[str] | Literal["all"] = []
    requests_per_minute: int = Field(gt=0, le=100_000)

    @field_validator("municipalities")
    @classmethod
    def _cbs_codes(cls, v: list[int]) -> list[int]:
        if any(not 0 < m < 100_000 for m in v):
            raise ValueError("a municipality is a CBS locality code")
        return v


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid")
    scopes: dict[Operation, str]
    consumers: dict[str, dict]


@dataclass(frozen=True)
class Consumer:
    name: str
    client_id: str
    title_he: str
    purpose: str
    municipalities: frozenset[int]
    operations: frozenset[str]
    requests_per_minute: int
    role: Role                       # clearance and queries, with the roles' own rules

    @property
    def clearance(self) -> str:
        return self.role.clearance

    def resident_fields(self) -> list[str]:
        """The resident-file fields this consumer may receive."""
        return cleared_fields("resident_file", self.clearance)

    def may(self, operation: str) -> bool:
        return operation in self.operations


@dataclass(frozen=True)
class Consumers:
    by_client: dict[str, Consumer]
    scopes: dict[str, str]           # operation -> the token scope it needs

    def of_client(self, client_id: str) -> Consumer | None:
        return self.by_client.get(client_id)


def _where(name: str, error: ValidationError) -> str:
    first = error.errors()[0]
    key = ".".join(str(p) for p in first["loc"])
    return f"{FILE}: consumers.{name}.{key}: {first['msg']}"


def parse_consumers(raw: dict) -> Consumers:
    """Consumers from the parsed YAML; ConsumerError names the file and the key of the first problem."""
    try:
        doc = _File.model_validate(raw)
    except ValidationError as e:
        first = e.errors()[0]
        raise ConsumerError(f"{FILE}: {'.'.join(str(p) for p in first['loc'])}: {first['msg']}") from None
    missing = set(OPERATIONS) - set(doc.scopes)
    if missing:
        raise ConsumerError(f"{FILE}: scopes: no scope for operations {sorted(missing)}")
    by_client: dict[str, Consumer] = {}
    for name, spec in doc.consumers.items():
        try:
            c = _ConsumerSpec.model_validate(spec)
        except ValidationError as e:
            raise ConsumerError(_where(name, e)) from None
        try:
            clearance, queries = parse_grant(f"{FILE}: consumers.{name}", spec)
        except ValueError as e:
            raise ConsumerError(str(e)) from None
        if queries and "emergency_lists" not in c.operations:
            raise ConsumerError(f"{FILE}: consumers.{name}.queries: given without the emergency_lists operation")
        if c.client_id in by_client:
            raise ConsumerError(f"{FILE}: consumers.{name}.client_id: also the client id of "
                                f"{by_client[c.client_id].name}")
        role = Role(name=name, title_he=c.title_he, description=c.purpose, clearance=clearance,
                    queries=queries if "emergency_lists" in c.operations else frozenset())
        by_client[c.client_id] = Consumer(
            name=name, client_id=c.client_id, title_he=c.title_he, purpose=" ".join(c.purpose.split()),
            municipalities=frozenset(c.municipalities), operations=frozenset(c.operations),
            requests_per_minute=c.requests_per_minute, role=role)
    return Consumers(by_client=by_client, scopes=dict(doc.scopes))


@lru_cache(maxsize=None)
def load_consumers() -> Consumers:
    return parse_consumers(load_yaml(FILE))
