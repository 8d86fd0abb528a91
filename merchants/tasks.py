"""Celery tasks of the merchants app: the metrics table's day partitions, created ahead."""

from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from merchants import services


@shared_task(name="merchants.create_metric_partitions")
def create_metric_partitions() -> list[str]:
    """Create today's and the next ``METRICS_PARTITION_DAYS_AHEAD`` days' metric partitions (run
    by beat every few hours, so a missed run never leaves a day to the default partition)."""
    today = timezone.now().date()
    return services.create_metric_partitions(
        first=today, last=today + timedelta(days=settings.METRICS_PARTITION_DAYS_AHEAD)
    )
