"""The licence finder: the reference's answer -> licence rules for the 25 business types, and its errors."""

from __future__ import annotations

import csv
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from bizportal.engine.catalogue.finder import Condition, Finder, Group, Leaf, Rule, load_finder
from bizportal.engine.catalogue.manual import ManualError, load_manual
from bizportal.engine.errors import DefinitionError, InvalidInput, NotFound

ROOT = Path(__file__).resolve().parents[3]
FINDER_DIR = ROOT / "bpmn" / "finder"
# The research the data was built from (DESIGN.md: "../shared/reference/").
REFERENCE = ROOT / "tests" / "reference"  # pinned copy of the reference CSVs
FOOD_FAMILY = "hh_food_beverage_family"
# Until every manual states its prerequisites, the ones the reference names.
PREREQUISITES = {"vet_facility_establishment_licence": ["vet_facility_plan_approval"],
                 "vet_facility_operator_licence": ["vet_facility_plan_approval"],
                 "clinic_operator_licence": ["clinic_business_licence"]}


def _reference_rows(name: str) -> list[dict[str, str]]:
    path = REFERENCE / name
    if not path.exists():
        pytest.fail(f"the pinned reference {path} is missing (see tests/reference/README.md)")
    with path.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _catalogue_facts() -> tuple[set[str], dict[str, list[str]], dict[str, set[str]]]:
    """Licence codes, prerequisites and sub-types: from the 78 manuals once they all exist, else the reference."""
    paths = sorted((ROOT / "bpmn").glob("*/manual.yaml"))
    if len(paths) >= 78:
        try:
            manuals = [load_manual(path) for path in paths]
        except ManualError:
            manuals = []  # another manual is being written; the reference still says what the codes are
        if len(manuals) >= 78:
            return ({m.code for m in manuals}, {m.code: list(m.prerequisites) for m in manuals if m.prerequisites},
                    {m.code: {s.code for s in m.sub_types} for m in manuals if m.sub_types})
    rows = _reference_rows("licences.csv")
    codes = {row["code"] for row in rows if row["in_proposed_78"] == "yes"} | {FOOD_FAMILY}
    food = {row["code"] for row in rows if row["code"].startswith("hh_food_")}
    return codes, PREREQUISITES, {FOOD_FAMILY: food}


@pytest.fixture(scope="module")
def finder() -> Finder:
    codes, prerequisites, sub_types = _catalogue_facts()
    return load_finder(FINDER_DIR, codes, prerequisites, sub_types=sub_types)


def codes(finder: Finder, business_type: str, answers: Mapping[str, object] | None = None) -> list[str]:
    return [found.code for found in finder.find(business_type, answers or {})]


def _catalogue_code(licence: str) -> tuple[str, str | None]:
    """The reference's licence code -> (code among the 78, sub-type)."""
    if licence.startswith("hh_food_"):
        return FOOD_FAMILY, licence
    if licence == "hh_services_generic_legacy":
        return "hh_entertainment", None  # the Phase-2 record that replaced the legacy generic one
    return licence, None


# --- the data covers the reference ------------------------------------------------------------------------------

def test_one_questionnaire_per_business_type_with_its_names(finder: Finder) -> None:
    types = {row["code"]: row for row in _reference_rows("business_types.csv")}
    assert [b.code for b in finder.business_types()] == sorted(types)
    for business in finder.business_types():
        assert (business.name_th, business.name_en) == (types[business.code]["name_th"],
                                                        types[business.code]["name_en"])


def test_every_always_row_is_listed_without_answers(finder: Finder) -> None:
    rows = [row for row in _reference_rows("business_licences.csv") if row["requirement"] == "always"]
    assert rows, "the reference has always-rows"
    for row in rows:
        found = {f.code: f for f in finder.find(row["business_type_code"], {})}
        code, _ = _catalogue_code(row["licence_code"])
        assert code in found and found[code].required, row


