import pytest

from incidents.demo import seed_catalogue


@pytest.fixture
def catalogue(db):
    """Providers Acme RTC / SwiftCDN / Platform, their services and three regions."""
    services, regions = seed_catalogue()
    return {"services": services, "regions": regions}


def record_data(**overrides):
    data = {
        "source": "statuswatch",
        "external_id": "SW-1",
        "title": "rtc-video down in cn-east",
        "provider": "Acme RTC",
        "service": "rtc-video",
        "regions": ["cn-east"],
        "impact": "major_outage",
        "cause": "provider",
        "started_at": "2026-10-05T20:00:00+08:00",
        "detected_at": "2026-10-05T20:02:00+08:00",
    }
    data.update(overrides)
    return data
