"""Past one machine: a queue per kind of work, reports that can read from a replica, and files
on S3-compatible storage (a real local S3 server, moto, in the test)."""

from datetime import date

import boto3
import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from config.celery import app
from core.db import ReplicaRouter, reports_db
from core.storage import default_storage_from_env
from tests.programs import free_port


def test_every_task_of_ours_goes_to_a_queue_a_worker_consumes():
    app.loader.import_default_modules()
    queues = {q.name for q in settings.CELERY_TASK_QUEUES}
    ours = [name for name in app.tasks if not name.startswith("celery.")]
    assert ours
    routed = {name: app.amqp.router.route({}, name)["queue"].name for name in ours}
    assert set(routed.values()) <= queues
    assert routed["settlements.issue_document"] == "documents"
    assert routed["claims.tasks.recompute_incident_claims"] == routed["sla.recompute_for_incident"] == "recompute"
    assert routed["incidents.tasks.import_incidents_file"] == "imports"
    assert {routed[n] for n in ("sla.nightly_evaluate", "claims.tasks.expire_claims")} == {"beat"}
    assert set(settings.CELERY_TASK_ROUTES) <= set(ours)  # no route names a task that does not exist


@pytest.mark.django_db
def test_reports_read_from_the_replica_only_when_one_is_configured(settings):
    from claims import selectors as claim_selectors
    from settlements import exports

    assert reports_db() == "default"
    assert exports.ledger_claims(date(2026, 11, 1), date(2026, 11, 30)).db == "default"
    settings.DATABASES = {**settings.DATABASES, "replica": {**settings.DATABASES["default"]}}
    assert reports_db() == "replica"
    assert exports.ledger_claims(date(2026, 11, 1), date(2026, 11, 30)).db == "replica"
    assert claim_selectors.visible_claims(user=None).db == "default"  # ordinary reads stay on the primary
    router = ReplicaRouter()
    assert router.db_for_write(None) == "default" and router.db_for_read(None) is None
    assert not router.allow_migrate("replica", "claims") and router.allow_migrate("default", "claims")


def test_storage_is_disk_unless_a_bucket_is_configured():
    assert default_storage_from_env({})["BACKEND"] == "django.core.files.storage.FileSystemStorage"
    s3 = default_storage_from_env({"STORAGE_S3_BUCKET": "docs", "STORAGE_S3_ENDPOINT_URL": "http://s3.local"})
    assert s3["BACKEND"] == "storages.backends.s3.S3Storage"
    assert s3["OPTIONS"]["bucket_name"] == "docs" and s3["OPTIONS"]["endpoint_url"] == "http://s3.local"
    assert s3["OPTIONS"]["file_overwrite"] is False and s3["OPTIONS"]["default_acl"] is None


@pytest.fixture
def s3_server(monkeypatch):
    from moto.server import ThreadedMotoServer

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


def test_files_go_to_the_s3_bucket_the_environment_names(s3_server, settings):
    client = boto3.client("s3", endpoint_url=s3_server, region_name="us-east-1")
    client.create_bucket(Bucket="claims-files")
    settings.STORAGES = {
        **settings.STORAGES,
        "default": default_storage_from_env(
            {"STORAGE_S3_BUCKET": "claims-files", "STORAGE_S3_ENDPOINT_URL": s3_server, "STORAGE_S3_PREFIX": "prod"}
        ),
    }
    first = default_storage.save("documents/statement.pdf", ContentFile(b"%PDF-1.7 first"))
    second = default_storage.save("documents/statement.pdf", ContentFile(b"%PDF-1.7 second"))
    assert first == "documents/statement.pdf" and second != first  # never overwritten
    with default_storage.open(first) as handle:
        assert handle.read() == b"%PDF-1.7 first"
    keys = {o["Key"] for o in client.list_objects_v2(Bucket="claims-files")["Contents"]}
    assert keys == {f"prod/{first}", f"prod/{second}"}
    assert "Signature=" in default_storage.url(first)  # private objects, signed links