def test_every_conditional_row_is_reachable_by_some_answers(finder: Finder) -> None:
    rows = [row for row in _reference_rows("business_licences.csv") if row["requirement"] == "conditional"]
    assert len(rows) > 150
    for row in rows:
        business = finder.business_type(row["business_type_code"])
        code, sub_type = _catalogue_code(row["licence_code"])
        inferred = row["source"] == "inferred" or row["licence_code"] == "hh_services_generic_legacy"
        rules = [r for r in business.rules if (r.licence, r.sub_type) == (code, sub_type)]
        assert rules, f"{business.code} has no rule for {code} {sub_type or ''}"
        for rule in rules:
            assert not rule.required, f"{business.code}/{code} is conditional in the reference"
            if row["source"] == "inferred":
                assert rule.inferred, f"{business.code}/{code} is an inferred link"
            answers = _answers_satisfying(business.rules, rule, business.questions)
            found = {f.code: f for f in finder.find(business.code, answers)}
            assert code in found, f"{business.code}: {answers} should list {code}"
            assert sub_type is None or sub_type in found[code].sub_types
            if not inferred:
                assert not found[code].inferred


def test_the_finder_links_only_what_the_reference_links(finder: Finder) -> None:
    reference = {(row["business_type_code"], _catalogue_code(row["licence_code"])[0])
                 for row in _reference_rows("business_licences.csv")}
    linked = {(business.code, rule.licence) for business in finder.business_types() for rule in business.rules}
    assert linked == reference


def _answers_satisfying(rules: list[Rule], rule: Rule, questions: list[Any]) -> dict[str, object]:
    """Answers that make ``rule.when`` hold, with the parent answers every follow-up needs."""
    answers: dict[str, object] = {}
    assert rule.when is not None
    _satisfy(rule.when, answers)
    by_id = {question.id: question for question in questions}
    pending = list(answers)
    while pending:
        question = by_id[pending.pop()]
        if question.shown_if is not None:
            before = set(answers)
            _satisfy(question.shown_if, answers)
            pending += [q for q in answers if q not in before]
    return answers


def _satisfy(condition: Condition, answers: dict[str, object]) -> None:
    if isinstance(condition, Group):
        for item in condition.all:
            _satisfy(item, answers)
        if condition.any:
            _satisfy(condition.any[0], answers)
        return
    leaf: Leaf = condition
    if leaf.unanswered:
        answers.pop(leaf.question, None)
    elif leaf.equals is not None:
        answers[leaf.question] = leaf.equals
    elif leaf.includes is not None:
        ticked = answers.setdefault(leaf.question, [])
        assert isinstance(ticked, list)
        ticked.append(leaf.includes)
    else:
        bound = next(v for v in (leaf.at_least, leaf.above, leaf.below, leaf.at_most) if v is not None)
        answers[leaf.question] = bound + 1 if leaf.above is not None else bound - 1 if leaf.below is not None \
            else bound


# --- answers -> licences, per business type ---------------------------------------------------------------------

JURISTIC = {"owner_type": "juristic_person"}  # the restaurant lists commercial registration unless this is said


@pytest.mark.parametrize(("answers", "expected"), [
    ({"sells_alcohol": "yes"}, ["liquor_sale_licence"]),
    ({"sells_alcohol": "no", "sells_tobacco": "yes"}, ["tobacco_sale_licence"]),
    ({"floor_area_m2": 120}, ["food_premises_notice_small"]),
    ({"floor_area_m2": 199.5}, ["food_premises_notice_small"]),
    ({"floor_area_m2": 200}, ["food_premises_licence_large"]),
    ({"lpg_kg": 250}, []),
    ({"lpg_kg": 251}, ["lpg_storage_type2_notification"]),
    ({"lpg_kg": 1000}, ["lpg_storage_type2_notification"]),
    ({"lpg_kg": 1001}, ["lpg_storage_type3_licence"]),
    ({"uses_public_space": "yes"}, ["public_place_vending_licence"]),
    ({"entertainment_services": ["karaoke"]}, ["hh_entertainment", "video_shop_karaoke_licence"]),
    ({"entertainment_services": ["companion_staff"]}, ["entertainment_venue_licence_bkk"]),
    ({"entertainment_services": ["shows_before_midnight"]}, ["hh_entertainment"]),
    ({"entertainment_services": ["none"]}, []),
    ({"produces_for_separate_sale": "yes", "food_products": ["none"]}, []),
    ({"has_signboard": "yes"}, ["signboard_tax_filing"]),
])
def test_restaurant(finder: Finder, answers: dict[str, object], expected: list[str]) -> None:
    assert codes(finder, "restaurant", {**JURISTIC, **answers}) == expected


