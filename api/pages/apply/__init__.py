"""The entrepreneur's application journey, GOV.UK style: start (`/apply`: the licences chosen in the finder or the
catalogue), the shared data entered once (`/apply/details`, `POST /apply` creates the draft), then the draft's
task list (`/apply/{id}`) with the business (`/business`), each licence's form (`/licences/{code}`), the
documents (`/documents`), check your answers and submit (`/check`), and the confirmation (`/done`).

- `access.py`: who may use the pages (applicants; counter officers on drafts they file under a consent), the
  route class that shows the engine's refusals as pages, the draft a page reads.
- `start.py`, `shared_data.py`: the start, the shared data and the draft's creation.
- `tasks.py`: the task list, the shared data's change, check your answers, submit, confirmation.
- `licence_form.py`: one licence's typed form; `documents.py`: the documents checklist and uploads.

Every page calls the same engine use case as the JSON route of the same action; nothing here decides a rule.
"""

from __future__ import annotations

from fastapi import APIRouter

from bizportal.api.pages.apply import documents, licence_form, start, tasks

# `start` first: `/apply/details` is matched before `/apply/{application_id}`.
ROUTERS: tuple[APIRouter, ...] = (start.router, tasks.router, licence_form.router, documents.router)
