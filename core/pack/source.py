"""Reading a pack's files: one YAML file, or a folder of them, into one tree of sections."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .problems import Position, Problem, display_path
from .yamlsrc import YAMLSyntaxError, YDict, load_yaml

YAML_SUFFIXES = (".yaml", ".yml")
MAX_FILE_BYTES = 50 * 1024 * 1024


@dataclass(frozen=True)
class PackSource:
    """A pack as written: its folder (or file), its files' trees, and their sections gathered into one."""

    path: Path
    files: tuple[tuple[str, Any], ...]
    sections: YDict

    @property
    def manifest(self) -> dict[str, Any]:
        manifest = self.sections.get("pack")
        return manifest if isinstance(manifest, dict) else {}

    @property
    def pack_id(self) -> str | None:
        value = self.manifest.get("id")
        return value if isinstance(value, str) else None

    @property
    def version(self) -> str | None:
        value = self.manifest.get("version")
        return value if isinstance(value, str) else None

    @property
    def manifest_position(self) -> Position:
        return self.sections.key_pos.get("pack", Position(display_path(self.path)))


def pack_files(path: Path) -> list[Path]:
    """The YAML files making up the pack at ``path``, in name order (hidden files skipped)."""
    if path.is_file():
        return [path]
    return sorted(p for p in path.rglob("*") if p.suffix in YAML_SUFFIXES and p.is_file()
                  and not any(part.startswith(".") for part in p.relative_to(path).parts))


def read_pack(path: Path, problems: list[Problem]) -> PackSource:
    """Parse every file of the pack; syntax errors and sections written twice become problems."""
    sections = YDict(pos=Position(display_path(path)))
    files: list[tuple[str, Any]] = []
    if not path.exists():
        problems.append(Problem("PACK_NOT_FOUND", f"找不到规则包: {path}", Position(display_path(path)),
                                "请检查路径是否正确 (check the path)"))
        return PackSource(path, (), sections)
    paths = pack_files(path)
    if not paths:
        problems.append(Problem("PACK_NOT_FOUND", "文件夹中没有 .yaml 文件 (no YAML files in folder)",
                                Position(display_path(path)), "规则包是一个或多个 .yaml 文件"))
    for file in paths:
        name = display_path(file)
        tree = _parse(file, name, problems)
        if tree is None:
            continue
        if not isinstance(tree, YDict):
            problems.append(Problem("SCHEMA", "文件顶层必须是映射(键: 值)(the top level must be a mapping)",
                                    Position(name, 1, 1), "例如 pack: / grid: / events:"))
            continue
        files.append((name, tree))
        for key, value in tree.items():
            if key in sections:
                problems.append(Problem(
                    "DUPLICATE_SECTION", f'部分 "{key}" 在两个文件中都出现了 (section written twice)',
                    tree.key_pos[key], f"已在 {sections.key_pos[key]} 声明;每个部分只能写在一个文件中"))
                continue
            sections[key] = value
            sections.key_pos[key] = tree.key_pos[key]
    return PackSource(path, tuple(files), sections)


def _parse(file: Path, name: str, problems: list[Problem]) -> Any:
    try:
        if file.stat().st_size > MAX_FILE_BYTES:
            problems.append(Problem("YAML_SYNTAX", "文件过大 (file larger than 50 MB)", Position(name), ""))
            return None
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        problems.append(Problem("YAML_SYNTAX", "文件不是 UTF-8 编码 (file is not UTF-8)", Position(name),
                                "请用 UTF-8 保存文件"))
        return None
    except OSError as exc:
        problems.append(Problem("YAML_SYNTAX", f"无法读取文件: {exc.strerror}", Position(name), ""))
        return None
    try:
        return load_yaml(text, name)
    except YAMLSyntaxError as exc:
        code = "DUPLICATE_ID" if "重复的键" in exc.message else "YAML_SYNTAX"
        problems.append(Problem(code, exc.message, exc.position, "检查缩进、冒号和引号 (check indentation, colons, quotes)"))
        return None
