"""Imports every table so metadata (and Alembic) see the whole schema."""

from sqlmodel import SQLModel

from bizportal.storage.agency_tables import AgencyCallbackRow, IncidentRow, TaskDeliveryRow
from bizportal.storage.applications import ApplicationRow, LicenceCaseRow
from bizportal.storage.audit_chain import AuditChainHeadRow
from bizportal.storage.audit_events import AuditEventRow
from bizportal.storage.consents import CounterConsentRow
from bizportal.storage.counters import CounterRow
from bizportal.storage.issued_licences import IssuedLicenceRow
from bizportal.storage.notifications import NotificationRow
from bizportal.storage.online_payments import OnlinePaymentRow, PaymentEventRow, PaymentInvoiceRow
from bizportal.storage.outbox import OutboxRow
from bizportal.storage.payments import InvoiceRow, PaymentRow
from bizportal.storage.receipts import ReceiptRow
from bizportal.storage.refunds import RefundRow
from bizportal.storage.representatives import RepresentativeRow
from bizportal.storage.staff import StaffMemberRow
from bizportal.storage.statutory_clocks import CaseClockRow
from bizportal.storage.surveys import SatisfactionSurveyRow
from bizportal.storage.uploaded_documents import UploadedDocumentRow
from bizportal.storage.workflow_tables import (
    HumanTaskRow,
    ProcessDefinitionRow,
    TimerRow,
    WorkflowInstanceRow,
)

metadata = SQLModel.metadata

__all__ = [
    "AgencyCallbackRow", "ApplicationRow", "AuditChainHeadRow", "AuditEventRow", "CaseClockRow", "CounterConsentRow",
    "CounterRow", "HumanTaskRow", "IncidentRow", "InvoiceRow", "IssuedLicenceRow", "LicenceCaseRow", "NotificationRow",
    "OnlinePaymentRow", "OutboxRow", "PaymentEventRow", "PaymentInvoiceRow", "PaymentRow", "ProcessDefinitionRow",
    "ReceiptRow", "RefundRow", "RepresentativeRow", "SatisfactionSurveyRow", "StaffMemberRow", "TaskDeliveryRow",
    "TimerRow", "UploadedDocumentRow", "WorkflowInstanceRow", "metadata",
]