def test_restaurant_commercial_registration_unless_a_juristic_person_says_so(finder: Finder) -> None:
    assert codes(finder, "restaurant") == ["commercial_registration_local"]
    assert codes(finder, "restaurant", {"owner_type": "natural_person"}) == ["commercial_registration_local"]
    assert codes(finder, "restaurant", JURISTIC) == []


def test_restaurant_food_production_is_one_licence_with_its_sub_types(finder: Finder) -> None:
    found = finder.find("restaurant", {**JURISTIC, "produces_for_separate_sale": "yes",
                                       "food_products": ["meatballs", "ice_cream"]})
    assert [f.code for f in found] == [FOOD_FAMILY]
    (food,) = found
    assert food.sub_types == ["hh_food_meatballs", "hh_food_ice_cream"]
    assert "meatballs" in food.reason_en and "Ice-cream" in food.reason_en
    assert "ลูกชิ้น" in food.reason_th and not food.required


def test_restaurant_inferred_entertainment_licence_is_marked(finder: Finder) -> None:
    found = {f.code: f for f in finder.find("restaurant", {**JURISTIC, "entertainment_services": ["dance_floor"]})}
    assert set(found) == {"entertainment_venue_licence_bkk", "hh_entertainment"}
    assert found["hh_entertainment"].inferred and not found["entertainment_venue_licence_bkk"].inferred


@pytest.mark.parametrize(("answers", "expected"), [
    ({"builds_building": "yes", "building_special_types": ["high_rise", "public_building"]},
     ["building_permit_special"]),
    ({"builds_building": "yes", "building_special_types": ["none"], "building_is_large": "no"},
     ["building_permit_general"]),
    ({"builds_building": "yes", "building_special_types": ["none"], "building_is_large": "yes",
      "building_filing_office": "bma_public_works"}, ["building_permit_large_bma_dpw"]),
    ({"builds_building": "yes", "building_special_types": ["none"], "building_is_large": "yes",
      "building_filing_office": "district_office"}, ["building_permit_large_district"]),
    ({"builds_building": "no"}, []),
])
def test_building_works_block(finder: Finder, answers: dict[str, object], expected: list[str]) -> None:
    assert codes(finder, "restaurant", {**JURISTIC, **answers}) == expected
    assert codes(finder, "veterinary_clinic", answers)[3:] == expected  # after its three always-licences


def test_construction_asks_the_building_type_directly(finder: Finder) -> None:
    assert codes(finder, "construction", {"building_special_types": ["fuel_business"],
                                          "stores_or_mixes_materials": "yes"}) == [
        "building_permit_special", "hh_construction_materials"]
    assert codes(finder, "construction", {"building_special_types": ["none"], "building_is_large": "no"}) == [
        "building_permit_general"]


def test_veterinary_clinic_plan_approval_comes_first(finder: Finder) -> None:
    found = finder.find("veterinary_clinic", {"sells_animal_feed": "yes", "has_signboard": "yes"})
    assert [f.code for f in found] == ["vet_facility_plan_approval", "vet_facility_establishment_licence",
                                       "vet_facility_operator_licence", "controlled_animal_feed_sale_licence",
                                       "signboard_tax_filing"]
    assert [f.required for f in found] == [True, True, True, False, False]


@pytest.mark.parametrize(("answers", "expected"), [
    ({"lodging_more_than_monthly": "yes", "more_than_4_rooms": "yes", "more_than_20_guests": "yes"},
     ["hh_hotel_lodging", "hotel_business_licence"]),
    ({"lodging_more_than_monthly": "yes", "more_than_4_rooms": "yes", "more_than_20_guests": "no"},
     ["hh_hotel_lodging"]),  # the seed requires all three for the hotel licence
    ({"has_food_outlet": "yes", "food_outlet_area_m2": 80, "sells_alcohol": "yes", "lpg_kg": 400},
     ["food_premises_notice_small", "liquor_sale_licence", "lpg_storage_type2_notification"]),
    ({"has_food_outlet": "yes", "food_outlet_area_m2": 320}, ["food_premises_licence_large"]),
])
def test_hotel_resort(finder: Finder, answers: dict[str, object], expected: list[str]) -> None:
    assert codes(finder, "hotel_resort", answers) == expected


