"""``wangge forms …``: XLSForm import/export and a small server for trying forms out.

Registered through the ``wangge.cli`` entry-point group, so core's CLI never imports wangge.forms.
"""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import click
from wangge.core.pack.loader import load_pack
from wangge.core.pack.problems import PackError

from .xlsform import XLSFormError, dump_forms_yaml, export_xlsform, import_xlsform


@click.group("forms")
def forms() -> None:
    """表单:XLSForm 导入导出、试填服务 (forms: XLSForm import/export, try-out server)."""


@forms.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="写入的 forms.yaml(默认打印)")
def import_cmd(file: Path, out: Path | None) -> None:
    """把 XLSForm 工作簿转换为规则包表单 (XLSForm → forms.yaml)。"""
    try:
        form = import_xlsform(file)
    except XLSFormError as exc:
        click.echo(f"{file.name}: {exc}", err=True)
        sys.exit(1)
    text = dump_forms_yaml([form])
    problems = _check(text)
    if problems:
        for line in problems:
            click.echo(f"{file.name}: {line}", err=True)
        sys.exit(1)
    if out is None:
        click.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")
        click.echo(f"ok  {form['id']} {form['version']} → {out}")


@forms.command("export")
@click.argument("pack", type=click.Path(exists=True, path_type=Path))
@click.argument("form_id")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="写入的 .xlsx 文件")
def export_cmd(pack: Path, form_id: str, out: Path) -> None:
    """把规则包中的表单导出为 XLSForm 工作簿 (pack form → XLSForm)。"""
    try:
        loaded = load_pack(pack)
    except PackError as exc:
        click.echo(str(exc), err=True)
        sys.exit(1)
    form = loaded.forms.get(form_id)
    if form is None:
        click.echo(f'规则包 {loaded.id} 中没有表单 "{form_id}";现有: {", ".join(loaded.forms)}', err=True)
        sys.exit(1)
    try:
        export_xlsform(form, out)
    except ValueError as exc:
        click.echo(f"{form_id}: {exc}", err=True)
        sys.exit(1)
    click.echo(f"ok  {form.id} {form.version} → {out}")


@forms.command("serve")
@click.argument("packs", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--db", default="sqlite:///wangge.sqlite", show_default=True, help="数据库 URL")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--uploads", default="uploads", show_default=True, type=click.Path(path_type=Path))
@click.option("--secret", envvar="WANGGE_SECRET", required=True, help="签名密钥(或环境变量 WANGGE_SECRET)")
def serve_cmd(packs: tuple[Path, ...], db: str, host: str, port: int, uploads: Path, secret: str) -> None:
    """启动表单服务,试填规则包中的表单 (serve the packs' forms)."""
    import uvicorn
    from wangge.core.store import open_database

    from .app import forms_app

    app = forms_app([load_pack(p) for p in packs], open_database(db), secret=secret, uploads=uploads)
    uvicorn.run(app, host=host, port=port)


def _check(text: str) -> list[str]:
    """Compile the imported form inside a pack extending cn.base, so every problem shows now."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "pack.yaml").write_text(
            'pack: {id: xlsform.check, name: XLSForm 检查, region: "100000", version: 1.0.0, '
            'extends: {id: cn.base, version: ">=1.0,<2"}}\n', encoding="utf-8")
        (root / "forms.yaml").write_text(text, encoding="utf-8")
        try:
            load_pack(root)
        except PackError as exc:
            return [f"{p.code} {p.message}" + (f" ({p.hint})" if p.hint else "") for p in exc.problems]
    return []
