"""Case actions through the cases service (``wangge.core.cases.service.act``) and the workflow machine.

An API token is an integration, not a person: the body names the role it acts in (a grid role with the
unit it acts from, or ``department:<id>``), checked by the workflow like any portal user's. A token
confined to a unit may only act from inside that unit.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from wangge.core.cases.service import ConcurrentUpdate, act
from wangge.core.cases.versions import VersionConflict
from wangge.core.pack.model import Pack
from wangge.core.workflow import Actor, WorkflowError
from wangge.web.deployment import County

from .auth import Principal, denied_unit
from .errors import ApiError, invalid

# WorkflowError codes that mean "not now / not you" rather than "your input is wrong".
CONFLICT_CODES = frozenset({"WRONG_STATE", "RETURN_WINDOW", "RETURN_LIMIT", "REWORK_LIMIT", "EXTENSION_LIMIT",
                            "EXTENSION_CAP", "LADDER_TOP", "NOT_SUMMONED", "CONDITION_FALSE", "NO_WORKFLOW"})


def actor_of(pack: Pack, principal: Principal, body: Mapping[str, Any]) -> Actor:
    role = body.get("role")
    if not isinstance(role, str) or not role:
        raise invalid({"role": "请给出办理角色 role:网格角色 id(同时给 unit)或 department:<部门 id>"})
    unit = body.get("unit")
    if role.startswith("department:"):
        dept = role.split(":", 1)[1]
        if dept not in pack.departments:
            raise invalid({"role": f'部门 "{dept}" 不存在于规则包 (unknown department)'})
    elif unit is None or unit not in pack.grid.units:
        raise invalid({"unit": "以网格角色办理时须给出所在网格单元 unit (the unit the role acts from)"})
    elif principal.unit and not any(u.code == principal.unit for u in pack.grid.ancestors(unit)):
        raise denied_unit(principal, unit)
    return Actor.of(role, unit, actor_id=f"{principal.actor}:{body.get('actor') or role}"[:128])


def apply(db: Any, county: County, row: Mapping[str, Any], body: Mapping[str, Any], principal: Principal,
          observe: Any = None) -> dict:
    """Run the action (blocking); ApiError for anything the caller must fix or retry."""
    pack = county.pack
    actor = actor_of(pack, principal, body)
    data = body.get("data") or {}
    if not isinstance(data, Mapping):
        raise invalid({"data": "data 必须是 JSON 对象"})
    expected = body.get("expected_seq")
    if expected is not None and (not isinstance(expected, int) or isinstance(expected, bool)):
        raise invalid({"expected_seq": "expected_seq 必须是整数"})
    try:
        case = act(db, county.slug, pack, row["id"], body["action"], actor, str(body.get("note") or ""),
                   dict(data), expected_seq=expected, observe=observe)
    except ConcurrentUpdate as exc:
        raise ApiError(409, "CONCURRENT_UPDATE", str(exc)) from None
    except WorkflowError as exc:
        if exc.code == "NOT_ALLOWED":
            raise ApiError(403, exc.code, exc.message) from None
        if exc.code in CONFLICT_CODES:
            raise ApiError(409, exc.code, exc.message) from None
        field = {"UNKNOWN_ACTION": "action", "NOTE_REQUIRED": "note", "FORM_REQUIRED": "data"}.get(exc.code, "data")
        raise ApiError(422, exc.code, exc.message, {field: exc.message}) from None
    except VersionConflict as exc:
        raise ApiError(409, "VERSION_CONFLICT", str(exc)) from None
    return {"action": body["action"], "actor": actor.id, "role": actor.role, "state": case.state, "seq": case.seq}


def available(pack: Pack, row: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The transitions that may start from the case's state (who may take them is in ``roles``)."""
    wf = pack.workflow
    if wf is None:
        return []
    return [{"id": t.id, "name": t.name, "kind": t.kind, "to": t.to, "roles": list(t.roles),
             "note_required": t.note_required, "form": t.form}
            for t in wf.transitions if t.leaves(row["state"], wf.open_states)]