def test_spa(finder: Finder) -> None:
    assert codes(finder, "spa", {"spa_services": ["health_massage"], "has_signboard": "yes"}) == [
        "signboard_tax_filing", "spa_licence"]
    assert codes(finder, "spa", {"spa_services": []}) == []


@pytest.mark.parametrize(("answers", "expected"), [
    ({"goods_sold": ["modern_medicines", "controlled_seeds"]},
     ["controlled_seed_sale_licence", "modern_medicine_sale_licence"]),
    ({"goods_sold": ["animal_articles", "processed_animal_food", "pesticides"]},
     ["carcass_middleman_trade_licence", "hh_pesticides"]),
    ({"produces_or_imports_cosmetics": "yes", "cosmetics_not_all_notified": "yes"}, ["cosmetic_product_notification"]),
    ({"produces_or_imports_cosmetics": "yes", "cosmetics_not_all_notified": "no"}, []),
    ({"sells_or_stores_food": "yes", "floor_area_m2": 500}, ["food_premises_licence_large"]),
    ({"owner_type": "company_sme", "sells_via_direct_sales_agents": "yes"}, ["direct_sales_registration"]),
    ({"owner_type": "individual_1_8m_or_more", "sells_via_media": "yes"}, ["direct_marketing_registration"]),
    ({"owner_type": "individual_under_1_8m"}, []),
])
def test_retail_shop(finder: Finder, answers: dict[str, object], expected: list[str]) -> None:
    found = codes(finder, "retail_shop", answers)
    assert found[0] == "commercial_ecommerce_registration_dbd"  # always listed for retail, so first
    assert found[1:] == expected


def test_cosmetics_production(finder: Finder) -> None:
    assert codes(finder, "cosmetics_production", {"products_made": ["cosmetics"], "workers_or_hp_50_or_more": "yes",
                                                  "cosmetics_not_all_notified": "yes"}) == [
        "commercial_registration_local", "cosmetic_product_notification", "factory_class3_licence",
        "factory_class3_public_hearing_letter", "factory_class3_start_notification", "hh_cosmetics_toiletries"]
    assert codes(finder, "cosmetics_production", {"products_made": ["none"], "workers_or_hp_50_or_more": "no"}) == []


def test_sanatoria_for_beauty_clinics_and_elderly_care(finder: Finder) -> None:
    for business_type in ("beauty_clinic", "elderly_patient_care"):
        assert codes(finder, business_type, {"facility_type": "clinic"}) == [
            "clinic_business_licence", "clinic_operator_licence"]
        assert codes(finder, business_type, {"facility_type": "hospital", "has_hospital_plan_approval": "no"}) == [
            "hospital_plan_approval"]
        assert codes(finder, business_type, {"facility_type": "hospital", "has_hospital_plan_approval": "yes"}) == [
            "hospital_business_licence", "hospital_operator_licence"]
    assert codes(finder, "medical_devices", {"imports_medical_devices": "yes",
                                             "imported_device_category": "not_listed"}) == [
        "medical_device_import_certificate"]


def test_small_agricultural_processing(finder: Finder) -> None:
    factory = {"workers_or_hp_50_or_more": "yes", "palm_sugar_or_egg_hatching": "no"}
    assert codes(finder, "small_agri_processing", {**factory, "class2_factory_types": ["none"],
                                                   "biomass_fuel_or_boiler": "yes"}) == [
        "factory_class3_licence", "factory_class3_public_hearing_letter", "factory_class3_start_notification"]
    assert codes(finder, "small_agri_processing", {**factory, "class2_factory_types": ["sand_suction"]}) == [
        "factory_class2_notification", "factory_class2_public_hearing_letter"]
    assert codes(finder, "small_agri_processing", {"food_business_role": ["producer", "importer"],
                                                   "exports_food_needing_certificate": "yes"}) == [
        "food_certificate_of_free_sale", "food_import_licence", "food_production_licence"]


