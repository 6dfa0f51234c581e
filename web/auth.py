"""Portal users: passwords, roles bound to units, scope, and the CSRF token of a session.

A user belongs to one county (tenant) and holds one role bound to one unit of that county's grid:

* a grid role of the pack (``grid_worker``, ``grid_leader``, ``command`` …) at a unit of the role's level;
* ``dept:<id>`` — a department of the pack, at a unit of the department's level (none for ``above``);
* ``admin`` — 政法委 administrator, for the whole county (or a unit, if given);
* ``resident`` — a resident of a unit (usually a grid), who reports and follows their own events.

The user's *scope* is their unit and everything below it (the whole county when the unit is None).
Passwords are hashed with scrypt (n=2**14, r=8, p=1, a random salt per user) and compared in constant time.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import select, update

from wangge.core.pack.model import Pack
from wangge.core.store import Database
from wangge.core.store.tables import users

SCRYPT_N, SCRYPT_R, SCRYPT_P = 2 ** 14, 8, 1
ADMIN, RESIDENT, DEPT = "admin", "resident", "dept:"
MIN_PASSWORD = 8


# ---------------------------------------------------------------- passwords

def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        candidate = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p),
                                   dklen=len(digest) // 2)
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(candidate.hex(), digest)


# A hash nobody's password matches: checking an unknown user costs the same time as checking a known one,
# so login timing does not reveal which user names exist.
_DUMMY_HASH = hash_password(secrets.token_urlsafe(16))


def password_problem(password: str) -> str | None:
    if len(password) < MIN_PASSWORD:
        return f"密码至少 {MIN_PASSWORD} 位 (at least {MIN_PASSWORD} characters)"
    return None


# ---------------------------------------------------------------- roles

@dataclass(frozen=True)
class RoleInfo:
    """What a role id means in one pack: its Chinese name, kind (worker, command_center …) and level."""

    id: str
    name: str
    kind: str          # a grid role kind, or "department", "admin", "resident"
    level: str | None  # the level its unit must be at; None: any unit or none
    department: str | None = None


def role_info(pack: Pack, role: str) -> RoleInfo | None:
    if role == ADMIN:
        return RoleInfo(ADMIN, "政法委管理员", "admin", None)
    if role == RESIDENT:
        return RoleInfo(RESIDENT, "居民", "resident", None)
    if role.startswith(DEPT):
        dept = pack.departments.get(role[len(DEPT):])
        if dept is None:
            return None
        level = dept.level if pack.grid.level(dept.level) else None
        return RoleInfo(role, dept.name, "department", level, dept.id)
    grid_role = next((r for r in pack.grid.roles if r.id == role), None)
    if grid_role is None:
        return None
    return RoleInfo(grid_role.id, grid_role.name, grid_role.kind, grid_role.level)


def all_roles(pack: Pack) -> list[RoleInfo]:
    """Every role a user of this county can hold: grid roles, departments, admin, resident."""
    ids = [r.id for r in pack.grid.roles] + [DEPT + d for d in pack.departments] + [ADMIN, RESIDENT]
    return [info for info in (role_info(pack, i) for i in ids) if info is not None]


def assignment_problem(pack: Pack, role: str, unit: str | None) -> str | None:
    """Why ``role`` cannot be held at ``unit`` in this pack (None when it can)."""
    info = role_info(pack, role)
    if info is None:
        return f'角色 "{role}" 不存在于规则包 {pack.id} (unknown role)'
    if unit is not None and unit not in pack.grid.units:
        return f'网格单元 "{unit}" 不存在 (unknown unit)'
    if info.kind == "resident" and unit is None:
        return "居民必须属于一个网格单元 (a resident needs a unit)"
    if info.level is not None:
        if unit is None:
            return f"角色 {info.name} 必须绑定到 {info.level} 层级的单元 (needs a unit at level {info.level})"
        if pack.grid.units[unit].level != info.level:
            return (f"角色 {info.name} 属于 {info.level} 层级,单元 {unit} 属于 "
                    f"{pack.grid.units[unit].level} 层级 (wrong level)")
    elif info.kind == "department" and unit is not None:
        return f"{info.name} 在本包顶层之上,不绑定单元 (a department above the pack's top level has no unit)"
    return None


# ---------------------------------------------------------------- users

@dataclass(frozen=True)
class User:
    tenant: str
    username: str
    role: str
    unit_code: str | None
    display_name: str = ""
    disabled: bool = False


@dataclass(frozen=True)
class Actor:
    """A signed-in user seen through the county's current pack: what their role means and where they act."""

    user: User
    role: RoleInfo
    unit_name: str

    @property
    def username(self) -> str:
        return self.user.username

    @property
    def unit(self) -> str | None:
        return self.user.unit_code

    @property
    def is_admin(self) -> bool:
        return self.role.kind == "admin"

    @property
    def is_resident(self) -> bool:
        return self.role.kind == "resident"

    @property
    def department(self) -> str | None:
        return self.role.department

    @property
    def label(self) -> str:
        return f"{self.user.display_name or self.user.username} · {self.role.name} · {self.unit_name}"


