"""The tutorial notebooks are committed clean and are all on the docs site.

Executing them is slow (minutes) and needs Jupyter, so it is not a unit test:
`python docs/run_notebooks.py` runs them all in quick mode, and .ci/run does so.
These checks need only the standard library."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO / "docs").glob("*.ipynb"))


def load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def test_there_are_notebooks():
    assert len(NOTEBOOKS) >= 5, NOTEBOOKS


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_committed_without_outputs(path):
    nb = load(path)
    assert nb["nbformat"] == 4
    dirty = [i for i, cell in enumerate(nb["cells"]) if cell["cell_type"] == "code"
             and (cell.get("outputs") or cell.get("execution_count") is not None)]
    assert not dirty, (f"{path.name}: cells {dirty} have outputs; strip them with "
                       "`python docs/run_notebooks.py --strip`")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_tells_a_story(path):
    """A title first, prose between the code, things to try at the end."""
    cells = load(path)["cells"]
    source = ["".join(cell["source"]) for cell in cells]
    assert cells[0]["cell_type"] == "markdown" and source[0].startswith("# ")
    markdown = sum(cell["cell_type"] == "markdown" for cell in cells)
    assert markdown >= len(cells) / 3, f"{path.name}: {markdown} prose cells of {len(cells)}"
    assert cells[-1]["cell_type"] == "markdown" and "## Things to try" in source[-1]
    code = "\n".join(s for s, c in zip(source, cells) if c["cell_type"] == "code")
    assert "matplotlib" in code or "draw_graph" in code, f"{path.name} has no pictures"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_uses_quick_mode_the_same_way(path):
    code = "".join("".join(c["source"]) for c in load(path)["cells"] if c["cell_type"] == "code")
    if "MNIST(" in code:  # every notebook that trains on MNIST has a shorter CI run
        assert 'os.environ.get("TINYGRAD_EDU_QUICK") == "1"' in code


def test_every_notebook_and_page_is_in_the_site_navigation():
    config = (REPO / "mkdocs.yml").read_text(encoding="utf-8")
    nav = config[config.index("\nnav:"):]
    pages = [p.relative_to(REPO / "docs").as_posix() for p in (REPO / "docs").rglob("*")
             if p.suffix in (".md", ".ipynb")]
    missing = [page for page in pages if not re.search(rf":\s*{re.escape(page)}\s*$", nav, re.M)]
    assert not missing, f"not in mkdocs.yml's nav: {missing}"


def test_strip_removes_outputs(tmp_path):
    nb = {"cells": [{"cell_type": "code", "execution_count": 3, "metadata": {},
                     "outputs": [{"output_type": "stream", "name": "stdout", "text": "1\n"}],
                     "source": "print(1)"}],
          "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "x.ipynb").write_text(json.dumps(nb), encoding="utf-8")
    script = (REPO / "docs/run_notebooks.py").read_text(encoding="utf-8")
    (docs / "run_notebooks.py").write_text(script, encoding="utf-8")
    done = subprocess.run([sys.executable, str(docs / "run_notebooks.py"), "--strip"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "x.ipynb: stripped" in done.stdout
    cell = load(docs / "x.ipynb")["cells"][0]
    assert cell["outputs"] == [] and cell["execution_count"] is None


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_links_reach_site_pages(path):
    """mkdocs-jupyter copies a notebook's links as they are and `mkdocs build --strict`
    does not check them: a link must be written as the site's page (../page/), and the
    page must exist."""
    text = "\n".join("".join(c["source"]) for c in load(path)["cells"]
                     if c["cell_type"] == "markdown")
    links = re.findall(r"\]\(([^)\s]+)\)", text)
    local = [link for link in links if not re.match(r"[a-z]+:", link)]
    bad = [link for link in local if not re.fullmatch(r"\.\./[\w-]+/(#[\w-]+)?", link)
           or not (REPO / "docs" / f"{link[3:].split('/')[0]}.md").is_file()]
    assert not bad, f"{path.name}: links that do not reach a docs page on the site: {bad}"


def test_ops_the_tutorials_write_do_not_clash_with_built_in_ops():
    # a reader's `class Softplus(Function)` is refused if the library has an op of that
    # name (a built-in op is never replaced): the ops the docs have readers write, as
    # their own, must keep names the library does not take (README's Mul is the built-in)
    from tinygrad_edu import Function

    written = {}
    for path in [*NOTEBOOKS, *(REPO / "docs").glob("*.md")]:
        for name in re.findall(r"class (\w+)\(Function\)", path.read_text(encoding="utf-8")):
            written.setdefault(name, path.name)
    assert "Softplus" in written and "Sin" in written  # what this test guards, still there
    taken = {name: page for name, page in written.items() if name in Function.registry}
    assert not taken, f"op names taken by built-in ops: {taken}"
