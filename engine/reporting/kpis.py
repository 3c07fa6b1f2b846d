"""Performance indicators per licence and per agency, from the projections only.

For each licence (and each agency, and overall): the cases submitted, those decided, the median working
days from the start of the agency's clock to the decision (pauses while the applicant owed documents
left out), the share decided within the manual's time, the cases overdue now, and the applicants'
satisfaction (the mean of their 1-5 ratings after a decision). Cancelled cases were
withdrawn, not decided: they are counted apart and left out of the timings. Reads `licence_case`,
`case_clock` and the catalogue (for names); no workflow is loaded.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from statistics import median

from pydantic import BaseModel
from sqlmodel import Session, col, func, select

from bizportal.engine.catalogue.catalogue import Catalogue
from bizportal.engine.deadlines.statutory_clock import is_overdue, working_days_used
from bizportal.engine.statuses import Status
from bizportal.storage.applications import LicenceCaseRow
from bizportal.storage.statutory_clocks import CaseClockRow
from bizportal.storage.surveys import SatisfactionSurveyRow


class KpiRow(BaseModel):
    code: str
    name_th: str
    name_en: str
    applications: int  # cases submitted (a case per licence of each application)
    decided: int
    cancelled: int
    median_working_days: float | None  # to the decision; None until one is decided
    on_time_share: float | None  # decided within the manual's total time, of those decided
    overdue_now: int  # undecided and past the total deadline
    ratings: int = 0  # satisfaction surveys answered after a decision
    satisfaction: float | None = None  # their mean rating, 1 (very dissatisfied) to 5 (very satisfied)


class KpiReport(BaseModel):
    computed_at: datetime
    overall: KpiRow
    licences: list[KpiRow]
    agencies: list[KpiRow]


@dataclass
class _Tally:
    applications: int = 0
    cancelled: int = 0
    durations: list[int] = field(default_factory=list)
    on_time: int = 0
    overdue_now: int = 0
    ratings: list[int] = field(default_factory=list)

    def row(self, code: str, name_th: str, name_en: str) -> KpiRow:
        decided = len(self.durations)
        return KpiRow(code=code, name_th=name_th, name_en=name_en, applications=self.applications,
                      decided=decided, cancelled=self.cancelled,
                      median_working_days=float(median(self.durations)) if decided else None,
                      on_time_share=round(self.on_time / decided, 4) if decided else None,
                      overdue_now=self.overdue_now, ratings=len(self.ratings),
                      satisfaction=round(sum(self.ratings) / len(self.ratings), 2) if self.ratings else None)


def kpis(session: Session, catalogue: Catalogue, now: datetime) -> KpiReport:
    """Every licence and agency of the catalogue (zeros where nothing was filed), and the overall figures."""
    by_licence: dict[str, _Tally] = defaultdict(_Tally)
    by_agency: dict[str, _Tally] = defaultdict(_Tally)
    overall = _Tally()
    for code, agency, count in session.exec(
            select(LicenceCaseRow.licence_code, LicenceCaseRow.agency, func.count())
            .where(col(LicenceCaseRow.status) != Status.DRAFT.value)
            .group_by(col(LicenceCaseRow.licence_code), col(LicenceCaseRow.agency))):
        for tally in (by_licence[code], by_agency[agency], overall):
            tally.applications += count
    for row, code, agency, status in session.exec(
            select(CaseClockRow, LicenceCaseRow.licence_code, LicenceCaseRow.agency, LicenceCaseRow.status)
            .join(LicenceCaseRow, col(LicenceCaseRow.id) == col(CaseClockRow.case_id))):
        tallies = (by_licence[code], by_agency[agency], overall)
        if status == Status.CANCELLED:
            for tally in tallies:
                tally.cancelled += 1
        elif row.decided_at is not None:
            days, on_time = working_days_used(row, now), row.decided_at <= row.due_at
            for tally in tallies:
                tally.durations.append(days)
                tally.on_time += on_time
        elif is_overdue(row, now):
            for tally in tallies:
                tally.overdue_now += 1
    for code, agency, rating in session.exec(select(SatisfactionSurveyRow.licence_code, SatisfactionSurveyRow.agency,
                                                    SatisfactionSurveyRow.rating)):
        for tally in (by_licence[code], by_agency[agency], overall):
            tally.ratings.append(rating)
    licences = [by_licence[code].row(code, manual.name_th, manual.name_en)
                for code, manual in sorted(catalogue.licences.items())]
    licences += [tally.row(code, code, code) for code, tally in sorted(by_licence.items())
                 if code not in catalogue.licences]
    agencies = [by_agency[code].row(code, agency.name_th, agency.name_en)
                for code, agency in sorted(catalogue.agencies.items())]
    agencies += [tally.row(code, code, code) for code, tally in sorted(by_agency.items())
                 if code not in catalogue.agencies]
    return KpiReport(computed_at=now, overall=overall.row("all", "ทั้งหมด", "All licences"),
                     licences=licences, agencies=agencies)
