"""The public register of licences the law requires to be displayed (Electronic Government Operations Act).

Only what the public needs to see is shown: the licence, the business and where it is, and the
licence's standing. Never the holder's ID number, and no personal name (PDPA): a business is found by
its name, number and area.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel
from sqlmodel import Session, col, or_, select

from bizportal.engine.catalogue.catalogue import Catalogue
from bizportal.engine.paging import Keyset, Page, SortKey, fetch_page
from bizportal.storage.applications import ApplicationRow
from bizportal.storage.issued_licences import IssuedLicenceRow, LicenceStanding

NOT_LISTED = (LicenceStanding.CANCELLED, LicenceStanding.RENEWED, LicenceStanding.REPLACED)


class RegisterEntry(BaseModel):
    number: str
    licence_code: str
    licence_name_th: str
    licence_name_en: str
    agency: str
    business_name: str
    province: str
    district: str | None
    issued_on: date
    valid_until: date | None
    status: str


REGISTER_ORDER = Keyset("register", (SortKey(IssuedLicenceRow.issued_on, date, descending=True),
                                     SortKey(IssuedLicenceRow.number, str, descending=True)))


def search(session: Session, catalogue: Catalogue, text: str | None = None, province: str | None = None,
           district: str | None = None, limit: int = 50, offset: int = 0,
           cursor: list[Any] | None = None) -> Page[RegisterEntry]:
    """Licences that must be displayed, matching a business name or licence number and an area, newest first,
    one page after `cursor` (engine/paging.py).

    Raises:
        InvalidInput: a cursor that is not this list's.
    """
    displayed = [code for code, manual in catalogue.licences.items() if manual.public_display_required]
    query = (select(IssuedLicenceRow, ApplicationRow)
             .join(ApplicationRow, col(ApplicationRow.id) == col(IssuedLicenceRow.application_id))
             .where(col(IssuedLicenceRow.licence_code).in_(displayed),
                    # A cancelled licence is no longer held; a renewed or replaced one is listed as its successor.
                    col(IssuedLicenceRow.status).not_in(NOT_LISTED)))
    if text:
        pattern = f"%{text.strip()}%"
        query = query.where(or_(col(IssuedLicenceRow.business_name).ilike(pattern),
                                col(IssuedLicenceRow.number).ilike(pattern)))
    if province:
        query = query.where(ApplicationRow.business_province == province.strip())
    if district:
        query = query.where(ApplicationRow.business_district == district.strip())
    page = fetch_page(session, query, REGISTER_ORDER, limit, cursor, offset=offset, keyed=lambda row: row[0])
    entries = []
    for issued, application in page.items:
        manual = catalogue.licence(issued.licence_code)
        entries.append(RegisterEntry(
            number=issued.number, licence_code=issued.licence_code, licence_name_th=manual.name_th,
            licence_name_en=manual.name_en, agency=issued.agency, business_name=issued.business_name,
            province=application.business_province, district=application.business_district,
            issued_on=issued.issued_on, valid_until=issued.valid_until, status=issued.status))
    return Page(entries, page.next)
