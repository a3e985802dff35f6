"""Valid action inputs, validated by their models as the handler validates them, for the unit tests."""

from __future__ import annotations

import uuid
from typing import Any

from crm_core.actions.activities.schedule_activity import ScheduleActivityInput

CLIENT_ID = uuid.UUID(int=0xC1)
TYPE_ID = uuid.UUID(int=0x71)


def schedule_input(**changes: Any) -> ScheduleActivityInput:
    """crm.schedule_activity's input for a call "Follow-up call" with client ``CLIENT_ID`` on 2027-03-02 15:00Z,
    with ``changes`` applied (a pydantic ValidationError when they make it invalid)."""
    values: dict[str, Any] = {
        "client_id": str(CLIENT_ID),
        "type_id": str(TYPE_ID),
        "title": "Follow-up call",
        "start_time": "2027-03-02T15:00:00Z",
    }
    return ScheduleActivityInput.model_validate({**values, **changes})
