"""docs/api.md: its Python code blocks run, in order, as one script in a scratch folder."""

import os
import re
import subprocess
import sys
from pathlib import Path

DOC = Path(__file__).resolve().parent.parent / "docs" / "api.md"


def code_blocks(text: str) -> list[str]:
    return re.findall(r"^```python\n(.*?)^```$", text, flags=re.S | re.M)


def test_the_api_page_examples_run(tmp_path):
    blocks = code_blocks(DOC.read_text())
    assert len(blocks) >= 8  # train, resume, errors, load, committed G, hub, export, evaluate, recipes
    script = tmp_path / "api_examples.py"
    script.write_text("\n\n".join(blocks))
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "runs/ring toy-ring" in done.stdout and "'prior': 'uniform'" in done.stdout
    assert (tmp_path / "runs" / "ring" / "checkpoints" / "last.pt").exists() and (tmp_path / "G.pt").exists()


def test_the_readme_links_the_api_page():
    readme = (DOC.parent.parent / "README.md").read_text()
    assert "## Python API" in readme and "docs/api.md" in readme
