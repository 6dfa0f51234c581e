"""User management for 政法委 administrators: list users, add one (every change audited)."""
from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from .. import audit
from ..auth import UserError, add_user, all_roles, list_users, role_info
from .common import forbid, render, signed_in


async def users_page(request: Request) -> Response:
    p, actor = signed_in(request)
    if not actor.is_admin:
        raise forbid("用户管理仅限政法委管理员 (administrators only)")
    error = None
    values: dict[str, str] = {}
    if request.method == "POST":
        form = await request.form()
        values = {k: str(form.get(k, "")).strip() for k in ("username", "display_name", "role", "unit")}
        password = str(form.get("password", ""))
        unit = values["unit"] or None
        if unit is not None and actor.unit is not None and not _below(p.pack, actor.unit, unit):
            raise forbid("只能在本人负责的范围内添加用户 (unit outside your scope)")
        if unit is None and actor.unit is not None:
            raise forbid("只能在本人负责的范围内添加用户 (unit outside your scope)")
        try:
            user = add_user(p.db, p.pack, p.slug, values["username"], password, values["role"], unit,
                            values["display_name"])
        except UserError as exc:
            error = str(exc)
        else:
            with p.db.engine.begin() as conn:
                audit.record(conn, p.slug, actor.username, "user.add",
                             {"username": user.username, "role": user.role, "unit": user.unit_code})
            return RedirectResponse(p.url("users?added=" + user.username), status_code=303)
    users = list_users(p.db, p.slug)
    roles = all_roles(p.pack)
    labels = {u.username: (role_info(p.pack, u.role).name if role_info(p.pack, u.role) else u.role) for u in users}
    return render(request, "users.html", p=p, users=users, roles=roles, labels=labels, error=error, values=values,
                  status_code=400 if error else 200)


def _below(pack, top: str, code: str) -> bool:  # type: ignore[no-untyped-def]
    return code in pack.grid.units and any(u.code == top for u in pack.grid.ancestors(code))
