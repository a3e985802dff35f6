"""What an action declares about itself: id, version, label, models, permissions, idempotency, logic."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar, cast, get_type_hints

from pydantic import BaseModel

from crm_core.dal.access import PermissionNeed

if TYPE_CHECKING:
    from crm_core.runtime.context import ActionContext

__all__ = ["ActionSpec", "IdempotencyMode", "PermissionNeed", "action_spec", "requires"]

InputT = TypeVar("InputT", bound=BaseModel)
OutputT = TypeVar("OutputT", bound=BaseModel)

IdempotencyMode = Literal["engineProvided", "actionProvided"]


def requires(*needs: str) -> Callable[[Any], Sequence[PermissionNeed]]:
    """The permissions of an action that needs the same ``resource:action`` permissions whatever its input."""
    fixed = tuple(PermissionNeed(*need.split(":", 1)) for need in needs)
    return lambda _data: fixed


# The id an action's ``rehearsal_input`` uses for every record: the nil UUID, also the tenant and actor of the
# init phase's rehearsal (no tenant has it, so every read of the rehearsal is empty).
REHEARSAL_ID = "00000000-0000-0000-0000-000000000000"


@dataclass(frozen=True)
class ActionSpec(Generic[InputT, OutputT]):
    """One ``crm.*`` action. Each action module exposes one as ``SPEC``; the registry collects them.

    ``permissions`` returns what the actor needs for a given input, checked before ``run`` is called;
    permissions that depend on the data (for example ``tag:create`` for a new tag) are checked by ``run``
    itself through ``ActionContext.require``.
    """

    id: str
    version: int
    label: str
    description: str
    input_model: type[InputT]
    output_model: type[OutputT]
    run: Callable[[ActionContext, InputT], OutputT]
    permissions: Callable[[InputT], Sequence[PermissionNeed]]
    side_effectful: bool = True
    idempotency: IdempotencyMode = "engineProvided"
    category: str = "Business Operations"
    # An input the init phase rehearses the action with, as a dry run under a tenant that has no rows
    # (crm_core.runtime.warmup): it compiles the action's statements and warms the database session for the
    # first call. None: only the call's opening statement is rehearsed.
    rehearsal_input: dict[str, Any] | None = None
    # One-time work of the action beyond its statements (for example loading the PDF fonts), run at init.
    prepare: Callable[[], None] | None = None
    # The AWS services its effects are delivered to ("events", "sesv2", "s3"): their clients are created, and
    # their operation rehearsed without sending it, at init (crm_core.aws.clients.rehearse_effect_client).
    effect_services: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        """The function folder and sample event name: the id without ``crm.``."""
        return self.id.split(".", 1)[1]

    @property
    def qualified_id(self) -> str:
        return f"{self.id}@{self.version}"

    @property
    def records_invocations(self) -> bool:
        """Whether calls are exactly-once per idempotency key (read-only actions record nothing)."""
        return self.side_effectful

    def catalog_entry(self) -> dict[str, Any]:
        """This action's entry in the designer catalog (`crm-actions catalog`): id, label, modes and JSON Schemas."""
        from crm_core.runtime.schemas import input_json_schema, output_json_schema

        input_schema = input_json_schema(self.input_model)
        output_schema = output_json_schema(self.output_model)
        return {
            "id": self.id,
            "version": self.version,
            "label": self.label,
            "description": self.description,
            "category": self.category,
            "sideEffectful": self.side_effectful,
            "idempotency": {"mode": self.idempotency},
            "inputSchema": input_schema,
            "outputSchema": output_schema,
            "inputFieldNames": sorted(input_schema.get("properties", {})),
            "outputFieldNames": sorted(output_schema.get("properties", {})),
        }


def action_spec(
    run: Callable[[ActionContext, InputT], OutputT],
    *,
    label: str,
    description: str,
    permissions: Callable[[InputT], Sequence[PermissionNeed]],
    side_effectful: bool = True,
    version: int = 1,
    rehearsal_input: dict[str, Any] | None = None,
    prepare: Callable[[], None] | None = None,
    effect_services: tuple[str, ...] = (),
) -> ActionSpec[InputT, OutputT]:
    """The spec of the action whose logic is ``run``: its id is ``crm.`` and the function's name, its input and
    output models are the ones the function's signature names, and its idempotency is ``actionProvided`` when
    its input has an ``idempotency_key`` field (the caller may key the call itself), else ``engineProvided``;
    so an action module states each of them once.
    """
    from crm_core.runtime.context import ActionContext

    hints = get_type_hints(run, localns={"ActionContext": ActionContext})
    *_, data_param = (name for name in hints if name != "return")
    input_model, output_model = hints[data_param], hints["return"]
    for model in (input_model, output_model):
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            raise TypeError(f"{run.__qualname__} must take and return pydantic models, not {model!r}")
    return ActionSpec(
        id=f"crm.{run.__name__}",
        version=version,
        label=label,
        description=description,
        input_model=cast("type[InputT]", input_model),
        output_model=cast("type[OutputT]", output_model),
        run=run,
        permissions=permissions,
        side_effectful=side_effectful,
        idempotency="actionProvided" if "idempotency_key" in input_model.model_fields else "engineProvided",
        rehearsal_input=rehearsal_input,
        prepare=prepare,
        effect_services=effect_services,
    )
