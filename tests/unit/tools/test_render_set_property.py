"""`tools.render --set KEY=VALUE` with any key and any value: exit 0 with a render, or exit 2 with one line per
problem on stderr and nothing written; never a traceback."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.support.config_keys import config_keys
from tools.render import main as render_main

KEYS = [key.path for key in config_keys()]
OVERRIDES = st.one_of(
    st.text(max_size=30),
    st.tuples(
        st.one_of(st.sampled_from(KEYS), st.text(max_size=12)),
        st.one_of(st.text(max_size=20), st.sampled_from(["[", "{", "]", ": x", "- a", "&a *a", "!!python/none", "~"])),
    ).map(lambda pair: f"{pair[0]}={pair[1]}"),
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(override=OVERRIDES)
@example(override="tagret=docker")
@example(override="balancer=fast")
@example(override="balancer.port.x=1")
@example(override="balancer.weights=[1,2")
@example(override="=1")
@example(override="backend=!!python/object:os.system")
@example(override="a\nb=1")
@example(override="-:")  # starts like an option: a shell user writes --set=-: (argparse reads it as a value)
def test_any_set_renders_or_exits_2_with_one_line_per_problem(
    override: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with tempfile.TemporaryDirectory(prefix="brain-render-") as directory:
        out = Path(directory) / "out"
        status = render_main(["--stack", "dev", "--out", str(out), f"--set={override}"])
        stderr = capsys.readouterr().err
        if status == 0:
            assert (out / "nginx.conf").is_file(), f"--set {override!r}: exit 0 without a render"
            return
        assert status == 2, f"--set {override!r}: exit {status}\n{stderr}"
        assert not out.exists(), f"--set {override!r}: files written on failure"
        lines = stderr.splitlines()
        assert lines and all(line.startswith(("invalid config", "brain:", "--set")) for line in lines), (
            f"--set {override!r}: expected one line per problem, got {stderr!r}"
        )
