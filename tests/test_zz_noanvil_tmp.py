import node.chain.anvil as m
from pathlib import Path
m._REPO = Path("/nonexistent")
def test_uses_anvil(anvil):
    pass
