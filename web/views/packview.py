"""The pack browser for 政法委 staff: grid tree, duty list with 准入 status, routing table, workflow
diagram, scoring weights, versions; the dry run of a draft; atomic, audited publishing."""
from __future__ import annotations

from typing import Any

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from .. import audit, diagrams, engine
from ..packs import MAX_FILE, PublishError, dry_run, safe_name
from .common import Page, forbid, render, signed_in

TABS = (("grid", "网格"), ("duties", "职责清单与准入"), ("events", "事件分类"), ("routing", "流转规则"),
        ("workflow", "工作流程"), ("scoring", "考核与指标"), ("versions", "版本与审计"), ("dryrun", "试运行与发布"))


def _admin(request: Request) -> Page:
    p, actor = signed_in(request)
    if not actor.is_admin:
        raise forbid("规则包浏览仅限政法委管理员 (pack browser: administrators only)")
    return p


async def browser(request: Request) -> Response:
    p = _admin(request)
    tab = request.query_params.get("tab", "grid")
    if tab not in dict(TABS):
        tab = "grid"
    if tab == "dryrun":
        return RedirectResponse(p.url("pack/dryrun"), status_code=303)
    pack = p.pack
    ctx: dict[str, Any] = {"p": p, "tabs": TABS, "tab": tab, "pack": pack}
    if tab == "grid":
        code = request.query_params.get("unit")
        unit = pack.grid.units.get(code) if code else None
        children = pack.grid.children.get(unit.code if unit else "", ())
        ctx.update(unit=unit, path=list(reversed(list(pack.grid.ancestors(unit.code)))) if unit else [],
                   children=[(pack.grid.units[c], _count_below(pack, c)) for c in children],
                   roles_here=[r for r in pack.grid.roles if unit and r.level == unit.level],
                   counts=pack.grid.count_by_level())
    elif tab == "routing":
        ctx["routing"] = engine.plain(getattr(pack, "routing", None))
    elif tab == "workflow":
        wf = pack.workflow
        ctx["workflow"] = wf
        ctx["svg"] = diagrams.workflow_svg(wf) if wf is not None else None
        ctx["escalation"] = pack.escalation
    elif tab == "scoring":
        ctx["scoring"] = engine.plain(getattr(pack, "scoring", None))
    elif tab == "versions":
        assert p.deployment.registry is not None
        ctx["versions"] = p.deployment.registry.versions(p.slug)
        ctx["audit"] = audit.recent(p.db, p.slug)
    return render(request, "pack.html", **ctx)


def _count_below(pack: Any, code: str) -> int:
    total, stack = 0, list(pack.grid.children.get(code, ()))
    while stack:
        total += 1
        stack.extend(pack.grid.children.get(stack.pop(), ()))
    return total


async def _text_of(value: Any) -> tuple[str | None, str | None]:
    """An uploaded file or a form field as text (UTF-8), with a message when it is not acceptable."""
    if isinstance(value, UploadFile):
        data = await value.read(MAX_FILE + 1)
        if len(data) > MAX_FILE:
            return None, f"文件 {value.filename} 过大 (file too large)"
        try:
            return data.decode("utf-8-sig"), None
        except UnicodeDecodeError:
            return None, f"文件 {value.filename} 不是 UTF-8 文本 (not UTF-8 text)"
    return (str(value) if value is not None else ""), None


async def dry_run_page(request: Request) -> Response:
    p = _admin(request)
    assert p.deployment.registry is not None
    registry = p.deployment.registry
    files = sorted(registry.current_files(p.slug))
    if request.method == "GET":
        return render(request, "dryrun.html", p=p, tabs=TABS, tab="dryrun", files=files, result=None, draft=None,
                      errors=[], events_text="", paste_name="", paste_text="")
    form = await request.form()
    errors: list[str] = []
    replace: dict[str, str] = {}
    for upload in form.getlist("pack_files"):
        if isinstance(upload, UploadFile) and upload.filename:
            name = safe_name(upload.filename)
            text, problem = await _text_of(upload)
            if name is None:
                errors.append(f"文件名 {upload.filename} 无效:应为 .yaml (bad file name)")
            elif problem or text is None:
                errors.append(problem or "")
            else:
                replace[name] = text
    paste_name = str(form.get("paste_name", "")).strip()
    paste_text = str(form.get("paste_text", ""))
    if paste_text.strip():
        name = safe_name(paste_name or "")
        if name is None:
            errors.append("请为粘贴的内容填写文件名,如 events.yaml (name the pasted file)")
        else:
            replace[name] = paste_text
    events_text = str(form.get("events", ""))
    upload = form.get("events_file")
    if isinstance(upload, UploadFile) and upload.filename:
        text, problem = await _text_of(upload)
        if problem:
            errors.append(problem)
        else:
            events_text = (events_text + "\n" + (text or "")).strip()
    draft = registry.draft(p.slug, replace) if not errors else None
    result = None
    if draft is not None and draft.pack is not None and events_text.strip():
        result = dry_run(draft.pack, events_text)
    current = p.pack
    return render(request, "dryrun.html", p=p, tabs=TABS, tab="dryrun", files=files, draft=draft, errors=errors,
                  result=result, events_text=events_text, paste_name=paste_name, paste_text=paste_text,
                  replaced=sorted(replace), current=current,
                  status_code=400 if errors or (draft is not None and draft.pack is None) else 200)


async def publish(request: Request) -> Response:
    p = _admin(request)
    assert p.deployment.registry is not None
    form = await request.form()
    draft_id = str(form.get("draft", ""))
    note = str(form.get("note", ""))[:500]
    if form.get("confirm") != "yes":
        return render(request, "error.html", p=p, status=400, status_code=400,
                      message="请勾选确认后再发布 (tick the confirmation)")
    try:
        version = p.deployment.registry.publish(p.slug, draft_id, p.actor.username if p.actor else "-", note)
    except PublishError as exc:
        return render(request, "error.html", p=p, status=409, status_code=409, message=str(exc))
    return RedirectResponse(p.url(f"pack?tab=versions&published={version.version}"), status_code=303)