def actor_for(pack: Pack, user: User) -> Actor | None:
    """None when the pack no longer knows the user's role or unit (e.g. after a new pack version)."""
    info = role_info(pack, user.role)
    if info is None or user.disabled or (user.unit_code is not None and user.unit_code not in pack.grid.units):
        return None
    unit_name = pack.grid.units[user.unit_code].name if user.unit_code else pack.manifest.name
    return Actor(user, info, unit_name)


def in_scope(pack: Pack, actor: Actor, unit_code: str | None) -> bool:
    """Is ``unit_code`` the actor's unit or below it? (The whole county when the actor has no unit.)"""
    if actor.unit is None:
        return True
    if unit_code is None or unit_code not in pack.grid.units:
        return False
    return any(u.code == actor.unit for u in pack.grid.ancestors(unit_code))


def scope_units(pack: Pack, actor: Actor) -> list[str]:
    """The codes of every unit in scope, top-down (depth first, in the pack's order)."""
    roots = [actor.unit] if actor.unit else list(pack.grid.roots)
    out: list[str] = []
    stack = list(reversed(roots))
    while stack:
        code = stack.pop()
        out.append(code)
        stack.extend(reversed(pack.grid.children.get(code, ())))
    return out


class UserError(ValueError):
    pass


def _row_user(row: Any) -> User:
    return User(row.tenant, row.username, row.role, row.unit_code, row.display_name or "", bool(row.disabled))


def add_user(db: Database, pack: Pack, tenant: str, username: str, password: str, role: str,
             unit: str | None = None, display_name: str = "") -> User:
    username = username.strip()
    if not username or len(username) > 64 or any(c.isspace() for c in username):
        raise UserError("用户名不能为空、不能含空格,最长 64 字符 (bad user name)")
    problem = assignment_problem(pack, role, unit) or password_problem(password)
    if problem:
        raise UserError(problem)
    with db.engine.begin() as conn:
        if conn.execute(select(users.c.username).where(users.c.tenant == tenant, users.c.username == username)).first():
            raise UserError(f'用户 "{username}" 已存在 (user exists)')
        conn.execute(users.insert().values(
            tenant=tenant, username=username, display_name=display_name, password_hash=hash_password(password),
            role=role, unit_code=unit, created_at=datetime.now(timezone.utc), disabled=False))
    return User(tenant, username, role, unit, display_name)


def get_user(db: Database, tenant: str, username: str) -> User | None:
    with db.engine.connect() as conn:
        row = conn.execute(select(users).where(users.c.tenant == tenant, users.c.username == username)).first()
    return _row_user(row) if row else None


def list_users(db: Database, tenant: str) -> list[User]:
    with db.engine.connect() as conn:
        rows = conn.execute(select(users).where(users.c.tenant == tenant).order_by(users.c.username)).all()
    return [_row_user(r) for r in rows]


def authenticate(db: Database, tenant: str, username: str, password: str) -> User | None:
    with db.engine.connect() as conn:
        row = conn.execute(select(users).where(users.c.tenant == tenant, users.c.username == username)).first()
    if row is None:
        verify_password(password, _DUMMY_HASH)
        return None
    if not verify_password(password, row.password_hash) or row.disabled:
        return None
    return _row_user(row)


def set_password(db: Database, tenant: str, username: str, password: str) -> None:
    problem = password_problem(password)
    if problem:
        raise UserError(problem)
    with db.engine.begin() as conn:
        conn.execute(update(users).where(users.c.tenant == tenant, users.c.username == username)
                     .values(password_hash=hash_password(password)))


def has_admin(db: Database, tenant: str) -> bool:
    with db.engine.connect() as conn:
        return conn.execute(select(users.c.username).where(users.c.tenant == tenant, users.c.role == ADMIN)
                            .limit(1)).first() is not None


# ---------------------------------------------------------------- CSRF

CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"


def csrf_token(session: dict) -> str:
    """The session's CSRF token, created on first use (stored in the signed session cookie)."""
    token = session.get(CSRF_FIELD)
    if not token:
        token = secrets.token_urlsafe(32)
        session[CSRF_FIELD] = token
    return token


def csrf_ok(session: dict, submitted: str | None) -> bool:
    expected = session.get(CSRF_FIELD)
    return bool(expected and submitted) and hmac.compare_digest(str(expected), str(submitted))


def names(items: Iterable[RoleInfo]) -> dict[str, str]:
    return {i.id: i.name for i in items}
