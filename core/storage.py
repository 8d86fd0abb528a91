"""Where uploaded and issued files live: the local disk (one machine) or S3-compatible object
storage (several web and worker hosts share it), chosen by environment variables."""

from collections.abc import Mapping


def default_storage_from_env(environ: Mapping[str, str]) -> dict:
    """The ``STORAGES["default"]`` entry for ``environ``.

    ``STORAGE_S3_BUCKET`` switches to django-storages' S3 backend; ``STORAGE_S3_ENDPOINT_URL``
    points it at any S3-compatible server (MinIO, Ceph, a cloud's), ``STORAGE_S3_REGION`` and
    ``STORAGE_S3_PREFIX`` are optional; credentials come the usual boto3 way
    (``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``, an instance role…). Files are private
    (no ACL, signed URLs) and never overwritten: a name already taken gets a suffix, as on disk.
    """
    bucket = environ.get("STORAGE_S3_BUCKET", "")
    if not bucket:
        return {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    options = {
        "bucket_name": bucket,
        "default_acl": None,
        "file_overwrite": False,
        "querystring_auth": True,
        "location": environ.get("STORAGE_S3_PREFIX", ""),
    }
    if environ.get("STORAGE_S3_ENDPOINT_URL"):
        options["endpoint_url"] = environ["STORAGE_S3_ENDPOINT_URL"]
    if environ.get("STORAGE_S3_REGION"):
        options["region_name"] = environ["STORAGE_S3_REGION"]
    return {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": options}
