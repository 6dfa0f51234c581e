"""The base rule packs shipped with wangge (national reference, provincial bases)."""
from pathlib import Path

PATH = Path(__file__).parent
