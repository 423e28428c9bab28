import pytest


@pytest.fixture(autouse=True)
def _show_logs_on_failure(request):
    """A failed test against the running stack keeps the processes' logs (test-artifacts/) and shows their tails."""
    yield
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed and "stack" in request.fixturenames:
        request.getfixturevalue("stack").save_logs(request.node.name)
