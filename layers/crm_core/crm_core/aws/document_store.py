"""Storing generated documents (quote PDFs) in Amazon S3, and presigned links to them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class StoredDocument:
    """Where a document was stored, and the ETag S3 gave it."""

    bucket: str
    key: str
    etag: str | None


class DocumentStore(Protocol):
    """Stores bytes under a key (putting the same key again replaces it) and links to them."""

    def put(
        self, *, bucket: str, key: str, body: bytes, content_type: str, metadata: dict[str, str]
    ) -> StoredDocument: ...

    def presigned_get_url(self, *, bucket: str, key: str, expires_in_seconds: int) -> str: ...


class S3DocumentStore:
    """S3 ``PutObject`` with server-side encryption; presigned ``GetObject`` URLs."""

    def put(self, *, bucket: str, key: str, body: bytes, content_type: str, metadata: dict[str, str]) -> StoredDocument:
        from crm_core.aws.clients import aws_client

        response = aws_client("s3").put_object(
            Bucket=bucket,
            Key=key,
            Body=body,
            ContentType=content_type,
            Metadata=metadata,
            ServerSideEncryption="AES256",
        )
        return StoredDocument(bucket=bucket, key=key, etag=response.get("ETag"))

    def presigned_get_url(self, *, bucket: str, key: str, expires_in_seconds: int) -> str:
        from crm_core.aws.clients import aws_client

        url: str = aws_client("s3").generate_presigned_url(
            "get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=expires_in_seconds
        )
        return url