@pytest.mark.parametrize(("business_type", "answers", "expected"), [
    ("financial_services", {"activities": ["orders_shares", "securities_borrowing_lending"]},
     ["sec_licence_securities_borrowing_lending", "sec_licence_type_a"]),
    ("energy_generation", {"has_rooftop_solar": "yes", "rooftop_solar_inverter_kva": 999},
     ["energy_exempt_business_notification"]),
    ("energy_generation", {"has_rooftop_solar": "yes", "rooftop_solar_inverter_kva": 1000}, []),
    ("tourism", {"tour_kinds": ["inbound"], "has_signboard": "no"}, ["tour_business_licence"]),
    ("logistics", {"transport_kind": "for_hire"}, ["truck_nonscheduled_transport_licence"]),
    ("logistics", {"transport_kind": "own_goods"}, []),
    ("electronics_repair_sales", {"service_kind": "sale_only"}, ["radio_equipment_trade_licence"]),
    ("electronics_repair_sales", {"service_kind": "repair_only"},
     ["hh_electronics_repair", "radio_equipment_trade_licence"]),
    ("car_care", {"car_care_services": ["vacuuming"]}, ["hh_car_wash_care"]),
    ("fitness", {"sells_food_or_drinks": "yes", "floor_area_m2": 60}, ["hh_fitness", "food_premises_notice_small"]),
    ("coworking_space", {"sells_food_or_drinks": "no"}, []),
    ("ecommerce_clothing", {"selling_location": "hawker_or_stall", "delivery_channels": ["post"]},
     ["commercial_ecommerce_registration_dbd", "public_place_vending_licence"]),
    ("online_cosmetics_sales", {"selling_location": "online_only", "produces_or_imports_cosmetics": "yes"},
     ["cosmetic_product_notification"]),
    ("legal_accounting_advisory", {"services_offered": ["legal", "accounting"], "law_office_name_compliant": "yes",
                                   "accounting_objectives": "yes"},
     ["accounting_firm_registration", "law_office_registration"]),
    ("software_apps", {"software_features": ["no_additional_features"]}, ["software_house_id"]),
    ("education", {"applicant_type": "juristic_person", "meets_qualifications": "yes"},
     ["private_nonformal_school_permit"]),
    ("organic_farming", {"organic_plant_production": "yes"}, ["organic_plant_production_certificate"]),
])
def test_other_business_types(finder: Finder, business_type: str, answers: dict[str, object],
                              expected: list[str]) -> None:
    assert codes(finder, business_type, answers) == expected


def test_missing_none_and_empty_answers_count_as_not_asked(finder: Finder) -> None:
    assert codes(finder, "spa", {"spa_services": None, "has_signboard": None}) == []
    assert codes(finder, "logistics", {}) == []


def test_unknown_business_type_is_not_found(finder: Finder) -> None:
    with pytest.raises(NotFound, match="no_such_type"):
        finder.find("no_such_type", {})


# --- answers that cannot be right -------------------------------------------------------------------------------

@pytest.mark.parametrize(("business_type", "answers", "message", "details"), [
    ("restaurant", {"sells_spaceships": "yes"}, "unknown question 'sells_spaceships'",
     {"question": "sells_spaceships"}),
    ("restaurant", {"sells_alcohol": "maybe"}, "question 'sells_alcohol' has no choice 'maybe'",
     {"question": "sells_alcohol", "choice": "maybe"}),
    ("restaurant", {"entertainment_services": ["karaoke", "bowling"]},
     "question 'entertainment_services' has no choice 'bowling'",
     {"question": "entertainment_services", "choice": "bowling"}),
    ("restaurant", {"sells_alcohol": ["yes"]}, "question 'sells_alcohol' takes one choice, got a list",
     {"question": "sells_alcohol"}),
    ("restaurant", {"entertainment_services": "karaoke"}, "'entertainment_services' takes a list",
     {"question": "entertainment_services"}),
    ("restaurant", {"floor_area_m2": "big"}, "question 'floor_area_m2' takes a number", {"question": "floor_area_m2"}),
    ("restaurant", {"lpg_kg": True}, "question 'lpg_kg' takes a number", {"question": "lpg_kg"}),
    ("restaurant", {"lpg_kg": -5}, "0 or more", {"question": "lpg_kg"}),
])
def test_invalid_answers_name_the_question_and_choice(finder: Finder, business_type: str, answers: dict[str, object],
                                                      message: str, details: dict[str, object]) -> None:
    with pytest.raises(InvalidInput, match=message) as raised:
        finder.find(business_type, answers)
    assert raised.value.details == details
    assert raised.value.hint


