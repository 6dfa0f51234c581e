"""Maps the one import namespace ``wangge.*`` onto the design card's top-level folders.

``core/`` is installed as ``wangge.core``, ``forms/`` as ``wangge.forms`` and so on, so nothing
generic such as ``core`` ever lands at the top of site-packages. ``wangge`` itself is a PEP 420
namespace package. All other metadata is in pyproject.toml.
"""
from setuptools import find_packages, setup

ROOTS = ("core", "rulepacks", "forms", "plugins", "web", "examples")

packages: list[str] = []
package_dir: dict[str, str] = {}
for root in ROOTS:
    package_dir[f"wangge.{root}"] = root
    packages.append(f"wangge.{root}")
    packages += [f"wangge.{root}.{sub}" for sub in find_packages(root)]

setup(packages=packages, package_dir=package_dir)
