"""The citizen's manuals of the 78 licences: they load, hang together, and agree with the reference catalogue.

The manuals (``bpmn/<code>/manual.yaml``) are the checked-in source of truth. The reference catalogue
(``shared/reference/bizportal`` beside the checkout) is read through ``catalogue_reference`` so a hand edit
of a manual that contradicts the reference fails here instead of drifting silently.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bizportal.engine.catalogue.manual import LicenceManual, load_manual
from bizportal.engine.catalogue.reference import (
    FOOD_FAMILY_CODE,
    ReferenceDataError,
    ReferenceLicence,
    load_business_types,
    load_reference,
    short_manual_url,
)

ROOT = Path(__file__).resolve().parents[3]
BPMN = ROOT / "bpmn"
REFERENCE = Path(__file__).resolve().parents[2] / "reference"  # pinned copy of the reference CSVs
MANUAL_FILES = sorted(BPMN.glob("*/manual.yaml"))
DECISION_KINDS = {"review", "inspection", "committee", "opinion", "public_hearing"}
LOCAL_AGENCIES = {"LAO", "BMA"}


@pytest.fixture(scope="module")
def manuals() -> dict[str, LicenceManual]:
    return {path.parent.name: load_manual(path) for path in MANUAL_FILES}


@pytest.fixture(scope="module")
def reference() -> dict[str, ReferenceLicence]:
    if not REFERENCE.is_dir():
        pytest.fail(f"the reference catalogue is missing: expected the folder {REFERENCE} beside the checkout "
                    "(shared/reference/bizportal with licences.csv, agencies.csv, business_types.csv)")
    return load_reference(REFERENCE)


def _ids(paths: list[Path]) -> list[str]:
    return [path.parent.name for path in paths]


# --- the manuals on their own ----------------------------------------------------------------------


def test_there_are_exactly_78_manuals() -> None:
    assert len(MANUAL_FILES) == 78, _ids(MANUAL_FILES)


@pytest.mark.parametrize("path", MANUAL_FILES, ids=_ids(MANUAL_FILES))
def test_the_manual_loads_and_is_named_after_its_folder(path: Path) -> None:
    manual = load_manual(path)
    assert manual.code == path.parent.name


def test_codes_are_unique(manuals: dict[str, LicenceManual]) -> None:
    codes = [manual.code for manual in manuals.values()]
    assert len(codes) == len(set(codes)) == 78


def test_every_agency_is_in_agencies_yaml(manuals: dict[str, LicenceManual]) -> None:
    listed = yaml.safe_load((BPMN / "agencies.yaml").read_text(encoding="utf-8"))["agencies"]
    agencies = {item["code"] for item in listed}
    assert {code: manual.agency for code, manual in manuals.items() if manual.agency not in agencies} == {}


def test_prerequisites_name_existing_manuals_without_cycles(manuals: dict[str, LicenceManual]) -> None:
    unknown = {code: [p for p in manual.prerequisites if p not in manuals] for code, manual in manuals.items()}
    assert {code: missing for code, missing in unknown.items() if missing} == {}
    done: set[str] = set()

    def visit(code: str, path: tuple[str, ...]) -> None:
        if code in path:
            pytest.fail(f"prerequisite cycle: {' -> '.join((*path, code))}")
        if code in done:
            return
        for prerequisite in manuals[code].prerequisites:
            visit(prerequisite, (*path, code))
        done.add(code)

    for code in manuals:
        visit(code, ())


def test_the_prerequisites_the_law_orders(manuals: dict[str, LicenceManual]) -> None:
    assert manuals["vet_facility_establishment_licence"].prerequisites == ["vet_facility_plan_approval"]
    assert manuals["vet_facility_operator_licence"].prerequisites == ["vet_facility_plan_approval"]
    assert manuals["clinic_operator_licence"].prerequisites == ["clinic_business_licence"]
    assert manuals["hospital_business_licence"].prerequisites == []


@pytest.mark.parametrize("path", MANUAL_FILES, ids=_ids(MANUAL_FILES))
def test_steps_run_from_the_document_check_through_decisions_to_the_issue(path: Path) -> None:
    steps = load_manual(path).steps
    assert steps[0].kind == "document_check"
    assert steps[-1].kind == "issue"
    middle = [step.kind for step in steps[1:-1]]
    assert middle, "at least one decision step between the document check and the issue"
    assert set(middle) <= DECISION_KINDS


@pytest.mark.parametrize("path", MANUAL_FILES, ids=_ids(MANUAL_FILES))
def test_the_shape_fits_the_decision_steps(path: Path) -> None:
    manual = load_manual(path)
    kinds = {step.kind for step in manual.steps}
    if manual.shape == "custom":
        # A hand-written process (a procedure no shape fits) must exist and say it is not generated.
        process = (path.parent / "process.bpmn").read_text(encoding="utf-8")
        assert "Generated from manual.yaml" not in process
        return
    if manual.shape == "permit_committee" or "committee" in kinds:
        assert manual.shape == "permit_committee" and "committee" in kinds
    elif manual.shape == "permit_inspection":
        assert "inspection" in kinds
    elif manual.shape == "permit":
        assert not kinds & {"inspection", "committee"}


@pytest.mark.parametrize("path", MANUAL_FILES, ids=_ids(MANUAL_FILES))
def test_local_government_licences_go_to_the_local_office(path: Path) -> None:
    manual = load_manual(path)
    assert manual.routing == ("local_office" if manual.agency in LOCAL_AGENCIES else "central")


@pytest.mark.parametrize("path", MANUAL_FILES, ids=_ids(MANUAL_FILES))
def test_identity_and_company_data_are_looked_up_not_uploaded(path: Path) -> None:
    documents = {document.id: document for document in load_manual(path).documents}
    assert documents["applicant_id_card"].obtained_by_exchange
    assert documents["juristic_person_certificate"].obtained_by_exchange
    assert not documents["juristic_person_certificate"].required
    assert not documents["power_of_attorney"].required


@pytest.mark.parametrize("path", MANUAL_FILES, ids=_ids(MANUAL_FILES))
def test_the_inferred_step_split_and_documents_are_marked_unverified(path: Path) -> None:
    manual = load_manual(path)
    assert "steps" in manual.unverified or any(item.startswith("steps.") for item in manual.unverified)
    assert "documents" in manual.unverified
    assert manual.channel_discount_percent == 0


# --- against the reference catalogue ---------------------------------------------------------------


def test_the_manuals_are_the_reference_selection(manuals: dict[str, LicenceManual],
                                                 reference: dict[str, ReferenceLicence]) -> None:
    assert len(reference) == 78
    assert set(manuals) == set(reference)


def test_each_manual_matches_its_reference_row(manuals: dict[str, LicenceManual],
                                               reference: dict[str, ReferenceLicence]) -> None:
    problems: list[str] = []
    for code, ref in reference.items():
        manual = manuals[code]
        unverified = set(manual.unverified)

        def check(field: str, actual: object, expected: object, code: str = code) -> None:
            if actual != expected:
                problems.append(f"{code}: {field} is {actual!r}, the reference says {expected!r}")

        check("name_th", manual.name_th, ref.name_th)
        check("name_en", manual.name_en, ref.name_en)
        check("agency", manual.agency, ref.agency)
        check("legal_basis", manual.legal_basis, ref.legal_basis)
        if ref.legal_basis_inferred and "legal_basis" not in unverified:
            problems.append(f"{code}: the reference marks the legal basis inferred (*): list legal_basis as unverified")
        if ref.working_days is None:
            if "total_working_days" not in unverified:
                problems.append(f"{code}: the reference gives no working days: list total_working_days as unverified")
        elif "total_working_days" not in unverified:
            check("total_working_days", manual.total_working_days, ref.working_days)
        check("fee.type", manual.fee.type, ref.fee.type)
        check("fee.min_satang", manual.fee.min_satang, ref.fee.min_satang)
        if ref.fee.type == "fixed":
            check("fee.max_satang", manual.fee.max_satang in (None, ref.fee.min_satang), True)
        else:
            check("fee.max_satang", manual.fee.max_satang, ref.fee.max_satang)
        check("must_file_at_counter", manual.must_file_at_counter, ref.must_file_at_counter)
        if "elicence" not in unverified:
            check("elicence", manual.elicence, ref.elicence)
        check("variants", sorted(manual.variants), sorted(ref.variants))
        if "business_types" in unverified:
            check("business_types ⊇ reference", set(ref.business_types) <= set(manual.business_types), True)
        else:
            check("business_types", sorted(manual.business_types), sorted(ref.business_types))
        if ref.business_types_inferred or not ref.business_types:
            check("business_types listed as unverified", "business_types" in unverified, True)
        check("validity_years", manual.validity_years, ref.validity_years)
        if ref.validity_unverified:
            check("validity listed as unverified", bool(unverified & {"validity_years", "validity_note"}), True)
        check("manual_url", manual.manual_url, ref.manual_url)
    assert problems == []


def test_the_food_family_holds_the_26_grouped_trades(manuals: dict[str, LicenceManual],
                                                     reference: dict[str, ReferenceLicence]) -> None:
    family = manuals[FOOD_FAMILY_CODE]
    expected = {sub.code: (sub.name_th, sub.name_en) for sub in reference[FOOD_FAMILY_CODE].sub_types}
    assert len(expected) == 26
    assert {sub.code: (sub.name_th, sub.name_en) for sub in family.sub_types} == expected
    assert (family.fee.min_satang, family.fee.max_satang) == (20_000, 1_000_000)  # the widest of the 26 rows
    assert family.remarks is not None and "widest" in family.remarks


def test_every_business_type_has_at_least_one_licence(manuals: dict[str, LicenceManual]) -> None:
    if not REFERENCE.is_dir():
        pytest.fail(f"the reference catalogue is missing: expected the folder {REFERENCE} beside the checkout")
    business_types = load_business_types(REFERENCE)
    assert len(business_types) == 25
    covered = {business for manual in manuals.values() for business in manual.business_types}
    assert [business for business in business_types if business not in covered] == []
    assert covered <= set(business_types), covered - set(business_types)


# --- the converter ----------------------------------------------------------------------------------


def test_handbook_links_are_shortened_to_their_number() -> None:
    long = "https://www.info.go.th/#!/th/search/6629/%E0%B8%A3%E0%B9%89%E0%B8%B2%E0%B8%99/"
    assert short_manual_url(long) == "https://info.go.th/#!/th/search/6629/"
    assert short_manual_url("https://info.go.th/Intro#!/th/search/9387/x/") == "https://info.go.th/#!/th/search/9387/"
    assert short_manual_url("https://info.go.th/#!/th/search///") is None
    assert short_manual_url("") is None


def test_a_missing_reference_folder_is_reported(tmp_path: Path) -> None:
    with pytest.raises(ReferenceDataError, match="cannot read"):
        load_reference(tmp_path)


def test_every_manual_states_an_aal_reasoned_from_its_ial_and_marked_inferred(
        manuals: dict[str, LicenceManual]) -> None:
    """No source gives a licence's AAL yet: AAL 2 (two factors) goes with IAL 2, AAL 3 with IAL 3, and every
    one is listed under `unverified` until the agency states its own."""
    for code, manual in manuals.items():
        assert manual.aal == (3 if manual.ial_level.major == 3 else 2), code
        assert "aal" in manual.unverified and "ial" in manual.unverified, code
        assert manual.assurance.what == code
