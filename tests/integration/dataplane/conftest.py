"""Let TCP relay tests run on both relay paths (`relay_path`)."""

import pytest

from pylvs.dataplane.proxy import poller


@pytest.fixture(params=["c", "python"] if poller._pump is not None else ["python"])
def relay_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """The proxy's C fast path (when built) and its pure-Python path, in turn."""
    monkeypatch.setattr(poller, "USE_PUMP", request.param == "c")
    return str(request.param)
