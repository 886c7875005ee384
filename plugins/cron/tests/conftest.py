"""The ``slow`` marker of the cron tests (a real cron firing waits for a minute boundary)."""


def pytest_configure(config):
    """Register the ``slow`` marker."""
    config.addinivalue_line("markers", "slow: waits for real time (a cron minute boundary)")