@pytest.mark.parametrize(("business_type", "answers", "names"), [
    ("restaurant", {"entertainment_services": ["none", "karaoke"]}, ["'none'", "karaoke"]),
    ("restaurant", {"builds_building": "yes", "building_special_types": ["high_rise", "none"]},
     ["'none'", "high_rise"]),
    ("retail_shop", {"goods_sold": ["modern_medicines", "alcohol", "tobacco"]}, ["'modern_medicines'", "alcohol"]),
])
def test_a_none_choice_with_another_is_contradictory(finder: Finder, business_type: str, answers: dict[str, object],
                                                     names: list[str]) -> None:
    with pytest.raises(InvalidInput, match="contradictory") as raised:
        finder.find(business_type, answers)
    for name in names:
        assert name in raised.value.message


@pytest.mark.parametrize(("business_type", "answers", "question", "parent"), [
    ("restaurant", {"food_products": ["meatballs"]}, "food_products", "produces_for_separate_sale"),
    ("restaurant", {"produces_for_separate_sale": "no", "food_products": ["meatballs"]}, "food_products",
     "produces_for_separate_sale"),
    ("restaurant", {"builds_building": "yes", "building_special_types": ["high_rise"], "building_is_large": "yes"},
     "building_is_large", "building_special_types"),
    ("retail_shop", {"owner_type": "individual_under_1_8m", "sells_via_media": "yes"}, "sells_via_media",
     "owner_type"),
    ("hotel_resort", {"food_outlet_area_m2": 50}, "food_outlet_area_m2", "has_food_outlet"),
])
def test_a_follow_up_without_its_parent_answer_is_contradictory(finder: Finder, business_type: str,
                                                                answers: dict[str, object], question: str,
                                                                parent: str) -> None:
    with pytest.raises(InvalidInput, match=f"contradictory answers: question '{question}' is a follow-up") as raised:
        finder.find(business_type, answers)
    assert parent in raised.value.message
    assert raised.value.details["question"] == question


# --- definitions that cannot be used ----------------------------------------------------------------------------

def _minimal() -> dict[str, Any]:
    return {
        "code": "bakery", "name_th": "ร้านเบเกอรี่", "name_en": "Bakery",
        "questions": [
            {"id": "sells_alcohol", "text_th": "ขายสุราหรือไม่", "text_en": "Sell alcohol?", "type": "single",
             "choices": [{"id": "yes", "text_th": "ใช่", "text_en": "Yes"},
                         {"id": "no", "text_th": "ไม่ใช่", "text_en": "No"}]},
            {"id": "area_m2", "text_th": "พื้นที่", "text_en": "Area", "type": "number", "unit": "m2",
             "shown_if": {"question": "sells_alcohol", "equals": "yes"}},
        ],
        "rules": [
            {"licence": "b_licence", "required": False,
             "when": {"all": [{"question": "sells_alcohol", "equals": "yes"}]},
             "reason_th": "ขายสุรา", "reason_en": "sells alcohol"},
            {"licence": "a_licence", "required": False, "when": {"all": [{"question": "area_m2", "at_least": 10}]},
             "reason_th": "พื้นที่", "reason_en": "area"},
            {"licence": "c_licence", "required": True, "reason_th": "เสมอ", "reason_en": "always"},
        ],
    }


CODES = {"a_licence", "b_licence", "c_licence", FOOD_FAMILY, "hh_entertainment"}


def _write(tmp_path: Path, document: dict[str, Any], name: str = "bakery.yaml") -> Path:
    (tmp_path / name).write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    return tmp_path


def test_a_minimal_file_loads_and_orders_prerequisites_first(tmp_path: Path) -> None:
    finder = load_finder(_write(tmp_path, _minimal()), CODES, {"a_licence": ["b_licence"]})
    found = finder.find("bakery", {"sells_alcohol": "yes", "area_m2": 12})
    # c is required so it comes first among the ready ones; b before a because a needs b.
    assert [f.code for f in found] == ["c_licence", "b_licence", "a_licence"]
    without = load_finder(tmp_path, CODES, {})
    assert [f.code for f in without.find("bakery", {"sells_alcohol": "yes", "area_m2": 12})] == [
        "c_licence", "a_licence", "b_licence"]


