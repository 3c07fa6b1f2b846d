"""Changing a draft and submitting it run one at a time: the change's row lock holds the submit back."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from bizportal.engine.applications import applications
from bizportal.engine.applications.input import ApplicationChange, ApplicationInput
from bizportal.engine.assembly import LicensingEngine
from bizportal.engine.principal import Principal, Role
from bizportal.engine.uploads import documents
from bizportal.storage.database import transaction
from support.helpers import ALICE_ID, application_body
from support.uploads import pdf

pytestmark = pytest.mark.parametrize("database_url", [pytest.param("postgresql", marks=pytest.mark.postgres)],
                                     indirect=True)
ALICE = Principal("alice", Role.APPLICANT, id_number=ALICE_ID, ial="2.3", aal="2")


def test_a_submit_waits_for_a_change_in_progress_and_submits_it(engine: LicensingEngine) -> None:
    ctx = engine.ctx
    with transaction(engine.db) as session:
        draft, _ = applications.create(ctx, session, ALICE, ApplicationInput.model_validate(application_body()))
    with transaction(engine.db) as session:  # the one document the applicant provides for this licence
        documents.upload(ctx, session, ALICE, draft.id, "premises_map_and_floor_plan", "plan.pdf", io.BytesIO(pdf()))
    with transaction(engine.db) as changing:
        applications.change(ctx, changing, ALICE, draft.id, ApplicationChange.model_validate(
            {"business": {"name": "ร้านที่เปลี่ยนชื่อ"}}))
        # Another request submits meanwhile: it waits for the change (here it gives up after 200 ms instead of
        # waiting), so it can neither check the old draft nor write it over the change.
        with pytest.raises(OperationalError, match="lock timeout"), transaction(engine.db) as submitting:
            submitting.execute(text("SET LOCAL lock_timeout = '200ms'"))
            applications.submit(ctx, submitting, ALICE, draft.id)
    with transaction(engine.db) as session:
        submitted = applications.submit(ctx, session, ALICE, draft.id)
        assert submitted.business_name == "ร้านที่เปลี่ยนชื่อ" and submitted.status == "submitted"
