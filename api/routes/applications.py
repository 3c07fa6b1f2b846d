"""Applications: create, submit, follow."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Header, Request, Response

from bizportal.api.deps import EngineDep, PrincipalDep, command, query
from bizportal.api.pagination import Cursor, Offset, decode, limit_param, paged_responses, with_next
from bizportal.engine.applications import applications, withdrawals
from bizportal.engine.applications.applications import ApplicationSummary, ApplicationView
from bizportal.engine.applications.input import ApplicationChange, ApplicationInput
from bizportal.engine.applications.withdrawals import WithdrawalInput
from bizportal.engine.notices.log import NotificationView, readable_notifications

router = APIRouter(prefix="/api/v1/applications", tags=["applications"])



@router.post("", status_code=201, response_model=ApplicationView,
             summary="Create a draft application for one or more licences",
             responses={200: {"description": "replay of an earlier request with the same Idempotency-Key"}})
def create_application(body: ApplicationInput, engine: EngineDep, principal: PrincipalDep,
                       background: BackgroundTasks, response: Response,
                       idempotency_key: Annotated[str | None, Header(max_length=200)] = None) -> ApplicationView:
    with command(engine, background) as session:
        application, created = applications.create(engine.ctx, session, principal, body, idempotency_key)
        if not created:
            response.status_code = 200
        return applications.view(engine.ctx, session, principal, application.id)


@router.get("", response_model=list[ApplicationSummary], summary="The caller's own applications, newest first",
            responses=paged_responses())
def list_applications(request: Request, response: Response, engine: EngineDep, principal: PrincipalDep,
                      limit: Annotated[int, limit_param(500)] = 100, cursor: Cursor = None,
                      offset: Offset = 0) -> list[ApplicationSummary]:
    with query(engine) as session:
        return with_next(request, response, applications.list_for(engine.ctx, session, principal, limit, offset,
                                                                  decode(cursor)))


@router.get("/{application_id}", response_model=ApplicationView,
            summary="Status of an application and each of its licences, invoices and timeline")
def get_application(application_id: str, engine: EngineDep, principal: PrincipalDep,
                    response: Response) -> ApplicationView:
    with query(engine) as session:
        view = applications.view(engine.ctx, session, principal, application_id)
    response.headers["ETag"] = f'"{view.version}"'
    return view


@router.patch("/{application_id}", response_model=ApplicationView,
              summary="Change a draft: business, applicant's name/e-mail/language, forms, licences (until submitted)")
def change_application(application_id: str, body: ApplicationChange, engine: EngineDep, principal: PrincipalDep,
                       background: BackgroundTasks, response: Response,
                       if_match: Annotated[str | None, Header(max_length=200, description="the ETag (`version`) "
                                                              "the change was made on; 412 if it changed since")]
                       = None) -> ApplicationView:
    with command(engine, background) as session:
        applications.change(engine.ctx, session, principal, application_id, body, if_match)
        view = applications.view(engine.ctx, session, principal, application_id)
    response.headers["ETag"] = f'"{view.version}"'
    return view


@router.post("/{application_id}/submit", response_model=ApplicationView,
             summary="Submit a draft: it gets a tracking number and each licence's process starts")
def submit_application(application_id: str, engine: EngineDep, principal: PrincipalDep,
                       background: BackgroundTasks) -> ApplicationView:
    with command(engine, background) as session:
        applications.submit(engine.ctx, session, principal, application_id)
        return applications.view(engine.ctx, session, principal, application_id)


@router.post("/{application_id}/withdrawal", response_model=ApplicationView,
             summary="Withdraw licences not yet issued (default: all); paid fees are refunded")
def withdraw_application(application_id: str, body: WithdrawalInput, engine: EngineDep, principal: PrincipalDep,
                         background: BackgroundTasks) -> ApplicationView:
    with command(engine, background) as session:
        withdrawals.withdraw(engine.ctx, session, principal, application_id, body)
        return applications.view(engine.ctx, session, principal, application_id)


@router.get("/{application_id}/notifications", response_model=list[NotificationView],
            summary="Every message sent about the application (the notification log), oldest first",
            responses=paged_responses())
def list_notifications(application_id: str, request: Request, response: Response, engine: EngineDep,
                       principal: PrincipalDep, limit: Annotated[int, limit_param(500)] = 200,
                       cursor: Cursor = None) -> list[NotificationView]:
    with query(engine) as session:
        return with_next(request, response, readable_notifications(engine.ctx, session, principal, application_id,
                                                                   limit, decode(cursor)))