def _broken(change: Any) -> dict[str, Any]:
    document = _minimal()
    change(document)
    return document


@pytest.mark.parametrize(("change", "fragment"), [
    (lambda d: d["rules"][0].update(licence="no_such_licence"), "rules[0].licence: unknown licence code"),
    (lambda d: d["rules"][0].update(licence="hh_food_butter"),
     "rules[0].licence: unknown licence code 'hh_food_butter'"),
    (lambda d: d["rules"][0].update(sub_type="hh_food_unknown", licence=FOOD_FAMILY),
     "rules[0].sub_type: 'hh_food_unknown' is not a sub-type"),
    (lambda d: d.update(code="cake_shop"), "code: 'cake_shop' must match the file name"),
    (lambda d: d["rules"][2].update(when={"all": [{"question": "sells_alcohol", "equals": "yes"}]}),
     "a required licence is listed for every business"),
    (lambda d: d["rules"][0].pop("when"), "needs a `when` condition"),
    (lambda d: d["rules"][0]["when"]["all"][0].update(equals="maybe"), "has no choice 'maybe'"),
    (lambda d: d["rules"][0]["when"]["all"][0].update(equals=True),
     'rules[0] (b_licence).when.all[0].equals: Input should be a valid string (YAML reads a bare yes/no as '
     'true/false: write "yes" or "no" in quotes)'),
    (lambda d: d["rules"][0]["when"]["all"][0].update(includes="yes"), "needs exactly one of"),
    (lambda d: d["rules"][0]["when"]["all"][0].update(question="unknown_question"),
     "question 'unknown_question' is not defined"),
    (lambda d: d["rules"][1]["when"]["all"][0].update(question="sells_alcohol"),
     "`at_least` does not apply to single question 'sells_alcohol'"),
    (lambda d: d["questions"].reverse(), "must be defined before its follow-up"),
    (lambda d: d["questions"][0]["choices"].append({"id": "yes", "text_th": "ใช่", "text_en": "Yes"}),
     "duplicate choice id 'yes'"),
    (lambda d: d["questions"][0]["choices"][0].update(exclusive=True), "belong to multi questions"),
    (lambda d: d["questions"][1].update(type="multi"), "only a number question has a unit"),
    (lambda d: d["questions"].append({"id": "orphan", "text_th": "ก", "text_en": "a", "type": "number"}),
     "questions orphan lead to no licence"),
    (lambda d: d["questions"][0].update(id="Sells Alcohol"), "questions[0] (Sells Alcohol).id"),
    (lambda d: d.update(extra_field=1), "extra_field: Extra inputs are not permitted"),
])
def test_a_bad_file_is_rejected_naming_file_and_field(tmp_path: Path, change: Any, fragment: str) -> None:
    root = _write(tmp_path, _broken(change))
    with pytest.raises(DefinitionError) as raised:
        load_finder(root, CODES, {}, sub_types={FOOD_FAMILY: {"hh_food_butter"}})
    assert "bakery.yaml" in raised.value.message
    assert fragment in raised.value.message


def test_a_replaced_food_code_hints_at_the_family(tmp_path: Path) -> None:
    root = _write(tmp_path, _broken(lambda d: d["rules"][0].update(licence="hh_food_meatballs")))
    with pytest.raises(DefinitionError) as raised:
        load_finder(root, CODES, {})
    assert raised.value.hint == f"use licence {FOOD_FAMILY} with sub_type hh_food_meatballs"


def test_unreadable_files_and_prerequisite_cycles_stop_loading(tmp_path: Path) -> None:
    with pytest.raises(DefinitionError, match="no licence-finder files"):
        load_finder(tmp_path, CODES, {})
    (tmp_path / "bakery.yaml").write_text("code: [unclosed", encoding="utf-8")
    with pytest.raises(DefinitionError, match="bakery.yaml: cannot be read as YAML"):
        load_finder(tmp_path, CODES, {})
    _write(tmp_path, _minimal())
    with pytest.raises(DefinitionError, match="cycle: a_licence -> b_licence -> a_licence"):
        load_finder(tmp_path, CODES, {"a_licence": ["b_licence"], "b_licence": ["a_licence"]})
