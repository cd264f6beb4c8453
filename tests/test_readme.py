"""The README's first example runs as written and its loss falls."""

import contextlib
import io
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_example_trains():
    text = README.read_text(encoding="utf-8")
    code = text.split("```python\n", 1)[1].split("```", 1)[0]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "README.md", "exec"), {})  # noqa: S102
    losses = [float(line.split()[1]) for line in out.getvalue().splitlines()]
    assert len(losses) == 5
    assert losses[-1] < losses[0]
