"""The forms web app (Starlette): GET renders a form, POST validates it on the server and stores it.

    app = forms_app([pack], database, secret="…")          # standalone
    Mount("/forms", routes=forms_routes(config))           # inside the portal

Full-page submits work with JavaScript off: a failed submission re-renders the page with the values
and the errors; "add an entry", "remove an entry" and "update the cascade" are submit buttons too.
"""
from __future__ import annotations

import html
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer
from jinja2 import Environment
from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import (
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
)
from starlette.routing import Route
from wangge.core.expr import JS_RUNTIME
from wangge.core.pack.model import Pack
from wangge.core.pack.sections.forms import Form, FormField
from wangge.core.store import Database

from .csrf import CsrfPolicy, SignedDoubleSubmit
from .render import (
    RADIO_MAX,
    PageBuilder,
    defaults,
    environment,
    raw_from_values,
    rules_js,
)
from .schema import MAX_FILE
from .store import FileStore, SubmissionStore
from .validate import Outcome, Validation, repeat_count
from .values import Upload

STATIC = Path(__file__).with_name("static")
SECURITY_HEADERS = {
    # Everything is served from this origin; rules are a script file, so no inline script or eval is needed.
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
                               "form-action 'self'; frame-ancestors 'self'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


@dataclass(frozen=True)
class _FormEntry:
    pack: Pack
    form: Form
    validation: Validation
    rules: str


@dataclass(frozen=True)
class FormsConfig:
    """Everything the routes need, built once; nothing in it changes while serving."""

    packs: Mapping[str, Pack]
    database: Database
    secret: str
    csrf: CsrfPolicy
    files: FileStore
    #: the tenant (county) a request's submissions belong to; by default the pack id
    tenant: Callable[[Pack, Request], str] = lambda pack, request: pack.id[:64]
    #: who is submitting (the portal plugs in its login); anonymous by default
    user: Callable[[Request], str] = lambda request: ""
    envs: Mapping[str, Environment] = field(default_factory=dict)
    entries: Mapping[tuple[str, str], _FormEntry] = field(default_factory=dict)

    @classmethod
    def build(cls, packs: Iterable[Pack] | Mapping[str, Pack], database: Database, *, secret: str,
              csrf: CsrfPolicy | None = None, uploads: Path | str = "uploads", **kw: Any) -> FormsConfig:
        pack_map = dict(packs) if isinstance(packs, Mapping) else {p.id: p for p in packs}
        entries = {(pid, fid): _FormEntry(p, f, Validation.of(f, p.grid), rules_js(f))
                   for pid, p in pack_map.items() for fid, f in p.forms.items()}
        return cls(MappingProxyType(pack_map), database, secret, csrf or SignedDoubleSubmit(secret),
                   FileStore(Path(uploads)), envs=MappingProxyType({pid: environment(p.root) for pid, p in pack_map.items()}),
                   entries=MappingProxyType(entries), **kw)

    def entry(self, pack_id: str, form_id: str) -> _FormEntry:
        found = self.entries.get((pack_id, form_id))
        if found is None:
            raise HTTPException(404, "没有这个表单")
        return found

    def kept_signer(self) -> URLSafeSerializer:
        return URLSafeSerializer(self.secret, salt="wangge-forms-file")


def forms_app(packs: Iterable[Pack] | Mapping[str, Pack], database: Database, *, secret: str, **kw: Any) -> Starlette:
    config = FormsConfig.build(packs, database, secret=secret, **kw)
    # gzip: a form with many repeat entries is mostly repeated markup and shrinks ~8× on a weak network
    return Starlette(routes=forms_routes(config), exception_handlers={HTTPException: _http_error},
                     middleware=[Middleware(GZipMiddleware, minimum_size=1024)])


def forms_routes(config: FormsConfig) -> list[Route]:
    h = _Handlers(config)
    return [
        Route("/", h.home, methods=["GET"]),
        Route("/static/{name}", h.static, methods=["GET"]),
        Route("/{pack_id}/", h.pack_index, methods=["GET"]),
        Route("/{pack_id}/units", h.units, methods=["GET"]),
        Route("/{pack_id}/{form_id}", h.show, methods=["GET"]),
        Route("/{pack_id}/{form_id}", h.submit, methods=["POST"]),
        Route("/{pack_id}/{form_id}/rules-{version}.js", h.rules, methods=["GET"]),
        Route("/{pack_id}/{form_id}/done/{submission_id}", h.done, methods=["GET"]),
    ]


async def _http_error(request: Request, exc: HTTPException) -> Response:
    return PlainTextResponse(str(exc.detail), status_code=exc.status_code, headers=SECURITY_HEADERS)


@dataclass(frozen=True)
class _Handlers:
    config: FormsConfig

    # -- pages ------------------------------------------------------------------------------------------
    async def home(self, request: Request) -> Response:
        items = "".join(f'<li><a href="{_base(request)}/{p.id}/">{_esc(p.manifest.name)}</a></li>'
                        for p in self.config.packs.values())
        return HTMLResponse(f'<!doctype html><html lang="zh-CN"><meta charset="utf-8"><title>表单</title>'
                            f'<ul>{items}</ul></html>', headers=SECURITY_HEADERS)

    async def pack_index(self, request: Request) -> Response:
        pack = self._pack(request.path_params["pack_id"])
        html = self.config.envs[pack.id].get_template("index.html").render(
            pack=pack, forms=list(pack.forms.values()), base=f"{_base(request)}/{pack.id}",
            static=f"{_base(request)}/static")
        return HTMLResponse(html, headers=SECURITY_HEADERS)

    async def show(self, request: Request) -> Response:
        e = self.config.entry(request.path_params["pack_id"], request.path_params["form_id"])
        values = defaults(e.form)
        prefilled = 0
        key = request.query_params.get("key", "").strip()
        if key:
            store = SubmissionStore(self.config.database, self.config.tenant(e.pack, request))
            found = store.prefill(e.form, key)
            prefilled = len(found) - 1 if found else 0
            values.update(found)
        raw = raw_from_values(e.form, values, e.pack.grid)
        outcome = e.validation.run(raw)
        return self._page(request, e, raw, outcome, errors=False, prefilled=prefilled)

    async def submit(self, request: Request) -> Response:
        e = self.config.entry(request.path_params["pack_id"], request.path_params["form_id"])
        async with request.form(max_files=50, max_fields=5000) as posted:
            if not self.config.csrf.check(request, _str(posted.get(self.config.csrf.field_name))):
                return PlainTextResponse("页面已过期或来源不明(CSRF 校验失败),请刷新页面后重新提交。", status_code=403,
                                         headers=SECURITY_HEADERS)
            raw = await self._raw(posted)
        action = str((raw.pop("_action", None) or ["submit"])[-1])
        if action.startswith(("add:", "remove:")):
            _edit_repeat(e.form, raw, action)
        outcome = e.validation.run(raw)
        for digest, data in outcome.files.items():
            # Stored at once (by content hash) so a failed attempt need not upload the photo again.
            self.config.files.put(digest, data)
        if action != "submit":
            return self._page(request, e, raw, outcome, errors=False)
        if not outcome.ok:
            return self._page(request, e, raw, outcome, errors=True, status=422)
        store = SubmissionStore(self.config.database, self.config.tenant(e.pack, request))
        saved = store.save(e.pack, e.form, outcome.values, submitted_by=self.config.user(request))
        return RedirectResponse(f"{_base(request)}/{e.pack.id}/{e.form.id}/done/{saved.id}", status_code=303)

    async def done(self, request: Request) -> Response:
        e = self.config.entry(request.path_params["pack_id"], request.path_params["form_id"])
        store = SubmissionStore(self.config.database, self.config.tenant(e.pack, request))
        saved = store.get(request.path_params["submission_id"])
        if saved is None or saved.form_id != e.form.id:
            raise HTTPException(404, "没有这条记录")
        html = self.config.envs[e.pack.id].get_template("done.html").render(
            pack=e.pack, form=e.form, submission=saved, again=f"{_base(request)}/{e.pack.id}/{e.form.id}",
            static=f"{_base(request)}/static")
        return HTMLResponse(html, headers=SECURITY_HEADERS)

    # -- assets and data ---------------------------------------------------------------------------------
    async def rules(self, request: Request) -> Response:
        e = self.config.entry(request.path_params["pack_id"], request.path_params["form_id"])
        if request.path_params["version"] != e.form.version:
            raise HTTPException(404, "表单版本已更新,请刷新页面")
        return Response(e.rules, media_type="text/javascript; charset=utf-8",
                        headers={**SECURITY_HEADERS, "Cache-Control": "public, max-age=3600"})

    async def static(self, request: Request) -> Response:
        name = request.path_params["name"]
        if name == "runtime.js":
            body, media = JS_RUNTIME, "text/javascript; charset=utf-8"
        elif name in ("forms.js", "forms.css"):
            body = (STATIC / name).read_text(encoding="utf-8")
            media = "text/javascript; charset=utf-8" if name.endswith(".js") else "text/css; charset=utf-8"
        else:
            raise HTTPException(404, "没有这个文件")
        return Response(body, media_type=media, headers={**SECURITY_HEADERS, "Cache-Control": "public, max-age=3600"})

    async def units(self, request: Request) -> Response:
        pack = self._pack(request.path_params["pack_id"])
        parent = request.query_params.get("parent", "")
        codes = pack.grid.children.get(parent, ()) if parent in pack.grid.units else ()
        return JSONResponse([{"code": c, "name": pack.grid.units[c].name} for c in codes],
                            headers={"Cache-Control": "public, max-age=600"})

    # -- helpers ------------------------------------------------------------------------------------------
    def _pack(self, pack_id: str) -> Pack:
        pack = self.config.packs.get(pack_id)
        if pack is None:
            raise HTTPException(404, "没有这个规则包")
        return pack

    async def _raw(self, posted: Any) -> dict[str, list[Any]]:
        raw: dict[str, list[Any]] = {}
        kept: dict[str, dict] = {}
        for key, value in posted.multi_items():
            if key == self.config.csrf.field_name:
                continue
            if isinstance(value, UploadFile):
                if value.filename:
                    data = await value.read(MAX_FILE + 1)
                    raw.setdefault(key, []).append(Upload(value.filename, value.content_type or "", data))
                continue
            if key.endswith("__kept"):
                try:
                    meta = self.config.kept_signer().loads(value)
                except BadSignature:
                    continue
                if isinstance(meta, dict):
                    kept[key[: -len("__kept")]] = meta
                continue
            raw.setdefault(key, []).append(value)
        for name, meta in kept.items():
            raw.setdefault(name, [meta])  # a new upload replaces the kept one
        return raw

    def _page(self, request: Request, e: _FormEntry, raw: Mapping[str, list[Any]], outcome: Outcome, *,
              errors: bool, prefilled: int = 0, status: int = 200) -> Response:
        shown_errors = outcome.errors if errors else {}
        kept = self._kept(e.form, outcome)
        builder = PageBuilder(e.pack, e.form, raw, shown_errors, outcome.relevant, kept)
        views = builder.fields()
        token, cookie = self.config.csrf.token(request)
        base = _base(request)
        html = self.config.envs[e.pack.id].get_template("form.html").render(
            pack=e.pack, form=e.form, fields=views, summary=_summary(e.form, shown_errors), prefilled=prefilled,
            action=f"{base}/{e.pack.id}/{e.form.id}", static=f"{base}/static",
            rules_url=f"{base}/{e.pack.id}/{e.form.id}/rules-{e.form.version}.js",
            units_url=f"{base}/{e.pack.id}/units", csrf_field=self.config.csrf.field_name, csrf_token=token)
        response = HTMLResponse(html, status_code=status, headers={**SECURITY_HEADERS, "Cache-Control": "no-store"})
        self.config.csrf.set_cookie(response, cookie)
        return response

    def _kept(self, form: Form, outcome: Outcome) -> dict[str, tuple[str, str]]:
        signer = self.config.kept_signer()
        out: dict[str, tuple[str, str]] = {}

        def visit(fields: tuple[FormField, ...], values: Mapping[str, Any], prefix: str) -> None:
            for f in fields:
                v = values.get(f.name)
                if f.type in ("photo", "file") and isinstance(v, dict):
                    out[prefix + f.name] = (signer.dumps(v), str(v.get("name", "")))
                elif f.type == "repeat" and isinstance(v, list):
                    for i, item in enumerate(v):
                        visit(f.fields, item, f"{prefix}{f.name}.{i}.")

        visit(form.fields, outcome.values, "")
        return out


def _edit_repeat(form: Form, raw: dict[str, list[Any]], action: str) -> None:
    """Add an empty entry to a repeat, or remove one and renumber the entries after it."""
    verb, _, target = action.partition(":")
    if verb == "add":
        f = form.field(target)
        if f is not None and f.type == "repeat":
            n = repeat_count(f, raw)
            if not f.max_count or n < f.max_count:
                raw[f"{target}__n"] = [str(n + 1)]
        return
    name, _, index = target.rpartition(".")
    f = form.field(name)
    if f is None or f.type != "repeat" or not index.isdigit():
        return
    n, gone = repeat_count(f, raw), int(index)
    moved: dict[str, list[Any]] = {}
    prefix = f"{name}."
    for key in list(raw):
        if key.startswith(prefix):
            i_text, _, rest = key[len(prefix):].partition(".")
            if i_text.isdigit():
                values = raw.pop(key)
                i = int(i_text)
                if i != gone:
                    moved[f"{prefix}{i - 1 if i > gone else i}.{rest}"] = values
    raw.update(moved)
    raw[f"{name}__n"] = [str(max(n - 1, 0))]


def _summary(form: Form, errors: Mapping[str, tuple[str, ...]]) -> list[dict[str, str]]:
    """The error summary in form order, each linking to the input to fix."""
    if not errors:
        return []
    order: list[tuple[str, FormField]] = []
    for f in form.fields:
        order.append((f.name, f))
        if f.type == "repeat":
            for path in sorted((p for p in errors if p.startswith(f.name + ".")), key=_natural):
                child = form.field(path.rsplit(".", 1)[-1])
                if child is not None:
                    order.append((path, child))
    out = []
    for path, f in order:
        if path in errors:
            label = f.label
            if path.count(".") == 2:
                label = f"{form.field(path.split('.')[0]).label} {int(path.split('.')[1]) + 1}·{f.label}"  # type: ignore[union-attr]
            out.append({"id": _target_id(f, path), "label": label, "message": ";".join(errors[path])})
    return out


def _target_id(f: FormField, path: str) -> str:
    base = "f-" + path.replace(".", "-")
    if f.type == "unit" and f.levels:
        return f"f-{path}-{f.levels[0]}".replace(".", "-")
    if f.type == "yes_no":
        return base + "-true"
    if f.type == "select_multiple" or (f.type == "select_one" and len(f.choices) <= RADIO_MAX):
        return base + "-0"
    return base


def _natural(path: str) -> tuple:
    return tuple(int(p) if p.isdigit() else p for p in path.split("."))


def _base(request: Request) -> str:
    return request.scope.get("root_path", "").rstrip("/")


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _esc(text: str) -> str:
    return html.escape(text)


__all__ = ["FormsConfig", "forms_app", "forms_routes"]
