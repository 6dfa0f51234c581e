"""Finding the packs a pack extends: a search path of folders, indexed by pack id and version."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from .problems import Position, Problem
from .source import YAML_SUFFIXES, PackSource, read_pack
from .yamlsrc import YAMLSyntaxError, load_yaml


def builtin_pack_dirs() -> list[Path]:
    """wangge's own base packs (rulepacks/) — always last on the search path."""
    from ...rulepacks import PATH

    return [PATH]


def search_path(pack: Path, extra: tuple[Path, ...] = ()) -> list[Path]:
    """Where bases are looked for: beside the pack, --path folders, $WANGGE_PACK_PATH, then rulepacks/."""
    beside = pack.parent if pack.is_dir() or pack.is_file() else pack
    env = [Path(p) for p in os.environ.get("WANGGE_PACK_PATH", "").split(os.pathsep) if p]
    return [beside.resolve(), *(p.resolve() for p in extra), *(p.resolve() for p in env), *builtin_pack_dirs()]


def _manifest_of(candidate: Path) -> tuple[str, str] | None:
    """(id, version) of the pack at ``candidate`` reading only its manifest file; None if it is no pack."""
    file = candidate / "pack.yaml" if candidate.is_dir() else candidate
    if not file.is_file() or file.suffix not in YAML_SUFFIXES:
        return None
    try:
        tree = load_yaml(file.read_text(encoding="utf-8"), str(file))
    except (YAMLSyntaxError, OSError, UnicodeDecodeError):
        return None
    manifest = tree.get("pack") if isinstance(tree, dict) else None
    if not isinstance(manifest, dict):
        return None
    pack_id, version = manifest.get("id"), manifest.get("version")
    if isinstance(pack_id, str) and isinstance(version, str):
        return pack_id, version
    return None


@dataclass
class PackIndex:
    """Packs found on a search path, by id; scanning is lazy and per folder."""

    folders: list[Path]
    _found: dict[str, list[tuple[Version, Path]]] = field(default_factory=dict)
    _scanned: bool = False

    def _scan(self) -> None:
        for folder in self.folders:
            if not folder.is_dir():
                continue
            for candidate in sorted(folder.iterdir()):
                if candidate.name.startswith("."):
                    continue
                found = _manifest_of(candidate)
                if found is None:
                    continue
                try:
                    version = Version(found[1])
                except InvalidVersion:
                    continue
                self._found.setdefault(found[0], []).append((version, candidate.resolve()))
        self._scanned = True

    def versions(self, pack_id: str) -> list[tuple[Version, Path]]:
        if not self._scanned:
            self._scan()
        return self._found.get(pack_id, [])

    def find(self, pack_id: str, spec: str) -> Path | None | str:
        """The highest version of ``pack_id`` within ``spec``: a path, None (no such pack), or "unsatisfied"."""
        candidates = self.versions(pack_id)
        if not candidates:
            return None
        allowed = SpecifierSet(spec) if spec else SpecifierSet()
        # First found wins among equal versions, so a pack beside the county beats the built-in copy.
        best: tuple[Version, Path] | None = None
        for version, path in candidates:
            if version in allowed and (best is None or version > best[0]):
                best = (version, path)
        return best[1] if best else "unsatisfied"


def resolve_chain(pack: PackSource, index: PackIndex, read: callable, problems: list[Problem]) -> list[PackSource]:
    """The pack and everything it extends, base first. Problems for missing bases, ranges and cycles."""
    chain = [pack]
    seen = {pack.pack_id: pack.manifest_position}
    current = pack
    while True:
        extends = current.manifest.get("extends")
        if not isinstance(extends, dict) or not isinstance(extends.get("id"), str):
            break
        base_id, spec = extends["id"], extends.get("version") or ""
        where = _extends_position(current)
        if not isinstance(spec, str) or not _valid_spec(spec):
            problems.append(Problem("VERSION_UNSATISFIED", f'版本范围 "{spec}" 写法无效 (invalid version range)',
                                    where, '例如 ">=1.0,<2" 或 "~=1.2" 或 "==1.0.0"'))
            break
        if base_id in seen:
            problems.append(Problem("EXTENDS_CYCLE", f'循环继承: {base_id} 又继承回自己 (extends cycle)', where,
                                    " → ".join([*seen, base_id])))
            break
        found = index.find(base_id, spec)
        if found is None:
            problems.append(Problem("PACK_NOT_FOUND", f'找不到要继承的规则包 "{base_id}" (base pack not found)', where,
                                    "基础包应放在同一文件夹旁、--path 指定的文件夹或 $WANGGE_PACK_PATH 中"))
            break
        if found == "unsatisfied":
            have = ", ".join(str(v) for v, _ in index.versions(base_id))
            problems.append(Problem("VERSION_UNSATISFIED",
                                    f'规则包 "{base_id}" 没有满足 "{spec}" 的版本 (no version satisfies the range)',
                                    where, f"现有版本: {have}"))
            break
        base = read(found)
        seen[base_id] = base.manifest_position
        chain.insert(0, base)
        current = base
    return chain


def _valid_spec(spec: str) -> bool:
    try:
        SpecifierSet(spec)
    except InvalidSpecifier:
        return False
    return True


def _extends_position(source: PackSource) -> Position:
    manifest = source.manifest
    key_pos = getattr(manifest, "key_pos", {})
    return key_pos.get("extends", source.manifest_position)


__all__ = ["PackIndex", "resolve_chain", "search_path", "read_pack"]
