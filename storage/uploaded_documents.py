"""Documents an applicant uploaded for an application: one row per version of a manual's document.

The bytes live in the object store under their content key; a row says whose they are, which document of
which licence they answer, and which version. Deleting a draft's upload marks the row (`deleted_at`): the
audit trail keeps pointing at something.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from bizportal.storage.columns import UTCDateTime


class UploadedDocumentRow(SQLModel, table=True):
    __tablename__ = "uploaded_document"
    # One row per version: two uploads of one document racing for the same number cannot both be kept.
    __table_args__ = (UniqueConstraint("application_id", "document", "version", name="uq_uploaded_document_version"),)

    id: str = Field(primary_key=True, max_length=36)
    application_id: str = Field(foreign_key="application.id", index=True, max_length=36)
    licence_code: str = Field(max_length=100, description="the licence whose manual lists the document")
    document: str = Field(max_length=100, description="the document code of that manual")
    version: int = Field(description="1 for the first upload of this document to this application, then 2, ...")
    filename: str = Field(max_length=255, description="sanitised")
    content_type: str = Field(max_length=100, description="recognised from the content")
    size: int
    sha256: str = Field(max_length=64)
    object_key: str = Field(max_length=200)
    uploaded_at: datetime = Field(sa_type=UTCDateTime)
    uploaded_by: str = Field(max_length=400, description="audit label of who uploaded it")
    deleted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    deleted_by: str | None = Field(default=None, max_length=400)
    # Uploaded after submission, in answer to the agency's request for documents (the only time that may happen).
    answers_request: bool = False
