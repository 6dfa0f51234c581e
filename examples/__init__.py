"""Example county packs, one per model in the source documents (examples/counties/)."""
from pathlib import Path

COUNTIES = Path(__file__).parent / "counties"
